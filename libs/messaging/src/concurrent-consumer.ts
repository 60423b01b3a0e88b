import {
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type KafkaMessage,
  type TopicPartitions,
} from 'kafkajs';
import { ContractViolationError } from '@skyhook/contracts';
import { runWithTraceId, type ServiceLogger } from '@skyhook/observability';
import {
  type ConsumedRecord,
  type ConsumerRoute,
  type ConsumerState,
  headersOf,
  type RejectedRecord,
} from './contract-consumer';
import { consumerGroupIdOf, type KafkaSettings, topicNameOf } from './kafka-config';
import { retryKafkaAtStartup } from './kafka-startup-retry';
import { type MessagingMetrics } from './messaging-metrics';
import { createGroupConsumer, decodeRecord, followConsumerState, rejectRecord } from './record-intake';
import { PartitionProgress } from './partition-progress';

export interface ConcurrentConsumerOptions {
  /** Logical group name; the topic prefix is applied. */
  readonly group: string;
  readonly routes: readonly ConsumerRoute[];
  /**
   * Resolves once the record's work is durably handed on. Records run concurrently and finish
   * in any order; a rejection is logged and the record retried after a pause, in place.
   * `stopping` aborts when the consumer stops: work still waiting should give up (reject), and
   * is then re-delivered to whoever gets the partition.
   */
  readonly handleRecord: (record: ConsumedRecord, stopping: AbortSignal) => Promise<void>;
  /** Must be durable too (e.g. a dead-letter record) before the offset moves past it. */
  readonly handleRejected: (record: RejectedRecord) => Promise<void>;
  /** A partition with this many unfinished records is paused until half of them finish. */
  readonly maxPendingPerPartition: number;
  /** How often the finished prefix of each partition is committed. */
  readonly commitIntervalMs?: number;
  readonly fromBeginning?: boolean;
  /** Called when kafkajs gives up on the consumer; the service should exit and be restarted. */
  readonly onFatalError?: (error: Error) => void;
}

/**
 * Waits before a failed record is tried again, by failures so far: capped at a second, so a record
 * whose handler failed while the broker or a dependency was away goes on within a second of its
 * return (a 15 s cap held work for most of that after a broker restart).
 */
const HANDLER_RETRY_MS = [200, 500, 1_000];

/**
 * A consumer group whose records are worked on concurrently rather than one after another, so
 * one slow record (a stalled HTTP endpoint, a retry waiting to be due) never holds up the
 * records behind it. What keeps it at-least-once: a partition's offset is committed only up to
 * its contiguous finished prefix (`PartitionProgress`); a partition with too much unfinished
 * work is paused (back-pressure) and resumed when it drains; stopping waits for the work in
 * hand, commits what finished and leaves the rest to be re-delivered.
 */
export class ConcurrentConsumer {
  private readonly consumer: Consumer;
  private readonly routesByTopicName: Map<string, ConsumerRoute>;
  private readonly progressByPartition = new Map<string, PartitionProgress>();
  private readonly resumeByPartition = new Map<string, () => void>();
  private currentState: ConsumerState = 'idle';
  private commitTimer: NodeJS.Timeout | undefined;
  private commitInFlight: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Handlers running (finished or not, a record's handler stops running when it settles). */
  private running = 0;
  private readonly stopSignal = new AbortController();
  private drained: (() => void) | undefined;

  constructor(
    kafka: Kafka,
    private readonly settings: KafkaSettings,
    private readonly options: ConcurrentConsumerOptions,
    private readonly logger: ServiceLogger,
    private readonly metrics?: MessagingMetrics,
  ) {
    this.routesByTopicName = new Map(
      options.routes.map((route) => [topicNameOf(settings, route.topicKey), route]),
    );
    this.consumer = createGroupConsumer(kafka, settings, options.group, { maxWaitTimeInMs: 200 });
    followConsumerState(this.consumer, {
      group: options.group,
      logger,
      setState: (state) => (this.currentState = state),
      onJoin: (memberAssignment) => this.forgetUnassigned(memberAssignment),
      onFatalError: options.onFatalError,
    });
  }

  get state(): ConsumerState {
    return this.currentState;
  }

  get groupId(): string {
    return consumerGroupIdOf(this.settings, this.options.group);
  }

  /** Records taken and not yet finished, over every partition. */
  get pending(): number {
    let pending = 0;
    for (const progress of this.progressByPartition.values()) pending += progress.pending;
    return pending;
  }

  /**
   * Partitions paused for back-pressure, as kafkajs holds them: tells a partition held back
   * because its work is unfinished from one that is merely idle (`pending` cannot).
   */
  pausedPartitions(): TopicPartitions[] {
    return this.consumer.paused();
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
    this.commitTimer = setInterval(() => {
      void this.commitFinished();
    }, this.options.commitIntervalMs ?? 250);
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Taking records is cheap (the work runs detached), so one partition at a time is plenty.
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.takeBatch(payload),
    });
  }

  /**
   * Stops taking records, waits up to `drainTimeoutMs` for the work in hand, commits what
   * finished and leaves the group: unfinished work is handed back to whoever gets the partition.
   */
  async stop(drainTimeoutMs = 20_000): Promise<void> {
    if (this.currentState === 'stopped' || this.currentState === 'idle') {
      this.currentState = 'stopped';
      return;
    }
    this.stopping = true;
    this.stopSignal.abort();
    this.consumer.pause([...this.routesByTopicName.keys()].map((topic) => ({ topic })));
    if (this.running > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.drained = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, drainTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (this.running > 0) {
        this.logger.warn(
          { group: this.options.group, unfinished: this.running },
          'stopping with unfinished records: they will be re-delivered',
        );
      }
    }
    clearInterval(this.commitTimer);
    await this.commitFinished();
    await this.consumer.disconnect();
    this.currentState = 'stopped';
  }

  private async takeBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const route = this.routesByTopicName.get(batch.topic);
    if (route === undefined) throw new Error(`received a batch for unsubscribed topic ${batch.topic}`);
    const partitionKey = `${batch.topic}:${batch.partition}`;
    let progress = this.progressByPartition.get(partitionKey);
    if (progress === undefined) {
      progress = new PartitionProgress();
      this.progressByPartition.set(partitionKey, progress);
    }
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale() || this.stopping) break;
      const offset = BigInt(message.offset);
      // After a rebalance kafkajs fetches again from the committed offset: skip what is in hand.
      if (progress.hasTaken(offset)) {
        payload.resolveOffset(message.offset);
        continue;
      }
      if (progress.pending >= this.options.maxPendingPerPartition) {
        this.resumeByPartition.set(partitionKey, payload.pause());
        break;
      }
      progress.take(offset);
      payload.resolveOffset(message.offset);
      const record = await this.decode(route, batch.partition, message);
      if (record === undefined) {
        progress.finish(offset);
      } else {
        void this.work(record, progress, partitionKey, offset);
      }
    }
  }

  private async decode(
    route: ConsumerRoute,
    partition: number,
    message: KafkaMessage,
  ): Promise<ConsumedRecord | undefined> {
    const headers = headersOf(message.headers);
    try {
      return decodeRecord(route, partition, message, headers);
    } catch (error) {
      if (!(error instanceof ContractViolationError)) throw error;
      await rejectRecord(
        route,
        partition,
        message,
        headers,
        error,
        this.options.handleRejected,
        this.logger,
        this.metrics,
      );
      return undefined;
    }
  }

  private async work(
    record: ConsumedRecord,
    progress: PartitionProgress,
    partitionKey: string,
    offset: bigint,
  ): Promise<void> {
    this.running += 1;
    try {
      await this.workUntilDone(record, progress, partitionKey, offset);
    } finally {
      this.running -= 1;
      if (this.stopping && this.running === 0) this.drained?.();
    }
  }

  private async workUntilDone(
    record: ConsumedRecord,
    progress: PartitionProgress,
    partitionKey: string,
    offset: bigint,
  ): Promise<void> {
    const started = performance.now();
    for (let failures = 0; ; failures += 1) {
      try {
        await runWithTraceId(record.traceId, () => this.options.handleRecord(record, this.stopSignal.signal));
        break;
      } catch (error) {
        // A stopping consumer leaves the record unfinished: it is re-delivered after the restart.
        if (this.stopping) return;
        this.metrics?.recordsConsumed.inc({ topic: record.topicKey, outcome: 'failed' });
        const waitMs = HANDLER_RETRY_MS[Math.min(failures, HANDLER_RETRY_MS.length - 1)] ?? 1_000;
        this.logger.error(
          { err: error, topic: record.topicKey, partition: record.partition, offset: record.offset, waitMs },
          'record handling failed; retrying it',
        );
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        if (this.stopping) return;
      }
    }
    this.metrics?.recordsConsumed.inc({ topic: record.topicKey, outcome: 'handled' });
    this.metrics?.recordHandlingSeconds.observe(
      { topic: record.topicKey },
      (performance.now() - started) / 1_000,
    );
    progress.finish(offset);
    const resume = this.resumeByPartition.get(partitionKey);
    if (
      resume !== undefined &&
      progress.pending <= this.options.maxPendingPerPartition / 2 &&
      !this.stopping
    ) {
      this.resumeByPartition.delete(partitionKey);
      resume();
    }
  }

  /** Commits each partition's finished prefix; one commit request at a time. */
  private commitFinished(): Promise<void> {
    this.commitInFlight = this.commitInFlight.then(async () => {
      const offsets: { topic: string; partition: number; offset: string }[] = [];
      for (const [partitionKey, progress] of this.progressByPartition) {
        const offset = progress.nextCommit();
        if (offset === undefined) continue;
        const separator = partitionKey.lastIndexOf(':');
        offsets.push({
          topic: partitionKey.slice(0, separator),
          partition: Number(partitionKey.slice(separator + 1)),
          offset,
        });
      }
      if (offsets.length === 0) return;
      try {
        await this.consumer.commitOffsets(offsets);
        for (const { topic, partition, offset } of offsets) {
          this.progressByPartition.get(`${topic}:${partition}`)?.markCommitted(offset);
        }
      } catch (error) {
        // A rebalance in progress refuses commits; the next tick tries again (or the new owner re-delivers).
        this.logger.warn({ err: error, group: this.options.group }, 'commit failed; will retry');
      }
    });
    return this.commitInFlight;
  }

  /** Partitions taken away in a rebalance: their unfinished work will be re-delivered to the new owner. */
  private forgetUnassigned(assignment: Record<string, number[]>): void {
    const assigned = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) assigned.add(`${topic}:${partition}`);
    }
    for (const partitionKey of [...this.progressByPartition.keys()]) {
      if (!assigned.has(partitionKey)) {
        this.progressByPartition.delete(partitionKey);
        // kafkajs keeps a pause across rebalances: lift it, or the partition would stay paused if it came back.
        this.resumeByPartition.get(partitionKey)?.();
        this.resumeByPartition.delete(partitionKey);
      }
    }
  }
}
