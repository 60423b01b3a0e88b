import { type Admin, type Kafka } from 'kafkajs';
import {
  ContractViolationCode,
  ContractViolationError,
  inboundEventContract,
  type InboundEvent,
} from '@skyhook/contracts';
import { runWithTraceId } from '@skyhook/observability';
import { pollUntil, testLogger } from '@skyhook/testing';
import {
  type InboundEventsTestBed,
  numberedEvent,
  startInboundEventsTestBed,
} from './test/inbound-events-test-bed';
import { type ConsumedRecord, type RejectedRecord } from './consumed-records';
import { ContractConsumer } from './contract-consumer';
import { type ContractProducer } from './contract-producer';
import { type KafkaSettings, consumerGroupIdOf, topicNameOf } from './kafka-config';

const eventNumbered = (n: number): InboundEvent => numberedEvent(n);

describe('ContractConsumer against a real broker', () => {
  let settings: KafkaSettings;
  let kafka: Kafka;
  let admin: Admin;
  let producer: ContractProducer;
  const logger = testLogger();

  let bed: InboundEventsTestBed;

  beforeEach(async () => {
    bed = await startInboundEventsTestBed(3);
    ({ settings, kafka, admin, producer } = bed);
  });

  afterEach(() => bed.close());

  function consumerCollecting(
    handled: ConsumedRecord[],
    rejected: RejectedRecord[] = [],
    handle: (record: ConsumedRecord) => Promise<void> = () => Promise.resolve(),
  ): ContractConsumer {
    return new ContractConsumer(
      kafka,
      settings,
      {
        group: 'consumer-spec',
        routes: [{ topicKey: 'inboundEvents', contract: inboundEventContract }],
        handleRecord: async (record) => {
          await handle(record);
          handled.push(record);
        },
        handleRejected: (record) => {
          rejected.push(record);
          return Promise.resolve();
        },
      },
      logger,
    );
  }

  /** Records produced as they are, past the contract: what a careless producer could write. */
  async function produceAsIs(messages: { key: string; value: string }[]): Promise<void> {
    const rawProducer = kafka.producer();
    await rawProducer.connect();
    try {
      await rawProducer.send({ topic: topicNameOf(settings, 'inboundEvents'), messages });
    } finally {
      await rawProducer.disconnect();
    }
  }

  async function committedOffsetTotal(): Promise<number> {
    const [topicOffsets] = await admin.fetchOffsets({
      groupId: consumerGroupIdOf(settings, 'consumer-spec'),
      topics: [topicNameOf(settings, 'inboundEvents')],
    });
    return (topicOffsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  }

  /**
   * Records in the topic, duplicates included: a produce request refused for one partition right
   * after the topic's creation ("not the leader") is sent again whole by kafkajs, so the other
   * partitions' records of that request may be stored twice (ADR 0014).
   */
  async function endOffsetTotal(): Promise<number> {
    const offsets = await admin.fetchTopicOffsets(topicNameOf(settings, 'inboundEvents'));
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  }

  const idsOf = (records: readonly ConsumedRecord[]): string[] =>
    [...new Set(records.map((record) => (record.value as InboundEvent).id))].sort();
  const positionsOf = (records: readonly ConsumedRecord[]): string[] =>
    records.map((record) => `${record.partition}:${record.offset}`);

  it('delivers every record once, commits, and resumes after a restart without loss or re-delivery', async () => {
    await producer.send(
      inboundEventContract,
      'inboundEvents',
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(eventNumbered),
    );

    const firstRun: ConsumedRecord[] = [];
    const first = consumerCollecting(firstRun);
    await first.start();
    await pollUntil(() => idsOf(firstRun).length === 10, { description: 'first ten records consumed' });
    await pollUntil(async () => (await committedOffsetTotal()) === (await endOffsetTotal()), {
      description: 'offsets committed',
    });
    await first.stop();

    await producer.send(inboundEventContract, 'inboundEvents', [11, 12, 13, 14, 15].map(eventNumbered));

    const secondRun: ConsumedRecord[] = [];
    const second = consumerCollecting(secondRun);
    await second.start();
    try {
      await pollUntil(() => idsOf(secondRun).length === 5, { description: 'five new records consumed' });
      // Give a re-delivery of already committed records the chance to show up before asserting.
      await pollUntil(async () => (await committedOffsetTotal()) === (await endOffsetTotal()), {
        description: 'all offsets committed',
      });
    } finally {
      await second.stop();
    }

    expect(idsOf(firstRun)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => `evt-${n}`).sort());
    expect(idsOf(secondRun)).toEqual([11, 12, 13, 14, 15].map((n) => `evt-${n}`).sort());
    // Each stored record once in all (no re-delivery across the restart), none skipped.
    const positions = [...positionsOf(firstRun), ...positionsOf(secondRun)];
    expect(new Set(positions).size).toBe(positions.length);
    expect(positions.length).toBe(await endOffsetTotal());
  });

  it('keeps per-key order within a partition', async () => {
    const events = Array.from({ length: 30 }, (_, i) => ({
      ...eventNumbered(i),
      organisationId: 'org-ordered',
    }));
    await producer.send(inboundEventContract, 'inboundEvents', events);
    const handled: ConsumedRecord[] = [];
    const consumer = consumerCollecting(handled);
    await consumer.start();
    try {
      await pollUntil(() => handled.length === 30, { description: 'thirty records consumed' });
    } finally {
      await consumer.stop();
    }
    expect(handled.map((record) => (record.value as InboundEvent).id)).toEqual(
      events.map((event) => event.id),
    );
  });

  it('re-delivers a record whose handler failed instead of skipping it', async () => {
    await producer.send(inboundEventContract, 'inboundEvents', [eventNumbered(1)]);
    let failuresLeft = 2;
    const handled: ConsumedRecord[] = [];
    const consumer = consumerCollecting(handled, [], () => {
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        return Promise.reject(new Error('downstream unavailable'));
      }
      return Promise.resolve();
    });
    await consumer.start();
    try {
      await pollUntil(() => handled.length === 1, { description: 'record handled after two failures' });
    } finally {
      await consumer.stop();
    }
    expect(failuresLeft).toBe(0);
    expect((handled[0]?.value as InboundEvent).id).toBe('evt-1');
  });

  it('keeps consuming, and commits, after a batched handler failed for longer than the session timeout', async () => {
    await producer.send(inboundEventContract, 'inboundEvents', [1, 2, 3, 4, 5, 6].map(eventNumbered));
    // A handler failing this long (a database outage) is retried in place with heartbeats in
    // between: the member must stay in its group (kafkajs' own retry sent none and got it
    // evicted), and the records must be handled and committed once the handler succeeds.
    const failUntil = Date.now() + settings.sessionTimeoutMs + 2_000;
    const handled = new Set<string>();
    let failures = 0;
    const consumer = new ContractConsumer(
      kafka,
      settings,
      {
        group: 'consumer-spec',
        routes: [{ topicKey: 'inboundEvents', contract: inboundEventContract }],
        handleRecord: () => Promise.reject(new Error('batched consumer got a single record')),
        handleRecords: (records) => {
          if (Date.now() < failUntil) {
            failures += 1;
            return Promise.reject(new Error('database unreachable'));
          }
          for (const record of records) handled.add((record.value as InboundEvent).id);
          return Promise.resolve();
        },
        maxRecordsPerCall: 100,
        handleRejected: () => Promise.resolve(),
      },
      logger,
    );
    await consumer.start();
    try {
      await pollUntil(
        async () => handled.size === 6 && (await committedOffsetTotal()) === (await endOffsetTotal()),
        {
          timeoutMs: 45_000,
          intervalMs: 200,
          description: 'every record handled and committed after the failures',
        },
      );
      expect(consumer.state).toBe('consuming');
      expect(failures).toBeGreaterThan(1);
    } finally {
      await consumer.stop();
    }
  });

  it('hands malformed records to the rejection handler and keeps consuming the partition', async () => {
    await produceAsIs([
      { key: 'org-x', value: '{"id": "broken' },
      { key: 'org-x', value: JSON.stringify({ ...eventNumbered(2), type: 'not a type' }) },
    ]);
    await producer.send(inboundEventContract, 'inboundEvents', [
      { ...eventNumbered(3), organisationId: 'org-x' },
    ]);

    const handled: ConsumedRecord[] = [];
    const rejected: RejectedRecord[] = [];
    const consumer = consumerCollecting(handled, rejected);
    await consumer.start();
    try {
      await pollUntil(() => handled.length === 1 && rejected.length === 2, {
        description: 'valid handled, two rejected',
      });
    } finally {
      await consumer.stop();
    }
    expect(rejected.map((record) => record.violation.code)).toEqual(['MALFORMED_JSON', 'SCHEMA_MISMATCH']);
    expect(rejected[0]?.value?.toString()).toBe('{"id": "broken');
    expect((handled[0]?.value as InboundEvent).id).toBe('evt-3');
  });

  it('gives a handler that decodes the bytes as they came, and rejects the records it names', async () => {
    await produceAsIs([
      { key: 'org-x', value: JSON.stringify({ ...eventNumbered(1), organisationId: 'org-x' }) },
      { key: 'org-x', value: '{"id": "broken' },
      { key: 'org-x', value: JSON.stringify({ ...eventNumbered(3), organisationId: 'org-x' }) },
    ]);

    const calls: ConsumedRecord[][] = [];
    const rejected: RejectedRecord[] = [];
    const consumer = new ContractConsumer(
      kafka,
      settings,
      {
        group: 'consumer-spec',
        routes: [{ topicKey: 'inboundEvents', contract: inboundEventContract, handlerDecodes: true }],
        handleRecord: () => Promise.reject(new Error('a decoding route is handled in calls')),
        handleRecords: (records) => {
          calls.push(records);
          // The handler's own decoding: here, whatever does not parse breaks the contract.
          const broken = records.flatMap((record, index) => {
            try {
              JSON.parse(String(record.value));
              return [];
            } catch {
              return [
                {
                  index,
                  violation: new ContractViolationError(ContractViolationCode.MalformedJson, 'not JSON'),
                },
              ];
            }
          });
          return Promise.resolve({ rejected: broken });
        },
        handleRejected: (record) => {
          rejected.push(record);
          return Promise.resolve();
        },
      },
      logger,
    );
    await consumer.start();
    try {
      await pollUntil(async () => rejected.length === 1 && (await committedOffsetTotal()) === 3, {
        description: 'the broken record rejected and all three committed',
      });
    } finally {
      await consumer.stop();
    }
    const given = calls.flat();
    expect(given.map((record) => Buffer.isBuffer(record.value))).toEqual([true, true, true]);
    expect(given.map((record) => (record.value as Buffer).toString())[1]).toBe('{"id": "broken');
    expect(rejected[0]).toMatchObject({ offset: given[1]?.offset, key: Buffer.from('org-x') });
    expect(rejected[0]?.violation.code).toBe('MALFORMED_JSON');
    expect(rejected[0]?.value?.toString()).toBe('{"id": "broken');
  });

  it('refuses a decoding route without a batched handler', () => {
    expect(
      () =>
        new ContractConsumer(
          kafka,
          settings,
          {
            group: 'consumer-spec',
            routes: [{ topicKey: 'inboundEvents', contract: inboundEventContract, handlerDecodes: true }],
            handleRecord: () => Promise.resolve(),
            handleRejected: () => Promise.resolve(),
          },
          logger,
        ),
    ).toThrow('handleRecords');
  });

  it('carries the producer trace id to the consumer', async () => {
    await runWithTraceId('trace-abc', () =>
      producer.send(inboundEventContract, 'inboundEvents', [eventNumbered(1)]),
    );
    const handled: ConsumedRecord[] = [];
    const consumer = consumerCollecting(handled);
    await consumer.start();
    try {
      await pollUntil(() => handled.length === 1, { description: 'record consumed' });
    } finally {
      await consumer.stop();
    }
    expect(handled[0]?.traceId).toBe('trace-abc');
  });
});
