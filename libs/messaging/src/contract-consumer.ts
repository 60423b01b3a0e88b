import { type Consumer, type EachBatchPayload, type IHeaders, type Kafka, type KafkaMessage } from 'kafkajs';
import { ContractViolationError } from '@skyhook/contracts';
import { type ServiceLogger } from '@skyhook/observability';
import { type FetchBatching } from './adaptive-fetch';
import { consumerGroupIdOf, type KafkaSettings, topicNameOf } from './kafka-config';
import { retryKafkaAtStartup } from './kafka-startup-retry';
import { type MessagingMetrics } from './messaging-metrics';
import { handleInTrace, traceBatch } from './record-tracing';
import { retryBackoffMs } from './retry-backoff';
import {
  createGroupConsumer,
  decodeRecord,
  type FetchBytes,
  followConsumerState,
  rejectRecord,
  undecodedRecord,
} from './record-intake';
import {
  type ConsumedRecord,
  type ConsumerRoute,
  type ConsumerState,
  type HandledRecords,
  type RejectedRecord,
} from './consumed-records';

export interface ContractConsumerOptions {
  /** Logical group name; the topic prefix is applied, so tests and environments stay apart. */
  readonly group: string;
  readonly routes: readonly ConsumerRoute[];
  /** Resolves once the record's work is durably handed on; a rejection retries the record. */
  readonly handleRecord: (record: ConsumedRecord) => Promise<void>;
  /**
   * Batched alternative to `handleRecord`: up to `maxRecordsPerCall` consecutive records of one
   * partition at a time, so the handler can hand their work on in one produce request.
   */
  readonly handleRecords?: (records: ConsumedRecord[]) => Promise<void | HandledRecords>;
  readonly maxRecordsPerCall?: number;
  /** Must be durable too (e.g. produced to a dead-letter topic) before the offset moves past it. */
  readonly handleRejected: (record: RejectedRecord) => Promise<void>;
  /** A new group reads each topic from its start: event-sourced state needs the whole log. */
  readonly fromBeginning?: boolean;
  readonly partitionsConsumedConcurrently?: number;
  /**
   * The most one fetch returns (kafkajs' defaults: 1 MiB a partition, 10 MiB in all). kafkajs
   * fetches again only once every batch of the last fetch is handled, so a consumer working
   * through a backlog idles between fetches less, the more each brings.
   */
  readonly fetchMaxBytes?: FetchBytes;
  /** How its fetches batch while records flow (`FetchBatching`); unset: each fetch takes what has come. */
  readonly fetchBatching?: FetchBatching;
  /** Long batches commit their done prefix at least this often, bounding re-delivery after a crash. */
  readonly commitIntervalMs?: number;
  /** Called when kafkajs gives up on the consumer; the service should exit and be restarted. */
  readonly onFatalError?: (error: Error) => void;
}

/**
 * Runs a kafkajs consumer group with manual commits: an offset is committed only after the
 * record's handler resolved, so a crash re-delivers (at least once) and never skips. Records
 * that break their contract are handed to `handleRejected` and never block the partition.
 */
export class ContractConsumer {
  private readonly consumer: Consumer;
  private readonly routesByTopicName: Map<string, ConsumerRoute>;
  private currentState: ConsumerState = 'idle';
  private readonly stopListeners: (() => Promise<void>)[] = [];
  /**
   * Done offsets not yet committed, by topic and partition. They are committed together at
   * most once per commit interval (and when the consumer stops), not after every batch: a
   * commit is a round trip to the group coordinator, and one per batch put several of them
   * between an event's arrival and its handling.
   */
  private readonly pendingCommits = new Map<string, { topic: string; partition: number; offset: string }>();
  private lastCommitAt = Date.now();
  /** Commits what an idle consumer left pending, so that its lag reads zero once it is done. */
  private idleCommitTimer: NodeJS.Timeout | undefined;

  constructor(
    kafka: Kafka,
    private readonly settings: KafkaSettings,
    private readonly options: ContractConsumerOptions,
    private readonly logger: ServiceLogger,
    private readonly metrics?: MessagingMetrics,
  ) {
    const decodingRoute = options.routes.find((route) => route.handlerDecodes === true);
    if (decodingRoute !== undefined && options.handleRecords === undefined) {
      throw new Error(`route ${decodingRoute.topicKey} has its handler decode: it needs handleRecords`);
    }
    this.routesByTopicName = new Map(
      options.routes.map((route) => [topicNameOf(settings, route.topicKey), route]),
    );
    // The broker answers a fetch as soon as data arrives; the wait only bounds how long an idle
    // fetch (and so a graceful stop) waits. kafkajs' 5 s default made every stop take 5 s.
    this.consumer = createGroupConsumer(kafka, settings, options.group, {
      maxWaitTimeInMs: 500,
      maxBytes: options.fetchMaxBytes,
      batching: options.fetchBatching,
    });
    followConsumerState(this.consumer, {
      group: options.group,
      logger,
      setState: (state) => (this.currentState = state),
      // A new generation: partitions may have moved, and a commit from the old one is refused.
      // Their done work is re-read by whoever owns them now (a duplicate, never a loss).
      onJoin: () => this.pendingCommits.clear(),
      onFatalError: options.onFatalError,
    });
  }

  get state(): ConsumerState {
    return this.currentState;
  }

  get groupId(): string {
    return consumerGroupIdOf(this.settings, this.options.group);
  }

  async start(): Promise<void> {
    this.currentState = 'joining';
    // A cluster still coming up (topics not yet known to every broker) is retried, bounded.
    await retryKafkaAtStartup(
      `subscribing consumer group ${this.groupId}`,
      async () => {
        await this.consumer.connect();
        await this.consumer.subscribe({
          topics: [...this.routesByTopicName.keys()],
          fromBeginning: this.options.fromBeginning ?? true,
        });
      },
      { timeoutMs: this.settings.startupTimeoutMs, logger: this.logger },
    );
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.consumeBatch(payload),
    });
    const intervalMs = this.options.commitIntervalMs ?? 1_000;
    // Checked four times an interval: done work waits at most 1.25 intervals for its commit,
    // which bounds what a kill -9 makes the next owner do again (ticking once an interval, out of
    // phase with the last commit, let it wait up to two).
    this.idleCommitTimer = setInterval(
      () => {
        if (Date.now() - this.lastCommitAt < intervalMs) return;
        this.commitPending().catch((error: unknown) => {
          // Refused during a rebalance: the new owner re-reads that work (a duplicate, never a loss).
          this.logger.warn({ err: error }, 'committing done offsets failed');
        });
      },
      Math.max(50, intervalMs / 4),
    );
    this.idleCommitTimer.unref();
  }

  /** Finishes the record in hand, commits the done prefix and leaves the group. */
  async stop(): Promise<void> {
    if (this.currentState === 'stopped') return;
    clearInterval(this.idleCommitTimer);
    await this.consumer.disconnect();
    this.currentState = 'stopped';
    await Promise.all(this.stopListeners.map((listener) => listener()));
  }

  /** Work to finish when the consumer stops (e.g. a lag monitor of this group). */
  onStopped(listener: () => Promise<void>): void {
    this.stopListeners.push(listener);
  }

  private async consumeBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const route = this.routesByTopicName.get(batch.topic);
    if (route === undefined) {
      throw new Error(`received a batch for unsubscribed topic ${batch.topic}`);
    }
    const handleRecords = this.options.handleRecords;
    const chunkSize = handleRecords === undefined ? 1 : (this.options.maxRecordsPerCall ?? 500);
    try {
      for (let start = 0; start < batch.messages.length; start += chunkSize) {
        if (!payload.isRunning() || payload.isStale()) break;
        const chunk = batch.messages.slice(start, start + chunkSize);
        await this.untilHandled(payload, () =>
          handleRecords === undefined
            ? this.consumeEach(route, batch.partition, chunk)
            : this.consumeChunk(route, batch.partition, chunk, handleRecords),
        );
        const last = chunk[chunk.length - 1];
        if (last !== undefined) {
          payload.resolveOffset(last.offset);
          this.pendingCommits.set(`${batch.topic}:${batch.partition}`, {
            topic: batch.topic,
            partition: batch.partition,
            offset: (BigInt(last.offset) + 1n).toString(),
          });
        }
        await payload.heartbeat();
      }
    } finally {
      // Also on a handler failure: what is done stays done; kafkajs retries from the failed record.
      const due = Date.now() - this.lastCommitAt >= (this.options.commitIntervalMs ?? 1_000);
      if (!payload.isStale() && (due || !payload.isRunning())) {
        await this.commitPending().catch((error: unknown) => {
          // Refused when the member's generation ended while the batch was in hand (a handler
          // that kept failing for longer than the session timeout, e.g. through a database
          // outage, sends no heartbeats and is evicted). Thrown from here, kafkajs' non-retriable
          // wrapper of that refusal would replace the batch's own error and stop the consumer
          // for good; swallowed, the next heartbeat rejoins the group, and the records are
          // re-read (a duplicate, never a loss).
          this.logger.warn({ err: error }, 'committing done offsets failed');
        });
      }
    }
  }

  /**
   * Runs `work` until it succeeds, in place: the batch stays in hand and the member keeps
   * heartbeating, so a handler failing for as long as its dependency is down (PostgreSQL for the
   * history writer, the brokers for fan-out's sends) neither gets the member evicted from its
   * group nor waits out a growing backoff: it is tried again at least once a second and goes on
   * within a second of the dependency's return. Work done before a failure stays done (the
   * handlers are idempotent). A stopping consumer, or one whose partitions were taken away
   * (a heartbeat refused in a rebalance), gives up with the error: the records are re-read.
   */
  private async untilHandled(payload: EachBatchPayload, work: () => Promise<void>): Promise<void> {
    for (let failures = 0; ; failures += 1) {
      try {
        await work();
        return;
      } catch (error) {
        if (!payload.isRunning() || payload.isStale()) throw error;
        const waitMs = retryBackoffMs(failures);
        if (failures % 10 === 0) {
          this.logger.warn(
            {
              err: error,
              topic: payload.batch.topic,
              partition: payload.batch.partition,
              failures: failures + 1,
              waitMs,
            },
            'handling records failed; retrying them',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        if (!payload.isRunning() || payload.isStale()) throw error;
        await payload.heartbeat();
      }
    }
  }

  private async commitPending(): Promise<void> {
    if (this.pendingCommits.size === 0) return;
    const offsets = [...this.pendingCommits.values()];
    this.pendingCommits.clear();
    this.lastCommitAt = Date.now();
    await this.consumer.commitOffsets(offsets);
  }

  private async consumeChunk(
    route: ConsumerRoute,
    partition: number,
    messages: KafkaMessage[],
    handleRecords: (records: ConsumedRecord[]) => Promise<void | HandledRecords>,
  ): Promise<void> {
    const started = performance.now();
    const records: ConsumedRecord[] = [];
    for (const message of messages) {
      const headers = headersOf(message.headers);
      if (route.handlerDecodes === true) {
        records.push(undecodedRecord(route, partition, message, headers));
        continue;
      }
      try {
        records.push(decodeRecord(route, partition, message, headers));
      } catch (error) {
        if (!(error instanceof ContractViolationError)) throw error;
        await this.reject(route, partition, message, headers, error);
      }
    }
    if (records.length > 0) {
      let handled: void | HandledRecords;
      const traced = traceBatch(records);
      try {
        handled = await handleRecords(traced.records);
        traced.finish();
      } catch (error) {
        traced.finish(error);
        this.metrics?.recordsConsumed.inc({ topic: route.topicKey, outcome: 'failed' }, records.length);
        throw error;
      }
      const rejected = route.handlerDecodes === true ? (handled?.rejected ?? []) : [];
      // What the handler wrote stays written; should a rejection fail, the call is retried
      // whole, which the handler's idempotence absorbs.
      for (const { index, violation } of rejected) {
        const record = records[index];
        const message = messages[index];
        if (record === undefined || message === undefined) {
          throw new Error(`the handler rejected record ${index} of a call of ${records.length}`);
        }
        await this.reject(route, partition, message, record.headers, violation);
      }
      const accepted = records.length - rejected.length;
      if (accepted > 0) {
        this.metrics?.recordsConsumed.inc({ topic: route.topicKey, outcome: 'handled' }, accepted);
      }
    }
    const seconds = (performance.now() - started) / 1_000 / messages.length;
    for (let i = 0; i < messages.length; i += 1)
      this.metrics?.recordHandlingSeconds.observe({ topic: route.topicKey }, seconds);
  }

  private reject(
    route: ConsumerRoute,
    partition: number,
    message: KafkaMessage,
    headers: Record<string, string>,
    error: ContractViolationError,
  ): Promise<void> {
    return rejectRecord(
      route,
      partition,
      message,
      headers,
      error,
      this.options.handleRejected,
      this.logger,
      this.metrics,
    );
  }

  /** One record at a time, each inside its trace: every log line of its handling carries it. */
  private consumeEach(route: ConsumerRoute, partition: number, messages: KafkaMessage[]): Promise<void> {
    return this.consumeChunk(route, partition, messages, async (records) => {
      for (const record of records) {
        await handleInTrace(record, () => this.options.handleRecord(record));
      }
    });
  }
}

/** Kafka record headers as strings (the first value of a repeated header). */
export function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (headers === undefined) return result;
  for (const [name, value] of Object.entries(headers)) {
    const single = Array.isArray(value) ? value[0] : value;
    if (single !== undefined) {
      result[name] = single.toString();
    }
  }
  return result;
}
