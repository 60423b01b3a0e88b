import { CompressionTypes, type Kafka, type Message } from 'kafkajs';
import {
  encodeMessage,
  encodeTrustedMessage,
  MESSAGE_HEADERS,
  type MessageContract,
  type TopicKey,
} from '@skyhook/contracts';
import { type Context } from '@opentelemetry/api';
import {
  currentTraceId,
  kafkaTraceHeaders,
  type ServiceLogger,
  tracingEnabled,
} from '@skyhook/observability';
import { type KafkaSettings, topicNameOf } from './kafka-config';
import { type MessagingMetrics } from './messaging-metrics';
import { type ProducerHealthBoard } from './producer-health';
import { ReplaceableProducer } from './replaceable-producer';

/** What a producer reports to: all optional, so a test or a tool can produce with none. */
export interface ProducerObservers {
  /** Names the producer in readiness, metrics and logs (`contract` unless given). */
  readonly name?: string;
  readonly metrics?: MessagingMetrics;
  readonly health?: ProducerHealthBoard;
  readonly logger?: ServiceLogger;
}

/**
 * Produces contract-validated records with acks from all in-sync replicas: a record the broker
 * acknowledged survives a broker failure, "durably handed on" in the architecture's sense. A
 * send whose outcome is unknown fails to the caller, who sends again: a record may then be
 * stored twice, never lost (`ReplaceableProducer`).
 */
export class ContractProducer {
  private readonly producer: ReplaceableProducer;
  private readonly metrics: MessagingMetrics | undefined;

  constructor(
    kafka: Kafka,
    private readonly settings: KafkaSettings,
    observers: ProducerObservers = {},
  ) {
    this.metrics = observers.metrics;
    this.producer = new ReplaceableProducer(kafka, observers.name ?? 'contract', observers);
  }

  connect(): Promise<void> {
    return this.producer.connect(this.settings.startupTimeoutMs);
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
    options: {
      trusted?: boolean;
      traceIdOf?: (value: TValue) => string | undefined;
    } = {},
  ): Promise<void> {
    if (values.length === 0) return;
    const messages = encodeForKafka(contract, values, options.trusted === true, options.traceIdOf);
    const topic = topicNameOf(this.settings, topicKey);
    await this.producer.sendBatch({
      compression: CompressionTypes.None,
      topicMessages: [{ topic, messages }],
    });
    this.metrics?.recordsProduced.inc({ topic: topicKey }, messages.length);
  }

  /** For records that are not (yet) valid under a contract, such as dead letters carrying the raw bytes. */
  async sendRaw(topicKey: TopicKey, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    await this.producer.sendBatch({
      topicMessages: [{ topic: topicNameOf(this.settings, topicKey), messages }],
    });
    this.metrics?.recordsProduced.inc({ topic: topicKey }, messages.length);
  }
}

/**
 * Kafka messages of `values` under their contract, validated unless `trusted`, each carrying
 * its trace so the consumer's spans and log lines follow the same request: with OpenTelemetry on
 * (ADR 0035), the W3C `traceparent` of `traceContextOf(value)` or of the active span; otherwise
 * its trace id (`traceIdOf`, else the current one) in Skyhook's own header.
 */
export function encodeForKafka<TValue>(
  contract: MessageContract<TValue>,
  values: readonly TValue[],
  trusted: boolean,
  traceIdOf: (value: TValue) => string | undefined = currentTraceId,
  traceContextOf?: (value: TValue) => Context | undefined,
): Message[] {
  const encode = trusted ? encodeTrustedMessage : encodeMessage;
  const traced = tracingEnabled();
  return values.map((value) => {
    const encoded = encode(contract, value);
    if (traced) {
      const traceHeaders = kafkaTraceHeaders(traceContextOf?.(value));
      if (traceHeaders['traceparent'] !== undefined)
        return { key: encoded.key, value: encoded.value, headers: { ...encoded.headers, ...traceHeaders } };
    }
    const traceId = traceIdOf(value);
    const headers =
      traceId === undefined ? encoded.headers : { ...encoded.headers, [MESSAGE_HEADERS.traceId]: traceId };
    return { key: encoded.key, value: encoded.value, headers };
  });
}
