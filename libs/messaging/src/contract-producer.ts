import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import {
  encodeMessage,
  encodeTrustedMessage,
  MESSAGE_HEADERS,
  type MessageContract,
  type TopicKey,
} from '@skyhook/contracts';
import { currentTraceId } from '@skyhook/observability';
import { type KafkaSettings, topicNameOf } from './kafka-config';
import { keyHashPartitioner } from './key-hash-partitioner';
import { type MessagingMetrics } from './messaging-metrics';

/**
 * Produces contract-validated records. Idempotent with acks from all in-sync replicas, so a
 * record the broker acknowledged survives a broker failure and a retried send is never
 * written twice: "durably handed on" in the architecture's sense.
 */
export class ContractProducer {
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly settings: KafkaSettings,
    private readonly metrics?: MessagingMetrics,
  ) {
    this.producer = createIdempotentProducer(kafka);
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /**
   * Validates every value first: one invalid value rejects the whole send, nothing is
   * half-written. `trusted` skips that for values built in process from already validated
   * input on a hot path (fan-out's delivery requests); consumers validate on receipt anyway.
   * Each record carries the current trace id, or the one `traceIdOf` gives for its value (a
   * batch handler's values come from records of different traces).
   */
  async send<TValue>(
    contract: MessageContract<TValue>,
    topicKey: TopicKey,
    values: readonly TValue[],
    options: { trusted?: boolean; traceIdOf?: (value: TValue) => string | undefined } = {},
  ): Promise<void> {
    if (values.length === 0) return;
    const messages = encodeForKafka(contract, values, options.trusted === true, options.traceIdOf);
    const topic = topicNameOf(this.settings, topicKey);
    await this.producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
    this.metrics?.recordsProduced.inc({ topic: topicKey }, messages.length);
  }

  /** For records that are not (yet) valid under a contract, such as dead letters carrying the raw bytes. */
  async sendRaw(topicKey: TopicKey, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    await this.producer.send({ topic: topicNameOf(this.settings, topicKey), acks: -1, messages });
    this.metrics?.recordsProduced.inc({ topic: topicKey }, messages.length);
  }
}

/**
 * An idempotent producer: with acks=all (which every send here asks for) a record the broker
 * acknowledged survives a broker failure and a retried send is never written twice.
 */
export function createIdempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    // kafkajs keeps idempotent ordering guarantees only with one request in flight.
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: keyHashPartitioner,
  });
}

/**
 * Kafka messages of `values` under their contract, validated unless `trusted`, each carrying
 * its trace id (`traceIdOf`, else the current one) so the consumer's log lines follow the
 * same request.
 */
export function encodeForKafka<TValue>(
  contract: MessageContract<TValue>,
  values: readonly TValue[],
  trusted: boolean,
  traceIdOf: (value: TValue) => string | undefined = currentTraceId,
): Message[] {
  const encode = trusted ? encodeTrustedMessage : encodeMessage;
  return values.map((value) => {
    const encoded = encode(contract, value);
    const traceId = traceIdOf(value);
    const headers =
      traceId === undefined ? encoded.headers : { ...encoded.headers, [MESSAGE_HEADERS.traceId]: traceId };
    return { key: encoded.key, value: encoded.value, headers };
  });
}
