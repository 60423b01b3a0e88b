import { type Kafka, KafkaJSProtocolError, type Message, type ProducerBatch } from 'kafkajs';
import {
  type DeliveryEvent,
  deliveryEventContract,
  maxMessageBytesOf,
  RECORD_SIZE_LIMITS,
} from '@skyhook/contracts';
import { BatchingProducer } from './batching-producer';
import { type ContractProducer } from './contract-producer';
import { DEAD_LETTER_HEADERS } from './dead-letter';
import { kafkaEnvironmentSchema, kafkaSettingsFrom, topicNameOf } from './kafka-config';
import { RECORD_BATCH_OVERHEAD_BYTES, recordBytesOf } from './produce-request-bounds';

const settings = kafkaSettingsFrom(kafkaEnvironmentSchema.parse({ KAFKA_BROKERS: '127.0.0.1:9092' }), 'test');
const eventsTopic = topicNameOf(settings, 'deliveryEvents');

/** A kafkajs producer stand-in that stores what it is sent, refusing what `refuses` says a broker would. */
function fakeKafka(refuses: (messages: Message[]) => boolean = () => false) {
  const requests: Message[][] = [];
  const kafka = {
    producer: () => ({
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      sendBatch: ({ topicMessages }: ProducerBatch) => {
        const messages = (topicMessages ?? []).flatMap((topic) => topic.messages);
        if (refuses(messages)) {
          return Promise.reject(
            new KafkaJSProtocolError({ type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false } as never),
          );
        }
        if (topicMessages?.some((topic) => topic.topic !== eventsTopic)) {
          return Promise.reject(new Error('unexpected topic'));
        }
        requests.push(messages);
        return Promise.resolve();
      },
    }),
  } as unknown as Kafka;
  return { kafka, requests };
}

function deadLetterProducer() {
  const letters: { topicKey: string; message: Message }[] = [];
  const producer = {
    sendRaw: (topicKey: string, messages: Message[]) => {
      for (const message of messages) letters.push({ topicKey, message });
      return Promise.resolve();
    },
  } as unknown as ContractProducer;
  return { producer, letters };
}

/** A skip event of about `bytes` (its request's data), keyed by `deliveryId` like every delivery event. */
function eventOf(deliveryId: string, bytes: number): DeliveryEvent {
  const at = '2026-12-01T10:00:00.000Z';
  const request = {
    deliveryId,
    subscriptionId: 'sub_1',
    organisationId: 'org_1',
    event: {
      id: `evt_${deliveryId}`,
      type: 'booking.created',
      scope: {},
      occurredAt: at,
      data: { blob: 'x'.repeat(bytes) },
    },
    publishedAt: at,
    held: false,
    test: false,
  };
  return {
    type: 'DeliverySkipped',
    deliveryId,
    subscriptionId: 'sub_1',
    organisationId: 'org_1',
    eventId: request.event.id,
    eventType: 'booking.created',
    test: false,
    publishedAt: at,
    request,
    skippedAt: at,
    reason: 'subscription-unknown',
    disposition: 'dropped',
    attemptNumber: 1,
  };
}

const idOf = (message: Message): string => (JSON.parse(String(message.value)) as DeliveryEvent).deliveryId;
const batchBytes = (messages: Message[]) =>
  messages.reduce((sum, message) => sum + recordBytesOf(message), RECORD_BATCH_OVERHEAD_BYTES);

describe('BatchingProducer bounded by bytes', () => {
  it('sends what waits in requests whose batch for a partition stays under its topic’s limit, in order', async () => {
    const { kafka, requests } = fakeKafka();
    const producer = new BatchingProducer(kafka, settings);
    await producer.connect();
    // One delivery id, so one partition: 300 KB events, four to a 1.25 MiB batch at most.
    const sends = Array.from({ length: 13 }, (_, i) =>
      producer.send(deliveryEventContract, 'deliveryEvents', [eventOf('del_same', 300_000 + i)], {
        trusted: true,
      }),
    );
    await Promise.all(sends);
    for (const request of requests) {
      expect(batchBytes(request)).toBeLessThanOrEqual(maxMessageBytesOf('deliveryEvents'));
    }
    // The first leaves alone; the twelve that waited meanwhile leave four by four.
    expect(requests.map((request) => request.length)).toEqual([1, 4, 4, 4]);
    const sizes = requests.flat().map((message) => String(message.value).length);
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
    await producer.disconnect();
  });

  it('sets a record too large for its topic aside in the dead-letter topic, with where it came from, and resolves its send', async () => {
    const { kafka, requests } = fakeKafka();
    const deadLetters = deadLetterProducer();
    const setAside: string[] = [];
    const producer = new BatchingProducer(
      kafka,
      settings,
      {},
      {
        producer: deadLetters.producer,
        onDeadLettered: (topicKey) => setAside.push(topicKey),
      },
    );
    await producer.connect();
    const origin = { topicKey: 'deliveryRequests' as const, partition: 5, offset: '42' };
    await Promise.all([
      producer.send(deliveryEventContract, 'deliveryEvents', [eventOf('del_small', 10)], { trusted: true }),
      producer.send(
        deliveryEventContract,
        'deliveryEvents',
        [eventOf('del_huge', RECORD_SIZE_LIMITS.deliveryEvent)],
        {
          trusted: true,
          origin,
        },
      ),
    ]);
    expect(requests.flat().map(idOf)).toEqual(['del_small']);
    expect(setAside).toEqual(['deliveryEvents']);
    const [letter] = deadLetters.letters;
    expect(letter?.topicKey).toBe('deliveryEventsDeadLetter');
    expect(idOf(letter!.message)).toBe('del_huge');
    expect(letter?.message.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.code]: 'RECORD_TOO_LARGE',
      [DEAD_LETTER_HEADERS.sourceTopic]: 'deliveryRequests',
      [DEAD_LETTER_HEADERS.sourcePartition]: '5',
      [DEAD_LETTER_HEADERS.sourceOffset]: '42',
      [DEAD_LETTER_HEADERS.targetTopic]: 'deliveryEvents',
    });
    await producer.disconnect();
  });

  it('sends a request the broker still refuses as too large in halves, and sets aside only what it refuses alone', async () => {
    // A topic provisioned with a smaller limit than the contracts say: 500 KB a request.
    const { kafka, requests } = fakeKafka((messages) => batchBytes(messages) > 500_000);
    const deadLetters = deadLetterProducer();
    const producer = new BatchingProducer(kafka, settings, {}, { producer: deadLetters.producer });
    await producer.connect();
    await Promise.all(
      ['del_a', 'del_b', 'del_c', 'del_d', 'del_e'].map((id) =>
        producer.send(
          deliveryEventContract,
          'deliveryEvents',
          [eventOf(id, id === 'del_c' ? 600_000 : 200_000)],
          {
            trusted: true,
          },
        ),
      ),
    );
    expect(requests.flat().map(idOf).sort()).toEqual(['del_a', 'del_b', 'del_d', 'del_e']);
    expect(deadLetters.letters.map((letter) => idOf(letter.message))).toEqual(['del_c']);
    await producer.disconnect();
  });

  it('fails the senders of a request whose outcome is unknown and sets nothing aside: they send again', async () => {
    const deadLetters = deadLetterProducer();
    const kafka = {
      producer: () => ({
        connect: () => Promise.resolve(),
        disconnect: () => Promise.resolve(),
        sendBatch: () => Promise.reject(new Error('Connection closed')),
      }),
    } as unknown as Kafka;
    const producer = new BatchingProducer(kafka, settings, {}, { producer: deadLetters.producer });
    await producer.connect();
    await expect(
      producer.send(deliveryEventContract, 'deliveryEvents', [eventOf('del_x', 10)], { trusted: true }),
    ).rejects.toThrow(/Connection closed/);
    expect(deadLetters.letters).toEqual([]);
    await producer.disconnect();
  });
});

describe('BatchingProducer with a linger', () => {
  it('holds a send that finds nothing in flight for the linger, and sends what came meanwhile with it', async () => {
    const { kafka, requests } = fakeKafka();
    const producer = new BatchingProducer(kafka, settings, {}, undefined, { lingerMs: 30 });
    await producer.connect();
    const send = (id: string) =>
      producer.send(deliveryEventContract, 'deliveryEvents', [eventOf(id, 10)], { trusted: true });
    const first = send('del_1');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(requests).toHaveLength(0);
    const second = send('del_2');
    await Promise.all([first, second]);
    expect(requests.map((request) => request.map(idOf))).toEqual([['del_1', 'del_2']]);
    // Without a linger the first send leaves alone, at once.
    const eager = new BatchingProducer(kafka, settings);
    await eager.connect();
    const alone = eager.send(deliveryEventContract, 'deliveryEvents', [eventOf('del_3', 10)], {
      trusted: true,
    });
    const after = eager.send(deliveryEventContract, 'deliveryEvents', [eventOf('del_4', 10)], {
      trusted: true,
    });
    await Promise.all([alone, after]);
    expect(requests.slice(1).map((request) => request.map(idOf))).toEqual([['del_3'], ['del_4']]);
    await producer.disconnect();
    await eager.disconnect();
  });
});
