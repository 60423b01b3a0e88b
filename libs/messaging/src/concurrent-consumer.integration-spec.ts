import { type Admin, type Kafka } from 'kafkajs';
import { inboundEventContract, type InboundEvent } from '@skyhook/contracts';
import { pollUntil, testLogger } from '@skyhook/testing';
import {
  type InboundEventsTestBed,
  JOIN_TIMEOUT_MS,
  numberedEvent,
  offsetRange,
  startInboundEventsTestBed,
} from './test/inbound-events-test-bed';
import { onAbort } from './abort-listeners';
import { ConcurrentConsumer } from './concurrent-consumer';
import { type ConsumedRecord } from './consumed-records';
import { type ContractProducer } from './contract-producer';
import { type KafkaSettings, topicNameOf } from './kafka-config';

const MAX_PENDING = 4;
const RECORDS = 10;

const eventNumbered = (n: number): InboundEvent => numberedEvent(n, 'org-1');

/**
 * A handler that holds each record until the test releases it (or the consumer stops), and
 * keeps what it saw: every offset it was called with, in order, and the most it held at once.
 */
class HeldRecords {
  readonly seen: string[] = [];
  readonly finished: string[] = [];
  mostAtOnce = 0;
  private readonly held = new Map<string, () => void>();
  private holding = true;

  get inHandler(): string[] {
    return [...this.held.keys()];
  }

  readonly handle = async (record: ConsumedRecord, stopping: AbortSignal): Promise<void> => {
    this.seen.push(record.offset);
    if (this.holding) {
      await new Promise<void>((resolve, reject) => {
        const unregister = onAbort(stopping, () => reject(new Error('consumer stopping')));
        this.held.set(record.offset, () => {
          unregister();
          resolve();
        });
        this.mostAtOnce = Math.max(this.mostAtOnce, this.held.size);
      });
    }
    this.finished.push(record.offset);
  };

  release(offset: string): void {
    const release = this.held.get(offset);
    if (release === undefined) throw new Error(`offset ${offset} is not in the handler`);
    this.held.delete(offset);
    release();
  }

  /** Lets every held record finish, and every later one straight through. */
  releaseAll(): void {
    this.holding = false;
    for (const offset of this.inHandler) this.release(offset);
  }
}

describe('ConcurrentConsumer against a real broker', () => {
  let settings: KafkaSettings;
  let kafka: Kafka;
  let admin: Admin;
  let producer: ContractProducer;
  const logger = testLogger();

  let bed: InboundEventsTestBed;

  beforeEach(async () => {
    // One partition: every record competes for the same cap.
    bed = await startInboundEventsTestBed(1);
    ({ settings, kafka, admin, producer } = bed);
  });

  afterEach(() => bed.close());

  async function committedOffset(groupId: string): Promise<string | undefined> {
    const [topicOffsets] = await admin.fetchOffsets({
      groupId,
      topics: [topicNameOf(settings, 'inboundEvents')],
    });
    return topicOffsets?.partitions.find((partition) => partition.partition === 0)?.offset;
  }

  it(
    'pauses a partition holding its cap of unfinished records, resumes it once half of them finish, ' +
      'and handles and commits every record once',
    async () => {
      const topic = topicNameOf(settings, 'inboundEvents');
      await producer.send(
        inboundEventContract,
        'inboundEvents',
        Array.from({ length: RECORDS }, (_, n) => eventNumbered(n)),
      );

      const handler = new HeldRecords();
      const consumer = new ConcurrentConsumer(
        kafka,
        settings,
        {
          group: 'concurrent-consumer-spec',
          routes: [{ topicKey: 'inboundEvents', contract: inboundEventContract }],
          handleRecord: handler.handle,
          handleRejected: () => Promise.reject(new Error('no record here breaks its contract')),
          maxPendingPerPartition: MAX_PENDING,
        },
        logger,
      );
      const isPaused = () =>
        consumer.pausedPartitions().some((paused) => paused.topic === topic && paused.partitions.includes(0));

      await consumer.start();
      try {
        // The cap is reached: the first four are in the handler and the partition is paused.
        await pollUntil(() => isPaused() || handler.seen.length > MAX_PENDING, {
          timeoutMs: JOIN_TIMEOUT_MS,
          description: 'partition paused or records past the cap taken',
        });
        expect(handler.seen).toEqual(offsetRange(0, 3));
        expect(isPaused()).toBe(true);
        expect(handler.inHandler).toEqual(offsetRange(0, 3));
        expect(consumer.pending).toBe(MAX_PENDING);

        // One finishes: three are pending, more than half the cap, so the partition stays paused.
        // Its commit coming through shows the consumer running on meanwhile without taking more.
        handler.release('0');
        await pollUntil(async () => (await committedOffset(consumer.groupId)) === '1', {
          description: 'offset 0 committed',
        });
        expect(consumer.pending).toBe(MAX_PENDING - 1);
        expect(isPaused()).toBe(true);
        expect(handler.seen).toEqual(offsetRange(0, 3));

        // A second finishes: half the cap is pending, the partition is resumed and the next two
        // records come in, which fills the cap and pauses it again.
        handler.release('1');
        await pollUntil(() => handler.seen.length === 6 && isPaused(), {
          description: 'partition resumed up to the cap again',
        });
        expect(handler.seen).toEqual(offsetRange(0, 5));
        expect(handler.inHandler).toEqual(offsetRange(2, 5));

        // Everything is let through: the rest of the partition is handled and committed.
        handler.releaseAll();
        await pollUntil(async () => (await committedOffset(consumer.groupId)) === String(RECORDS), {
          description: 'every offset committed',
        });
        expect(isPaused()).toBe(false);
        expect(consumer.pending).toBe(0);
      } finally {
        await consumer.stop();
      }

      // Each record reached the handler once, in offset order, and finished once.
      expect(handler.seen).toEqual(offsetRange(0, RECORDS - 1));
      expect([...handler.finished].sort((a, b) => Number(a) - Number(b))).toEqual(
        offsetRange(0, RECORDS - 1),
      );
      expect(handler.mostAtOnce).toBe(MAX_PENDING);
    },
    90_000,
  );
});

describe('ConcurrentConsumer with a pending budget, against a real broker', () => {
  const PARTITIONS = 4;
  const PER_PARTITION_CAP = 10;
  let bed: InboundEventsTestBed;

  beforeEach(async () => {
    bed = await startInboundEventsTestBed(PARTITIONS);
  });

  afterEach(() => bed.close());

  it(
    'holds no more than its budget over all partitions while nothing finishes, every partition ' +
      'taking its even share, and handles every record once it is let through',
    async () => {
      const { settings, kafka, producer } = bed;
      const records = 120;
      // Organisations spread over the four partitions.
      await producer.send(
        inboundEventContract,
        'inboundEvents',
        Array.from({ length: records }, (_, n) => numberedEvent(n, `org-${n % 24}`)),
      );
      const held: (() => void)[] = [];
      let holding = true;
      const takenPerPartition = new Map<number, number>();
      /** Event ids handled. */
      const handled = new Set<string>();
      const consumer = new ConcurrentConsumer(
        kafka,
        settings,
        {
          group: 'concurrent-consumer-budget-spec',
          routes: [{ topicKey: 'inboundEvents', contract: inboundEventContract }],
          handleRecord: async (record) => {
            takenPerPartition.set(record.partition, (takenPerPartition.get(record.partition) ?? 0) + 1);
            if (holding) await new Promise<void>((resolve) => held.push(resolve));
            // By event: a send retried while the new topic's leaders settle may store some twice.
            handled.add((record.value as InboundEvent).id);
          },
          handleRejected: () => Promise.reject(new Error('no record here breaks its contract')),
          maxPendingPerPartition: PER_PARTITION_CAP,
          // Nothing finishes: the budget is its floor, the per-partition cap (10), and the even
          // share of a partition over it is 10 / 4 = 2.
          pendingHorizonMs: 1_000,
        },
        testLogger(),
      );
      await consumer.start();
      try {
        await pollUntil(() => takenPerPartition.size === PARTITIONS, {
          timeoutMs: JOIN_TIMEOUT_MS,
          description: 'records of every partition taken',
        });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        // Without the budget each partition would hold its cap: 40.
        expect(consumer.pending).toBeGreaterThanOrEqual(PER_PARTITION_CAP);
        expect(consumer.pending).toBeLessThanOrEqual(PER_PARTITION_CAP + (PARTITIONS - 1) * 2);

        holding = false;
        for (const release of held.splice(0)) release();
        await pollUntil(() => handled.size === records, { description: 'every record handled' });
        expect(consumer.pending).toBe(0);
      } finally {
        await consumer.stop();
      }
    },
    90_000,
  );
});
