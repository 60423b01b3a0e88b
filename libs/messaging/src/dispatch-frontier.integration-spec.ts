import { type Admin, type Kafka } from 'kafkajs';
import { inboundEventContract } from '@skyhook/contracts';
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
import { decodeDispatchFrontier, encodeDispatchFrontier } from './dispatch-frontier';
import { consumerGroupIdOf, type KafkaSettings, topicNameOf } from './kafka-config';

const MAX_PENDING = 4;
const RECORDS = 10;

/**
 * What a member's handler was given: each offset, and whether it came marked as possibly handled
 * before. A holding handler dispatches the records `dispatches` allows (waits for the frontier
 * to cover them, as the dispatcher does before a webhook goes out), then holds every record
 * until released or the consumer stops, like a webhook whose attempt event has not reached the
 * broker, or one waiting for its endpoint.
 */
class SeenRecords {
  readonly marked: string[] = [];
  readonly unmarked: string[] = [];
  readonly dispatched: string[] = [];
  private readonly held = new Map<string, () => void>();

  constructor(
    private readonly holding: boolean,
    private readonly dispatches: (offset: string) => boolean = () => true,
  ) {}

  get all(): string[] {
    return [...this.marked, ...this.unmarked].sort((a, b) => Number(a) - Number(b));
  }

  readonly handle = async (
    record: ConsumedRecord,
    stopping: AbortSignal,
    beforeDispatch: () => Promise<void>,
  ): Promise<void> => {
    if (!this.all.includes(record.offset)) {
      (record.possiblyHandledBefore === true ? this.marked : this.unmarked).push(record.offset);
    }
    if (this.dispatches(record.offset)) {
      await beforeDispatch();
      this.dispatched.push(record.offset);
    }
    if (!this.holding) return;
    await new Promise<void>((resolve, reject) => {
      const unregister = onAbort(stopping, () => reject(new Error('consumer stopping')));
      this.held.set(record.offset, () => {
        unregister();
        resolve();
      });
    });
  };

  release(offset: string): void {
    const release = this.held.get(offset);
    if (release === undefined) throw new Error(`offset ${offset} is not in the handler`);
    this.held.delete(offset);
    release();
  }
}

describe('ConcurrentConsumer dispatch frontier against a real broker', () => {
  let settings: KafkaSettings;
  let kafka: Kafka;
  let admin: Admin;
  let producer: ContractProducer;
  let bed: InboundEventsTestBed;
  const logger = testLogger();
  const group = 'dispatch-frontier-spec';

  beforeEach(async () => {
    bed = await startInboundEventsTestBed(1);
    ({ settings, kafka, admin, producer } = bed);
  });

  afterEach(() => bed.close());

  const member = (seen: SeenRecords, dispatchFrontierLeadMs = 0) =>
    new ConcurrentConsumer(
      kafka,
      settings,
      {
        group,
        routes: [{ topicKey: 'inboundEvents', contract: inboundEventContract }],
        handleRecord: seen.handle,
        handleRejected: () => Promise.reject(new Error('no record here breaks its contract')),
        maxPendingPerPartition: MAX_PENDING,
        dispatchFrontier: true,
        dispatchFrontierLeadMs,
      },
      logger,
    );

  async function committed(): Promise<{ offset: string; frontier: bigint | undefined }> {
    const [topicOffsets] = await admin.fetchOffsets({
      groupId: consumerGroupIdOf(settings, group),
      topics: [topicNameOf(settings, 'inboundEvents')],
    });
    const partition = topicOffsets?.partitions.find((candidate) => candidate.partition === 0);
    return { offset: partition?.offset ?? '-1', frontier: decodeDispatchFrontier(partition?.metadata) };
  }

  async function produce(from: number, count: number): Promise<void> {
    await producer.send(
      inboundEventContract,
      'inboundEvents',
      Array.from({ length: count }, (_, i) => numberedEvent(from + i, 'org-1')),
    );
  }

  /** A member that takes every record at once and hands it on, until the partition is committed to `end`. */
  async function drainWithNewMember(end: number): Promise<SeenRecords> {
    const seen = new SeenRecords(false);
    const next = member(seen);
    await next.start();
    try {
      await pollUntil(async () => (await committed()).offset === String(end), {
        timeoutMs: JOIN_TIMEOUT_MS,
        description: `offsets committed up to ${end}`,
      });
    } finally {
      await next.stop();
    }
    return seen;
  }

  it(
    'records the frontier of what a member dispatched before dispatching it; the next member gets the records ' +
      'up to it left uncommitted marked, the ones after it unmarked; a stop that handed everything on leaves nothing marked',
    async () => {
      await produce(0, RECORDS);
      // Offsets 3 and 5 wait (for their endpoint, say) and are never dispatched.
      const first = new SeenRecords(true, (offset) => offset !== '3' && offset !== '5');
      const crashing = member(first);
      await crashing.start();
      try {
        // The cap is taken (0-3) and 0-2 dispatched; once two finish, two more (4, 5), and 4 is dispatched.
        await pollUntil(() => first.dispatched.length === 3, {
          timeoutMs: JOIN_TIMEOUT_MS,
          description: 'the first member dispatching',
        });
        expect(first.all).toEqual(offsetRange(0, 3));
        expect((await committed()).frontier).toBe(2n);
        first.release('0');
        first.release('1');
        await pollUntil(async () => first.dispatched.length === 4 && (await committed()).offset === '2', {
          description: 'two finished and committed, two more taken, one dispatched',
        });
        expect(first.all).toEqual(offsetRange(0, 5));
        expect(await committed()).toEqual({ offset: '2', frontier: 4n });
        expect(first.marked).toEqual([]);
      } finally {
        // Its last commits are in: what a kill now would leave. Stopping aborts the held records
        // (their webhooks, in the dispatcher, may have gone out) and commits nothing new.
        await crashing.stop(0);
      }
      expect(await committed()).toEqual({ offset: '2', frontier: 4n });

      const second = await drainWithNewMember(RECORDS);
      // 3 was never dispatched, but lies below one that was: a frontier is one offset.
      expect(second.marked).toEqual(offsetRange(2, 4));
      expect(second.unmarked).toEqual(offsetRange(5, RECORDS - 1));
      // Everything handed on and committed: the frontier left is the committed offset's record before.
      expect(await committed()).toEqual({ offset: String(RECORDS), frontier: BigInt(RECORDS - 1) });

      await produce(RECORDS, 2);
      const third = await drainWithNewMember(RECORDS + 2);
      expect(third.marked).toEqual([]);
      expect(third.unmarked).toEqual(offsetRange(RECORDS, RECORDS + 1));
    },
    120_000,
  );

  it('with a lead, records the frontier ahead of what was taken, and the next member gets exactly the records up to it marked', async () => {
    await produce(0, RECORDS);
    const first = new SeenRecords(true);
    const leading = member(first, 5_000);
    await leading.start();
    try {
      await pollUntil(() => first.dispatched.length === MAX_PENDING, {
        timeoutMs: JOIN_TIMEOUT_MS,
        description: 'the first member dispatching',
      });
    } finally {
      await leading.stop(0);
    }
    // Every record taken (0-3) is covered, and more: the ones taken in the last 5 s again.
    const { frontier } = await committed();
    expect(frontier).toBeGreaterThan(BigInt(MAX_PENDING - 1));
    const second = await drainWithNewMember(RECORDS);
    const lastMarked = Math.min(Number(frontier), RECORDS - 1);
    expect(second.marked).toEqual(offsetRange(0, lastMarked));
    expect(second.unmarked).toEqual(
      lastMarked === RECORDS - 1 ? [] : offsetRange(lastMarked + 1, RECORDS - 1),
    );
  }, 120_000);

  it(
    'marks every record up to a frontier a killed member recorded, however few of them it committed, ' +
      'and none after it',
    async () => {
      await produce(0, RECORDS);
      // A member that recorded its frontier at 7 for a batch it was dispatching, committed the
      // first two records, and was killed: nothing else of it reaches the group.
      const killed = kafka.consumer({
        groupId: consumerGroupIdOf(settings, group),
        sessionTimeout: settings.sessionTimeoutMs,
        heartbeatInterval: settings.heartbeatIntervalMs,
      });
      const topic = topicNameOf(settings, 'inboundEvents');
      let recorded = false;
      await killed.connect();
      await killed.subscribe({ topics: [topic], fromBeginning: true });
      try {
        await killed.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ commitOffsetsIfNecessary }) => {
            if (recorded) return;
            const commit = { partition: 0, offset: '2', metadata: encodeDispatchFrontier(7n) };
            await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [commit] }] });
            recorded = true;
          },
        });
        await pollUntil(() => recorded, { timeoutMs: JOIN_TIMEOUT_MS, description: 'the frontier recorded' });
      } finally {
        await killed.disconnect();
      }

      const next = await drainWithNewMember(RECORDS);
      expect(next.marked).toEqual(offsetRange(2, 7));
      expect(next.unmarked).toEqual(offsetRange(8, RECORDS - 1));
    },
    120_000,
  );
});
