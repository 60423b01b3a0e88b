import {
  type Kafka,
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  type ProducerBatch,
  type ProducerConfig,
} from 'kafkajs';
import { pollUntil } from '@skyhook/testing';
import { ProducerHealthBoard } from './producer-health';
import {
  KafkaRecordsRejectedError,
  KafkaSendFailedError,
  recordRejectionOf,
  ReplaceableProducer,
  splitByPartition,
} from './replaceable-producer';

/** A kafkajs producer stand-in whose connects and sends answer as the test says. */
class FakeProducer {
  connected = false;
  disconnected = false;
  sends = 0;
  constructor(
    readonly config: ProducerConfig | undefined,
    private readonly answer: { connect: () => Promise<void>; send: () => Promise<void> },
  ) {}
  connect = async (): Promise<void> => {
    await this.answer.connect();
    this.connected = true;
  };
  disconnect = (): Promise<void> => {
    this.disconnected = true;
    return Promise.resolve();
  };
  sendBatch = (): Promise<void> => {
    this.sends += 1;
    return this.answer.send();
  };
}

function fakeKafka(answer: { connect: () => Promise<void>; send: () => Promise<void> }) {
  const made: FakeProducer[] = [];
  const kafka = {
    producer: (config?: ProducerConfig) => {
      const producer = new FakeProducer(config, answer);
      made.push(producer);
      return producer;
    },
  } as unknown as Kafka;
  return { kafka, made };
}

const batch = { topicMessages: [{ topic: 't', messages: [{ value: 'v' }] }] };

describe('ReplaceableProducer', () => {
  it('is not idempotent and keeps one request in flight, so an unanswered request is never de-duplicated against others', async () => {
    const { kafka, made } = fakeKafka({ connect: () => Promise.resolve(), send: () => Promise.resolve() });
    const producer = new ReplaceableProducer(kafka, 'test');
    await producer.connect(1_000);
    expect(made[0]?.config).toMatchObject({ idempotent: false, maxInFlightRequests: 1 });
    await producer.disconnect();
  });

  it('after a send with an unknown outcome, sends through a new producer and reports not ready until then', async () => {
    let failSends = true;
    const { kafka, made } = fakeKafka({
      connect: () => Promise.resolve(),
      send: () => (failSends ? Promise.reject(new Error('Connection closed')) : Promise.resolve()),
    });
    const health = new ProducerHealthBoard();
    const producer = new ReplaceableProducer(kafka, 'attempt-events', { health });
    await producer.connect(1_000);

    const failed = producer.sendBatch(batch);
    await expect(failed).rejects.toBeInstanceOf(KafkaSendFailedError);
    await expect(failed).rejects.toMatchObject({ cause: new Error('Connection closed') });
    expect(made[0]?.disconnected).toBe(true);
    await expect(health.assertReady()).rejects.toThrow(/producer attempt-events .*Connection closed/);

    failSends = false;
    await producer.sendBatch(batch);
    expect(made.at(-1)?.sends).toBe(1);
    expect(made.at(-1)).not.toBe(made[0]);
    await expect(health.assertReady()).resolves.toBeUndefined();
    await producer.disconnect();
  });

  it('reconnects a replaced producer in the background, so readiness recovers with no traffic', async () => {
    let brokerUp = false;
    const { kafka } = fakeKafka({
      connect: () => (brokerUp ? Promise.resolve() : Promise.reject(new Error('ECONNREFUSED'))),
      send: () => Promise.reject(new Error('Connection closed')),
    });
    brokerUp = true;
    const health = new ProducerHealthBoard();
    const producer = new ReplaceableProducer(kafka, 'contract', { health });
    await producer.connect(1_000);
    brokerUp = false;
    await expect(producer.sendBatch(batch)).rejects.toBeInstanceOf(KafkaSendFailedError);
    // While the broker is away, a send fails at once (no producer can connect).
    await expect(producer.sendBatch(batch)).rejects.toMatchObject({ cause: new Error('ECONNREFUSED') });
    expect(health.failing()).toHaveLength(1);

    brokerUp = true;
    await pollUntil(() => health.failing().length === 0, { timeoutMs: 5_000, description: 'ready again' });
    await producer.disconnect();
  });

  it('disconnects a successor that finishes connecting after the producer was closed, and sends nothing through it', async () => {
    let finishConnect: () => void = () => undefined;
    let connects = 0;
    const { kafka, made } = fakeKafka({
      connect: () => {
        connects += 1;
        return connects === 1 ? Promise.resolve() : new Promise<void>((resolve) => (finishConnect = resolve));
      },
      send: () => Promise.reject(new Error('Connection closed')),
    });
    const health = new ProducerHealthBoard();
    const producer = new ReplaceableProducer(kafka, 'contract', { health });
    await producer.connect(1_000);
    await expect(producer.sendBatch(batch)).rejects.toBeInstanceOf(KafkaSendFailedError);
    // A send starts the successor's connect; the service shuts down while it is under way.
    const sending = producer.sendBatch(batch);
    const closing = producer.disconnect();
    finishConnect();
    await closing;
    await expect(sending).rejects.toBeInstanceOf(KafkaSendFailedError);
    expect(made).toHaveLength(2);
    expect(made[1]?.disconnected).toBe(true);
    expect(made[1]?.sends).toBe(0);
  });

  it('retries a first connect refused while the cluster comes up with fresh producers, and fails at once on one no retry mends', async () => {
    let refusals = 2;
    const { kafka, made } = fakeKafka({
      connect: () =>
        refusals-- > 0
          ? Promise.reject(
              new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
            )
          : Promise.resolve(),
      send: () => Promise.resolve(),
    });
    const health = new ProducerHealthBoard();
    const producer = new ReplaceableProducer(kafka, 'contract', { health });
    await producer.connect(10_000);
    expect(made).toHaveLength(3);
    expect(made.slice(0, 2).every((refused) => refused.disconnected)).toBe(true);
    expect(health.failing()).toEqual([]);
    await producer.disconnect();

    const refusedForGood = fakeKafka({
      connect: () => Promise.reject(new KafkaJSNonRetriableError('SASL PLAIN authentication failed')),
      send: () => Promise.resolve(),
    });
    await expect(new ReplaceableProducer(refusedForGood.kafka, 'contract').connect(10_000)).rejects.toThrow(
      'SASL PLAIN authentication failed',
    );
    expect(refusedForGood.made).toHaveLength(1);
  });

  it("retries a send whose partition's leadership moved as one whole new send, not through kafkajs' own retry", async () => {
    // kafkajs' retry re-sends only to brokers that have not answered: records of a partition that
    // moved to a broker which already answered were never sent again, and the send resolved.
    const leaderMoved = Object.assign(new Error('This server is not the leader for that topic-partition'), {
      name: 'KafkaJSProtocolError',
      type: 'NOT_LEADER_OR_FOLLOWER',
      retriable: true,
    });
    let failures = 2;
    const sent: unknown[] = [];
    const { kafka, made } = fakeKafka({
      connect: () => Promise.resolve(),
      send: () => (failures-- > 0 ? Promise.reject(leaderMoved) : Promise.resolve()),
    });
    made.length = 0;
    const health = new ProducerHealthBoard();
    const producer = new ReplaceableProducer(kafka, 'attempt-events', { health });
    await producer.connect(1_000);
    const original = made[0]!.sendBatch;
    made[0]!.sendBatch = (...args: unknown[]) => {
      sent.push(args[0]);
      return original();
    };

    await producer.sendBatch(batch);
    expect(made[0]?.config).toMatchObject({ retry: { retries: 0 } });
    expect(made).toHaveLength(1);
    expect(made[0]?.sends).toBe(3);
    expect(sent).toEqual([batch, batch, batch].map((whole) => ({ acks: -1, ...whole })));
    await expect(health.assertReady()).resolves.toBeUndefined();
    await producer.disconnect();
  });

  it('sends what failed again partition by partition, so records a live broker stored are not stored on every retry while another broker is down', async () => {
    // Three partitions led by brokers 1, 2 and 3; broker 3 is killed. Like kafkajs, a send stores
    // the parts of live leaders and fails as a whole, until broker 3's partition has a new leader.
    const stored = new Map<string, number>();
    let brokerThreeDownFor = 4;
    const partitionMetadata = [1, 2, 3].map((leader, partitionId) => ({
      partitionId,
      leader,
      replicas: [1, 2, 3],
      isr: [1, 2, 3],
      partitionErrorCode: 0,
    }));
    const { kafka, made } = fakeKafka({ connect: () => Promise.resolve(), send: () => Promise.resolve() });
    const producer = new ReplaceableProducer(kafka, 'delivery-requests');
    await producer.connect(1_000);
    const fake = made[0]!;
    const partitioner = fake.config!.createPartitioner!();
    fake.sendBatch = (...args: unknown[]) => {
      fake.sends += 1;
      const { topicMessages } = args[0] as ProducerBatch;
      const leaderDown = brokerThreeDownFor > 0;
      let reachedDeadBroker = false;
      for (const { topic, messages } of topicMessages!) {
        for (const message of messages) {
          const partition = partitioner({ topic, partitionMetadata, message });
          if (partition === 2 && leaderDown) reachedDeadBroker = true;
          else stored.set(String(message.key), (stored.get(String(message.key)) ?? 0) + 1);
        }
      }
      if (!reachedDeadBroker) return Promise.resolve();
      brokerThreeDownFor -= 1;
      return Promise.reject(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'));
    };

    const records = Array.from({ length: 30 }, (_, index) => ({ key: `subscription-${index}`, value: 'v' }));
    await producer.sendBatch({ topicMessages: [{ topic: 'requests', messages: records }] });

    // Every record stored; those of live brokers at most twice (the failed send and one retry),
    // where a whole-batch retry stored them on each of the five tries.
    expect([...stored.keys()].sort()).toEqual(records.map((record) => record.key).sort());
    expect(Math.max(...stored.values())).toBe(2);
    expect(fake.sends).toBeGreaterThan(5);
    await producer.disconnect();
  });

  it('keeps records together that failed before they were given a partition', () => {
    const messages = [{ value: 'a' }, { value: 'b' }];
    expect(splitByPartition({ acks: -1, topicMessages: [{ topic: 't', messages }] })).toEqual([
      { acks: -1, topicMessages: [{ topic: 't', messages }] },
    ]);
  });

  it('fails a send whose leadership never settles once the retry deadline has passed, and replaces the producer', async () => {
    const leaderless = Object.assign(new Error('There is no leader for this topic-partition'), {
      name: 'KafkaJSProtocolError',
      type: 'LEADER_NOT_AVAILABLE',
      retriable: true,
    });
    const { kafka, made } = fakeKafka({
      connect: () => Promise.resolve(),
      send: () => Promise.reject(leaderless),
    });
    const health = new ProducerHealthBoard();
    const producer = new ReplaceableProducer(kafka, 'inbound-events', { health }, 500);
    await producer.connect(1_000);

    const failed = producer.sendBatch(batch);
    await expect(failed).rejects.toBeInstanceOf(KafkaSendFailedError);
    await expect(failed).rejects.toMatchObject({ cause: leaderless });
    // Retried in between (after 50, 100, 200 ms), never past the deadline.
    expect(made[0]?.sends).toBeGreaterThanOrEqual(3);
    expect(made[0]?.sends).toBeLessThanOrEqual(4);
    expect(made[0]?.disconnected).toBe(true);
    await expect(health.assertReady()).rejects.toThrow(/producer inbound-events .*no leader/);
    await producer.disconnect();
  });

  it('refuses records the broker refused for their content, and keeps the producer', async () => {
    const tooLarge = Object.assign(new Error('The request included a message larger than the max'), {
      type: 'MESSAGE_TOO_LARGE',
    });
    const { kafka, made } = fakeKafka({
      connect: () => Promise.resolve(),
      send: () => Promise.reject(Object.assign(new Error('non-retriable'), { cause: tooLarge })),
    });
    const health = new ProducerHealthBoard();
    const producer = new ReplaceableProducer(kafka, 'contract', { health });
    await producer.connect(1_000);
    await expect(producer.sendBatch(batch)).rejects.toBeInstanceOf(KafkaRecordsRejectedError);
    expect(made).toHaveLength(1);
    expect(made[0]?.disconnected).toBe(false);
    expect(health.failing()).toEqual([]);
    await producer.disconnect();
  });

  it('finds a content rejection along the causes, and nothing else', () => {
    expect(recordRejectionOf({ cause: { cause: { type: 'RECORD_LIST_TOO_LARGE' } } })).toBe(
      'RECORD_LIST_TOO_LARGE',
    );
    expect(recordRejectionOf({ cause: { type: 'NOT_LEADER_FOR_PARTITION' } })).toBeUndefined();
    expect(recordRejectionOf(new Error('Connection closed'))).toBeUndefined();
  });
});
