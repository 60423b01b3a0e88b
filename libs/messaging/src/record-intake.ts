import { randomUUID } from 'node:crypto';
import { type Consumer, type Kafka, type KafkaMessage, type PartitionAssigner } from 'kafkajs';
import { type ContractViolationError, decodeMessage, MESSAGE_HEADERS } from '@skyhook/contracts';
import { type ServiceLogger, traceIdOfTraceparent } from '@skyhook/observability';
import { batchFetchesOf, type FetchBatching } from './adaptive-fetch';
import {
  type ConsumedRecord,
  type ConsumerRoute,
  type ConsumerState,
  type RejectedRecord,
} from './consumed-records';
import { consumerGroupIdOf, type KafkaSettings } from './kafka-config';
import { type MessagingMetrics } from './messaging-metrics';

/** The most one fetch returns: of each partition, and of all the consumer's partitions together. */
export interface FetchBytes {
  readonly perPartition: number;
  readonly perFetch: number;
}

/**
 * What every Skyhook consumer group shares, whichever way it works its records
 * (`ContractConsumer` in order, `ConcurrentConsumer` detached): its kafkajs consumer, how it
 * follows the consumer's state, and how a record is decoded or rejected.
 */
export function createGroupConsumer(
  kafka: Kafka,
  settings: KafkaSettings,
  group: string,
  fetch: {
    readonly maxWaitTimeInMs: number;
    readonly maxBytes?: FetchBytes;
    readonly batching?: FetchBatching;
    readonly partitionAssigners?: readonly PartitionAssigner[] | undefined;
  },
): Consumer {
  const { maxWaitTimeInMs, maxBytes, batching, partitionAssigners } = fetch;
  const groupId = consumerGroupIdOf(settings, group);
  if (batching !== undefined) batchFetchesOf(groupId, batching, maxWaitTimeInMs);
  return kafka.consumer({
    groupId,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    rebalanceTimeout: settings.rebalanceTimeoutMs,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs,
    ...(partitionAssigners === undefined ? {} : { partitionAssigners: [...partitionAssigners] }),
    // kafkajs' defaults (1 MiB a partition, 10 MiB a fetch) unless the consumer sets its own.
    ...(maxBytes === undefined
      ? {}
      : { maxBytesPerPartition: maxBytes.perPartition, maxBytes: maxBytes.perFetch }),
    // Every failure the consumer retries (a broker gone, a handler whose database is down) is
    // tried again at least once a second: work resumes within about a second of the broker or
    // database returning, where kafkajs' growing backoff (up to 10 s here before) waited out most
    // of a minute-long outage's tail. After 40 tries (about 37 s, the budget the growing backoff
    // had) kafkajs restarts the consumer with fresh connections, which clears whatever a long
    // outage left behind.
    retry: { retries: 40, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
}

/**
 * Keeps `setState` in step with the consumer: consuming once it joins its group, joining again
 * while kafkajs restarts it after a crash, crashed (and `onFatalError`) when kafkajs gives up.
 */
export function followConsumerState(
  consumer: Consumer,
  context: {
    readonly group: string;
    readonly logger: ServiceLogger;
    readonly setState: (state: ConsumerState) => void;
    readonly onJoin?: (memberAssignment: Record<string, number[]>) => void;
    readonly onFatalError?: (error: Error) => void;
  },
): void {
  const { group, logger, setState } = context;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    setState('consuming');
    context.onJoin?.(payload.memberAssignment);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) {
      logger.warn({ err: payload.error, group }, 'consumer crashed; kafkajs restarts it');
      setState('joining');
      return;
    }
    setState('crashed');
    logger.fatal({ err: payload.error, group }, 'consumer crashed and will not restart');
    context.onFatalError?.(payload.error);
  });
}

/** The record, decoded and validated against its route's contract; throws ContractViolationError. */
export function decodeRecord(
  route: ConsumerRoute,
  partition: number,
  message: KafkaMessage,
  headers: Readonly<Record<string, string>>,
): ConsumedRecord {
  const value = decodeMessage(route.contract, message.value, headers[MESSAGE_HEADERS.schema]);
  return consumedRecordOf(route, partition, message, headers, value);
}

/** The record with its value as it came, for a route whose handler decodes it (`handlerDecodes`). */
export function undecodedRecord(
  route: ConsumerRoute,
  partition: number,
  message: KafkaMessage,
  headers: Readonly<Record<string, string>>,
): ConsumedRecord<Buffer | null> {
  return consumedRecordOf(route, partition, message, headers, message.value);
}

function consumedRecordOf<TValue>(
  route: ConsumerRoute,
  partition: number,
  message: KafkaMessage,
  headers: Readonly<Record<string, string>>,
  value: TValue,
): ConsumedRecord<TValue> {
  return {
    topicKey: route.topicKey,
    partition,
    offset: message.offset,
    key: message.key?.toString('utf8') ?? null,
    value,
    rawValue: message.value,
    timestamp: Number(message.timestamp),
    headers,
    // Logs name the trace the record belongs to: its W3C trace's id, or the earlier own header's.
    traceId: headers[MESSAGE_HEADERS.traceId] ?? traceIdOfTraceparent(headers['traceparent']) ?? randomUUID(),
  };
}

/** Logs and counts a record that broke its contract, and hands it to the consumer's `handleRejected`. */
export async function rejectRecord(
  route: ConsumerRoute,
  partition: number,
  message: KafkaMessage,
  headers: Readonly<Record<string, string>>,
  violation: ContractViolationError,
  handleRejected: (record: RejectedRecord) => Promise<void>,
  logger: ServiceLogger,
  metrics: MessagingMetrics | undefined,
): Promise<void> {
  logger.warn(
    {
      topic: route.topicKey,
      partition,
      offset: message.offset,
      code: violation.code,
      details: violation.details,
    },
    `rejected record: ${violation.message}`,
  );
  await handleRejected({
    topicKey: route.topicKey,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers,
    violation,
  });
  metrics?.recordsConsumed.inc({ topic: route.topicKey, outcome: 'contract_violation' });
}
