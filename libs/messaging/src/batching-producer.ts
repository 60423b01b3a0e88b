import { type Kafka, type Message, type TopicMessages } from 'kafkajs';
import { type MessageContract, type TopicKey } from '@skyhook/contracts';
import { encodeForKafka, type ProducerObservers } from './contract-producer';
import { type KafkaSettings, topicNameOf } from './kafka-config';
import { type MessagingMetrics } from './messaging-metrics';
import { ReplaceableProducer } from './replaceable-producer';

interface QueuedRecord {
  readonly topicKey: TopicKey;
  readonly topic: string;
  readonly message: Message;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Records per produce request at most (kafkajs builds each request in memory). */
const MAX_RECORDS_PER_REQUEST = 2_000;

/**
 * An acks=all producer for many small sends from concurrent callers (the dispatcher's attempt
 * events and retries). One request is in flight at a time (send order kept), so sends made
 * while a request is in flight wait and then leave
 * together in the next one ("group commit"): at low load each send goes out at once, at high
 * load requests carry hundreds of records. Each caller's promise resolves when its records are
 * acknowledged, so "durably handed on" still holds record by record.
 */
export class BatchingProducer {
  private readonly producer: ReplaceableProducer;
  private readonly metrics: MessagingMetrics | undefined;
  private queue: QueuedRecord[] = [];
  private flushing = false;

  constructor(
    kafka: Kafka,
    private readonly settings: KafkaSettings,
    observers: ProducerObservers = {},
  ) {
    this.metrics = observers.metrics;
    this.producer = new ReplaceableProducer(kafka, observers.name ?? 'batching', observers);
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /**
   * Resolves when every value is acknowledged. `trusted` skips schema validation for values
   * built in process from validated input (consumers validate on receipt anyway).
   */
  send<TValue>(
    contract: MessageContract<TValue>,
    topicKey: TopicKey,
    values: readonly TValue[],
    options: { trusted?: boolean } = {},
  ): Promise<void> {
    if (values.length === 0) return Promise.resolve();
    const topic = topicNameOf(this.settings, topicKey);
    const sent = encodeForKafka(contract, values, options.trusted === true).map(
      (message) =>
        new Promise<void>((resolve, reject) => {
          this.queue.push({ topicKey, topic, message, resolve, reject });
        }),
    );
    if (!this.flushing) void this.flush();
    return Promise.all(sent).then(() => undefined);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_RECORDS_PER_REQUEST);
        const byTopic = new Map<string, Message[]>();
        for (const record of batch) {
          const messages = byTopic.get(record.topic);
          if (messages === undefined) byTopic.set(record.topic, [record.message]);
          else messages.push(record.message);
        }
        const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
        try {
          await this.producer.sendBatch({ topicMessages });
        } catch (error) {
          for (const record of batch) record.reject(error);
          continue;
        }
        const producedByTopic = new Map<TopicKey, number>();
        for (const record of batch) {
          producedByTopic.set(record.topicKey, (producedByTopic.get(record.topicKey) ?? 0) + 1);
          record.resolve();
        }
        for (const [topicKey, count] of producedByTopic)
          this.metrics?.recordsProduced.inc({ topic: topicKey }, count);
      }
    } finally {
      this.flushing = false;
    }
  }
}
