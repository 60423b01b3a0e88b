import {
  type DeliveryHistoryWriter,
  type EncodedDeliveryEvent,
  prepareHistoryBatch,
} from '@skyhook/delivery-history';
import { type ServiceLogger } from '@skyhook/observability';
import { type DeliveryHistoryPartitions } from '@skyhook/persistence';
import { Registry } from 'prom-client';
import { DeliveryHistoryProjector } from './delivery-history.projector';
import { createHistoryMetrics } from './history-metrics';

const broken = (text: string): EncodedDeliveryEvent => ({ value: Buffer.from(text), schema: undefined });

/** A projector whose writes wait until the test releases them. */
function projectorWithHeldWrites() {
  const writes: { release: () => void }[] = [];
  const writer = {
    writeRows: () => new Promise<number>((resolve) => writes.push({ release: () => resolve(0) })),
  };
  const preparation = {
    prepare: (records: readonly EncodedDeliveryEvent[], oldestRetainedDayMs: number) => {
      const prepared = prepareHistoryBatch(records, oldestRetainedDayMs);
      return Promise.resolve(prepared);
    },
  };
  const partitions = { ensureDays: () => Promise.resolve(), forgetDays: () => undefined };
  const logger = { warn: () => undefined } as unknown as ServiceLogger;
  const projector = new DeliveryHistoryProjector(
    preparation,
    partitions as unknown as DeliveryHistoryPartitions,
    writer as unknown as DeliveryHistoryWriter,
    createHistoryMetrics(new Registry()),
    logger,
    { retentionDays: 30 },
  );
  return { projector, writes };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the history projector', () => {
  it('writes calls that arrive while its writes are busy in one transaction, and hands each call its own broken records', async () => {
    const { projector, writes } = projectorWithHeldWrites();
    const first = projector.project([broken('not json')]);
    const second = projector.project([broken('{}')]);
    await settle();
    expect(writes).toHaveLength(2);

    const third = projector.project([broken('[]'), broken('still not json')]);
    const fourth = projector.project([broken('"a string"')]);
    await settle();
    expect(writes).toHaveLength(2);

    writes[0]?.release();
    await settle();
    // The two waiting calls went together: one more transaction, not two.
    expect(writes).toHaveLength(3);
    writes[1]?.release();
    writes[2]?.release();

    expect((await first).map((record) => record.index)).toEqual([0]);
    expect((await second).map((record) => record.index)).toEqual([0]);
    expect((await third).map((record) => record.index)).toEqual([0, 1]);
    expect((await fourth).map((record) => record.index)).toEqual([0]);
    expect(writes).toHaveLength(3);
  });
});
