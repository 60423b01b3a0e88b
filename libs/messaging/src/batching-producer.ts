import { type Kafka, type Message, type TopicMessages } from 'kafkajs';
import {
  deadLetterTopicOf,
  maxMessageBytesOf,
  type MessageContract,
  type TopicKey,
} from '@skyhook/contracts';
import { type ContractProducer, encodeForKafka, type ProducerObservers } from './contract-producer';
import { deadLetterOfTooLarge, type RecordOrigin, sendToDeadLetter } from './dead-letter';
import { type KafkaSettings, topicNameOf } from './kafka-config';
import { type MessagingMetrics } from './messaging-metrics';
import {
  expectedPartitionOf,
  MAX_PRODUCE_REQUEST_BYTES,
  type ProduceBounds,
  recordBytesOf,
  sendHalvingWhenTooLarge,
  splitForProduce,
} from './produce-request-bounds';
import { ReplaceableProducer } from './replaceable-producer';

interface QueuedRecord {
  readonly topicKey: TopicKey;
  readonly topic: string;
  readonly message: Message;
  readonly bytes: number;
  /** The topic and the partition the record is expected on: what one record batch holds. */
  readonly batch: string;
  readonly origin: RecordOrigin | undefined;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** How records that no send can ever store are kept instead of failing their callers for ever. */
export interface DeadLettering {
  /** Writes each to the dead-letter topic of the topic it was meant for (`deadLetterTopicOf`). */
  readonly producer: ContractProducer;
  /** Told of each record set aside, by the topic it was meant for. */
  readonly onDeadLettered?: (topicKey: TopicKey) => void;
}

/** A record too large for its topic, where there is nowhere to set it aside. */
export class RecordTooLargeError extends Error {
  constructor(topicKey: TopicKey, reason: string) {
    super(`a record for ${topicKey} can never be written: ${reason}`);
    this.name = 'RecordTooLargeError';
  }
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
 *
 * What waits is cut into requests in which no partition's batch exceeds its topic's size limit:
 * a broker refuses an oversized batch whole, and every caller in it would fail, retry and fail
 * again (each first attempt event carries its event's data, so a few large ones fill a batch). A
 * record too large on its own goes to its topic's dead-letter topic (`deadLetters`), and its
 * caller's send resolves: it is durably kept, and no retry could do better.
 *
 * With a `lingerMs`, a send that finds no request in flight waits that long for company before
 * its request leaves: at ordinary rates a request then carries the sends of a few ms instead of
 * one or two, for that much more time before each is acknowledged. For records nobody waits on
 * at once (the dispatcher's attempt events: the webhook has gone already).
 */
export interface BatchingProducerOptions {
  readonly lingerMs?: number;
}

export class BatchingProducer {
  private readonly producer: ReplaceableProducer;
  private readonly metrics: MessagingMetrics | undefined;
  private readonly bounds: ProduceBounds = {
    maxBatchBytes: 0,
    maxRequestBytes: MAX_PRODUCE_REQUEST_BYTES,
    maxRecords: MAX_RECORDS_PER_REQUEST,
  };
  private queue: QueuedRecord[] = [];
  /** A flush is running or scheduled: sends made meanwhile join its next request. */
  private flushing = false;
  private readonly lingerMs: number;

  constructor(
    kafka: Kafka,
    private readonly settings: KafkaSettings,
    observers: ProducerObservers = {},
    private readonly deadLetters?: DeadLettering,
    options: BatchingProducerOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 0;
    this.metrics = observers.metrics;
    this.producer = new ReplaceableProducer(kafka, observers.name ?? 'batching', observers);
  }

  connect(): Promise<void> {
    return this.producer.connect(this.settings.startupTimeoutMs);
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /**
   * Resolves when every value is acknowledged, or set aside in its dead-letter topic because it
   * is too large for its topic. `trusted` skips schema validation for values built in process
   * from validated input (consumers validate on receipt anyway); `origin` is the consumed record
   * the values were made from, which a dead letter points back to.
   */
  send<TValue>(
    contract: MessageContract<TValue>,
    topicKey: TopicKey,
    values: readonly TValue[],
    options: { trusted?: boolean; origin?: RecordOrigin } = {},
  ): Promise<void> {
    if (values.length === 0) return Promise.resolve();
    const topic = topicNameOf(this.settings, topicKey);
    const partitions = this.settings.partitions[topicKey];
    const sent = encodeForKafka(contract, values, options.trusted === true).map(
      (message) =>
        new Promise<void>((resolve, reject) => {
          this.queue.push({
            topicKey,
            topic,
            message,
            bytes: recordBytesOf(message),
            batch: `${topicKey}:${expectedPartitionOf(message, partitions)}`,
            origin: options.origin,
            resolve,
            reject,
          });
        }),
    );
    if (!this.flushing) {
      this.flushing = true;
      if (this.lingerMs > 0) setTimeout(() => void this.flush(), this.lingerMs);
      else void this.flush();
    }
    return Promise.all(sent).then(() => undefined);
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const taken = this.queue;
        this.queue = [];
        const { requests, oversized } = splitForProduce(
          taken,
          (record) => record.bytes,
          (record) => record.batch,
          this.bounds,
          (record) => maxMessageBytesOf(record.topicKey),
        );
        for (const request of requests) await this.sendRequest(request);
        for (const record of oversized) {
          await this.setAside(
            record,
            `the record is ${record.bytes} bytes; its topic takes record batches of at most ${maxMessageBytesOf(record.topicKey)} bytes`,
          );
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * One produce request. Refused as too large all the same (the topic was provisioned with a
   * smaller limit than the contracts say, or has more partitions than configured), it is sent in
   * halves, down to the records that are too large alone, which are set aside.
   */
  private async sendRequest(records: readonly QueuedRecord[]): Promise<void> {
    let tooLarge: QueuedRecord[];
    try {
      tooLarge = await sendHalvingWhenTooLarge(records, (part) => this.produce(part));
    } catch (error) {
      // The parts acknowledged before the failure are resolved already: settling them again does nothing.
      for (const record of records) record.reject(error);
      return;
    }
    for (const record of tooLarge) {
      await this.setAside(
        record,
        `the broker refused the record as too large for its topic (${record.bytes} bytes)`,
      );
    }
  }

  /** Sends `records` in one produce request and resolves each caller's record once acknowledged. */
  private async produce(records: readonly QueuedRecord[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const record of records) {
      const messages = byTopic.get(record.topic);
      if (messages === undefined) byTopic.set(record.topic, [record.message]);
      else messages.push(record.message);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    await this.producer.sendBatch({ topicMessages });
    const producedByTopic = new Map<TopicKey, number>();
    for (const record of records) {
      producedByTopic.set(record.topicKey, (producedByTopic.get(record.topicKey) ?? 0) + 1);
      record.resolve();
    }
    for (const [topicKey, count] of producedByTopic)
      this.metrics?.recordsProduced.inc({ topic: topicKey }, count);
  }

  private async setAside(record: QueuedRecord, reason: string): Promise<void> {
    const deadLetterTopic = deadLetterTopicOf(record.topicKey);
    if (this.deadLetters === undefined || deadLetterTopic === undefined) {
      record.reject(new RecordTooLargeError(record.topicKey, reason));
      return;
    }
    try {
      await sendToDeadLetter(
        this.deadLetters.producer,
        deadLetterTopic,
        deadLetterOfTooLarge(record.message, record.topicKey, record.origin, reason),
      );
    } catch (error) {
      record.reject(error);
      return;
    }
    this.deadLetters.onDeadLettered?.(record.topicKey);
    record.resolve();
  }
}
