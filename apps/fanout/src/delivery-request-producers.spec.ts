import { type Kafka } from 'kafkajs';
import { type DeliveryRequest } from '@skyhook/contracts';
import pino from 'pino';
import {
  kafkaEnvironmentSchema,
  KafkaSendFailedError,
  kafkaSettingsFrom,
  type MessagingMetrics,
  ProducerHealthBoard,
} from '@skyhook/messaging';
import { DeliveryRequestProducers } from './delivery-request-producers';

/** A kafkajs producer stand-in: every send waits for the test to settle it. */
class ControlledProducer {
  readonly sends: {
    count: number;
    traceIds: Set<string | undefined>;
    settle: (error?: Error) => void;
  }[] = [];

  connect = (): Promise<void> => Promise.resolve();
  disconnect = (): Promise<void> => Promise.resolve();
  sendBatch = ({
    topicMessages: [{ messages }],
  }: {
    topicMessages: [{ messages: { headers?: Record<string, string> }[] }];
  }): Promise<void> =>
    new Promise((resolve, reject) => {
      this.sends.push({
        count: messages.length,
        traceIds: new Set(messages.map((message) => message.headers?.['skyhook-trace-id'])),
        settle: (error) => (error ? reject(error) : resolve()),
      });
    });
}

function request(index: number): DeliveryRequest {
  return {
    deliveryId: `del_${index}`,
    subscriptionId: `sub_${index}`,
    organisationId: 'org_1',
    event: {
      id: 'evt_1',
      type: 'booking.created',
      scope: {},
      occurredAt: '2026-11-23T10:00:00.000Z',
      data: {},
    },
    publishedAt: '2026-11-23T10:00:00.000Z',
    held: false,
    test: false,
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('DeliveryRequestProducers', () => {
  const producers: ControlledProducer[] = [];
  const kafka = {
    producer: () => {
      const producer = new ControlledProducer();
      producers.push(producer);
      return producer;
    },
  } as unknown as Kafka;
  const settings = kafkaSettingsFrom(
    kafkaEnvironmentSchema.parse({ KAFKA_BROKERS: '127.0.0.1:9092' }),
    'test',
  );
  const metrics = { recordsProduced: { inc: () => undefined } } as unknown as MessagingMetrics;
  const pool = (): DeliveryRequestProducers =>
    new DeliveryRequestProducers(
      kafka,
      settings,
      metrics,
      new ProducerHealthBoard(),
      pino({ level: 'silent' }),
    );

  beforeEach(() => {
    producers.length = 0;
  });

  it('sends every request in chunks, each producer without waiting for the others, in its trace', async () => {
    const requests = Array.from({ length: 9_000 }, (_, index) => request(index));
    const sent = pool().send(requests, () => 'trace-1');
    await settle();
    // Every producer has its first chunk out; one acknowledgement lets that producer go on alone.
    expect(producers.map((producer) => producer.sends.length)).toEqual([1, 1, 1]);
    producers[0]?.sends[0]?.settle();
    await settle();
    expect(producers.map((producer) => producer.sends.length)).toEqual([2, 1, 1]);
    for (let round = 0; round < 10; round += 1) {
      for (const producer of producers) for (const send of producer.sends) send.settle();
      await settle();
    }
    await sent;
    const total = producers.flatMap((producer) => producer.sends).reduce((sum, send) => sum + send.count, 0);
    expect(total).toBe(9_000);
    expect(Math.max(...producers.flatMap((producer) => producer.sends.map((send) => send.count)))).toBe(
      2_000,
    );
  });

  it('on a failed send stops every producer at its next chunk and fails only once all have stopped', async () => {
    const requests = Array.from({ length: 9_000 }, (_, index) => request(index));
    let rejected: unknown;
    const sent = pool()
      .send(requests, () => undefined)
      .catch((error: unknown) => {
        rejected = error;
      });
    await settle();
    producers[0]?.sends[0]?.settle(new Error('broker said no'));
    await settle();
    // The others still have their first chunk in flight: the call has not failed yet.
    expect(rejected).toBeUndefined();
    producers[1]?.sends[0]?.settle();
    producers[2]?.sends[0]?.settle();
    await sent;
    // An unanswered send: its outcome is unknown, and that producer is replaced.
    expect(rejected).toBeInstanceOf(KafkaSendFailedError);
    expect((rejected as Error).cause).toEqual(new Error('broker said no'));
    // No producer started another chunk after the failure.
    expect(producers.slice(0, 3).map((producer) => producer.sends.length)).toEqual([1, 1, 1]);
  });
});
