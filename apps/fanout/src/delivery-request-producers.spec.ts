import { type Kafka, KafkaJSProtocolError, type Message } from 'kafkajs';
import { type DeliveryRequest, RECORD_SIZE_LIMITS } from '@skyhook/contracts';
import pino from 'pino';
import {
  DEAD_LETTER_HEADERS,
  kafkaEnvironmentSchema,
  KafkaSendFailedError,
  kafkaSettingsFrom,
  type MessagingMetrics,
  ProducerHealthBoard,
  recordBytesOf,
  topicNameOf,
} from '@skyhook/messaging';
import { DeliveryRequestProducers } from './delivery-request-producers';
import { type FanoutMetrics } from './fanout-metrics';

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

/** A kafkajs producer stand-in that acknowledges at once, refusing what a broker would refuse. */
class RecordingProducer {
  readonly sends: { topic: string; messages: Message[] }[] = [];

  constructor(private readonly refuse: (messages: Message[]) => boolean = () => false) {}

  connect = (): Promise<void> => Promise.resolve();
  disconnect = (): Promise<void> => Promise.resolve();
  sendBatch = ({
    topicMessages,
  }: {
    topicMessages: { topic: string; messages: Message[] }[];
  }): Promise<void> => {
    if (topicMessages.some(({ messages }) => this.refuse(messages))) {
      return Promise.reject(
        new KafkaJSProtocolError({ type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false } as never),
      );
    }
    for (const { topic, messages } of topicMessages) this.sends.push({ topic, messages });
    return Promise.resolve();
  };
}

function request(index: number, subscriptionId = `sub_${index}`, dataBytes = 0): DeliveryRequest {
  return {
    deliveryId: `del_${index}`,
    subscriptionId,
    organisationId: 'org_1',
    event: {
      id: 'evt_1',
      type: 'booking.created',
      scope: {},
      occurredAt: '2026-11-23T10:00:00.000Z',
      data: dataBytes === 0 ? {} : { blob: 'x'.repeat(dataBytes) },
    },
    publishedAt: '2026-11-23T10:00:00.000Z',
    held: false,
    test: false,
  };
}

const deliveryIdOf = (message: Message): string =>
  (JSON.parse(String(message.value)) as DeliveryRequest).deliveryId;

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
  const deadLetteredCount = { value: 0 };
  const fanoutMetrics = {
    deliveryRequestsDeadLettered: { inc: () => (deadLetteredCount.value += 1) },
  } as unknown as FanoutMetrics;
  const poolOver = (over: Kafka): DeliveryRequestProducers =>
    new DeliveryRequestProducers(
      over,
      settings,
      metrics,
      new ProducerHealthBoard(),
      pino({ level: 'silent' }),
      fanoutMetrics,
    );
  const pool = (): DeliveryRequestProducers => poolOver(kafka);
  const origin = () => ({
    topicKey: 'inboundEvents' as const,
    partition: 4,
    offset: '17',
    traceId: 'trace-1',
  });

  beforeEach(() => {
    producers.length = 0;
    deadLetteredCount.value = 0;
  });

  it('sends every request in chunks, each producer without waiting for the others, in its trace', async () => {
    const requests = Array.from({ length: 9_000 }, (_, index) => request(index));
    const sent = pool().send(requests, origin);
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

  it('sends a narrow call in one produce request, and takes the producers in turn for calls that overlap', async () => {
    const requests = (call: number) => Array.from({ length: 20 }, (_, index) => request(call * 100 + index));
    const sending = pool();
    const calls = [
      sending.send(requests(1), origin),
      sending.send(requests(2), origin),
      sending.send(requests(3), origin),
    ];
    await settle();
    expect(producers.map((producer) => producer.sends.map((send) => send.count))).toEqual([[20], [20], [20]]);
    for (const producer of producers) for (const send of producer.sends) send.settle();
    await Promise.all(calls);
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

  describe('bounded by bytes', () => {
    const recording: RecordingProducer[] = [];
    const kafkaOf = (refuse?: (messages: Message[]) => boolean) =>
      ({
        producer: () => {
          const producer = new RecordingProducer(refuse);
          recording.push(producer);
          return producer;
        },
      }) as unknown as Kafka;
    const requestsTopic = topicNameOf(settings, 'deliveryRequests');
    const deadLetterTopic = topicNameOf(settings, 'deliveryRequestsDeadLetter');
    const batchBytesOf = (messages: Message[]) =>
      messages.reduce((sum, message) => sum + recordBytesOf(message), 61);

    beforeEach(() => {
      recording.length = 0;
    });

    it('splits 256 KiB requests for one subscription so no request holds more than a batch of its partition', async () => {
      const pooled = poolOver(kafkaOf());
      const requests = Array.from({ length: 20 }, (_, index) => request(index, 'sub_one', 256 * 1_024));
      const deadLettered = await pooled.send(requests, origin);
      expect(deadLettered.size).toBe(0);
      const sends = recording.flatMap((producer) => producer.sends);
      expect(sends.every((send) => send.topic === requestsTopic)).toBe(true);
      for (const send of sends) {
        expect(batchBytesOf(send.messages)).toBeLessThanOrEqual(RECORD_SIZE_LIMITS.deliveryRequest);
      }
      // Four 256 KiB requests fit a batch of the requests topic's limit, so 20 need 5 requests, in order.
      expect(sends.map((send) => send.messages.length)).toEqual([4, 4, 4, 4, 4]);
      const ids = sends.flatMap((send) => send.messages.map((message) => deliveryIdOf(message)));
      expect(ids).toEqual(requests.map((entry) => entry.deliveryId));
    });

    it('dead-letters a request larger than the topic takes, with the reason and its source, and sends the rest', async () => {
      const pooled = poolOver(kafkaOf());
      const huge = request(1, 'sub_one', RECORD_SIZE_LIMITS.deliveryRequest);
      const small = request(2, 'sub_one');
      const deadLettered = await pooled.send([huge, small], origin);
      expect([...deadLettered]).toEqual([huge]);
      const sends = recording.flatMap((producer) => producer.sends);
      const [sent] = sends.filter((send) => send.topic === requestsTopic);
      expect(sent?.messages.map((message) => deliveryIdOf(message))).toEqual(['del_2']);
      const [letter] = sends
        .filter((send) => send.topic === deadLetterTopic)
        .flatMap((send) => send.messages);
      expect(letter === undefined ? undefined : deliveryIdOf(letter)).toBe('del_1');
      expect(letter?.headers).toMatchObject({
        [DEAD_LETTER_HEADERS.code]: 'RECORD_TOO_LARGE',
        [DEAD_LETTER_HEADERS.sourceTopic]: 'inboundEvents',
        [DEAD_LETTER_HEADERS.sourcePartition]: '4',
        [DEAD_LETTER_HEADERS.sourceOffset]: '17',
        [DEAD_LETTER_HEADERS.targetTopic]: 'deliveryRequests',
      });
      expect(letter?.headers?.[DEAD_LETTER_HEADERS.reason]).toMatch(
        /bytes; its topic takes record batches of at most/,
      );
      expect(deadLetteredCount.value).toBe(1);
    });

    it('when the broker still refuses a request as too large, sends it in halves and dead-letters only what is refused alone', async () => {
      // A topic provisioned with a smaller limit than the contracts say: 300 KB a batch.
      const refuse = (messages: Message[]) => batchBytesOf(messages) > 300_000;
      const pooled = poolOver(kafkaOf(refuse));
      const requests = [
        request(1, 'sub_one', 100_000),
        request(2, 'sub_one', 100_000),
        request(3, 'sub_one', 400_000),
        request(4, 'sub_one', 100_000),
      ];
      const deadLettered = await pooled.send(requests, origin);
      expect([...deadLettered].map((entry) => entry.deliveryId)).toEqual(['del_3']);
      const delivered = recording
        .flatMap((producer) => producer.sends)
        .filter((send) => send.topic === requestsTopic)
        .flatMap((send) => send.messages.map((message) => deliveryIdOf(message)));
      expect(delivered).toEqual(['del_1', 'del_2', 'del_4']);
    });
  });
});
