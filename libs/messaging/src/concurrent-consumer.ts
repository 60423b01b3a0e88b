import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type KafkaMessage,
  type PartitionOffset,
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
import { type MessagingMetrics } from './messaging-metrics';
import { createGroupConsumer, decodeRecord, followConsumerState, rejectRecord } from './record-intake';
import { PartitionProgress } from './partition-progress';
import { decodeDispatchFrontier, encodeDispatchFrontier, PartitionFrontier } from './dispatch-frontier';
import { retryBackoffMs } from './retry-backoff';
import { sleepUnlessAborted } from './abort-listeners';

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
  /**
   * Keep a dispatch frontier in the committed offsets' metadata (ADR 0018), for work whose effect
   * a crash can leave unrecorded: records an earlier owner may have handled come to the handler
   * with `possiblyHandledBefore`. Costs one commit round trip before each fetched batch that goes
   * beyond the frontier recorded so far.
   */
  readonly dispatchFrontier?: boolean;
}

/**
 * Waits before a failed record is tried again, by failures so far: capped at a second, so a record
 * whose handler failed while the broker or a dependency was away goes on within a second of its
 * return (a 15 s cap held work for most of that after a broker restart).
 */
const HANDLER_RETRY_MS = [200, 500, 1_000];

/**
 * The longest a batch waits for its frontier to be recorded before it gives the batch back to be
 * fetched again: a commit ahead of it may be retrying (kafkajs retries commits for about 37 s),
 * and a batch that does not return holds up the member's heartbeats and its rejoining.
 */
const FRONTIER_WAIT_MS = 2_000;

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
  private readonly frontierByPartition = new Map<string, PartitionFrontier>();
  /** Reads the committed frontiers of the latest assignment; undefined until wanted, or after a failure. */
  private frontiersLoading: Promise<void> | undefined;
  private assignment: Record<string, number[]> = {};
  private joins = 0;
  private frontierFailures = 0;
  private readonly admin: Admin | undefined;
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
    this.admin = options.dispatchFrontier === true ? kafka.admin() : undefined;
    followConsumerState(this.consumer, {
      group: options.group,
      logger,
      setState: (state) => (this.currentState = state),
      onJoin: (memberAssignment) => {
        this.forgetUnassigned(memberAssignment);
        this.loadFrontiersOf(memberAssignment);
      },
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
    await this.admin?.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [...this.routesByTopicName.keys()],
      fromBeginning: this.options.fromBeginning ?? true,
    });
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
    await this.commitFinished(true);
    await this.consumer.disconnect();
    await this.admin?.disconnect();
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
    let frontier: PartitionFrontier | undefined;
    if (this.admin !== undefined) {
      frontier = await this.frontierOf(partitionKey);
      // Not known: which records may have been handled before is unknown too; take none for now.
      if (frontier === undefined) return this.waitAfterFrontierFailure();
    }
    const { messages } = batch;
    for (let index = 0; index < messages.length; index += 1) {
      const message = messages[index] as KafkaMessage;
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
      if (frontier !== undefined && !frontier.covers(offset)) {
        // Once per batch: reserve as far as the records the partition has room for.
        const room = this.options.maxPendingPerPartition - progress.pending;
        const last = messages[Math.min(index + room, messages.length) - 1] ?? message;
        const reserved = await this.recordFrontier(payload, progress, frontier, offset, BigInt(last.offset));
        if (!reserved || !payload.isRunning() || payload.isStale() || this.stopping) break;
      }
      progress.take(offset);
      payload.resolveOffset(message.offset);
      const record = await this.decode(route, batch.partition, message);
      if (record === undefined) {
        progress.finish(offset);
      } else {
        const marked = frontier?.possiblyHandledBefore(offset) === true;
        void this.work(
          marked ? { ...record, possiblyHandledBefore: true } : record,
          progress,
          partitionKey,
          offset,
        );
      }
    }
  }

  /**
   * Records `frontier` up to `upTo` in the committed offset's metadata before the records up to
   * there are taken, and answers whether the coordinator acknowledged it. In line with the other
   * commits, so that none built before it lands after it with a lower frontier. Sent without
   * kafkajs' retries: a refusal (a rebalance, the coordinator gone) gives the batch back, to be
   * fetched again and reserved anew, instead of holding the member in its batch for half a minute.
   */
  private async recordFrontier(
    payload: EachBatchPayload,
    progress: PartitionProgress,
    frontier: PartitionFrontier,
    firstOffset: bigint,
    upTo: bigint,
  ): Promise<boolean> {
    const { topic, partition } = payload.batch;
    const partitionKey = `${topic}:${partition}`;
    const recorded = this.commitInFlight.then(async () => {
      // Stopping, or the partition was taken away while this waited: nothing more is taken.
      if (this.stopping || this.progressByPartition.get(partitionKey) !== progress) return false;
      if (frontier.covers(upTo)) return true;
      const finished = progress.finishedPosition();
      const offset = finished ?? frontier.positionFor(firstOffset).toString();
      const metadata = encodeDispatchFrontier(upTo);
      const commit: PartitionOffset & { metadata: string } = { partition, offset, metadata };
      await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [commit] }] });
      frontier.markRecorded(upTo);
      if (finished !== undefined) progress.markCommitted(finished);
      return true;
    });
    this.commitInFlight = recorded.then(
      () => undefined,
      () => undefined,
    );
    let timer: NodeJS.Timeout | undefined;
    try {
      const acknowledged = await Promise.race([
        recorded,
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), FRONTIER_WAIT_MS);
        }),
      ]);
      if (acknowledged) {
        this.frontierFailures = 0;
        return true;
      }
      this.logger.warn(
        { group: this.options.group, topic, partition, upTo: upTo.toString(), waitedMs: FRONTIER_WAIT_MS },
        'the dispatch frontier is not recorded yet; the batch is fetched again',
      );
      await this.waitAfterFrontierFailure();
      return false;
    } catch (error) {
      this.logger.warn(
        { err: error, group: this.options.group, topic, partition, upTo: upTo.toString() },
        'recording the dispatch frontier failed; the batch is fetched again',
      );
      await this.waitAfterFrontierFailure();
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A short pause before the records are fetched again, growing to a second while failures last. */
  private async waitAfterFrontierFailure(): Promise<void> {
    const waitMs = retryBackoffMs(this.frontierFailures);
    this.frontierFailures += 1;
    await sleepUnlessAborted(waitMs, this.stopSignal.signal).catch(() => undefined);
  }

  /** The partition's frontier, once the committed frontiers of the current assignment are read. */
  private async frontierOf(partitionKey: string): Promise<PartitionFrontier | undefined> {
    const known = this.frontierByPartition.get(partitionKey);
    if (known !== undefined) return known;
    if (this.frontiersLoading === undefined) this.loadFrontiersOf(this.assignment);
    await this.frontiersLoading;
    return this.frontierByPartition.get(partitionKey);
  }

  /**
   * Reads the committed offset and frontier of every assigned partition (after a join: the
   * previous owner's last commit is in), for the batches to wait on. A failed read is logged and
   * tried again by the next batch that needs it.
   */
  private loadFrontiersOf(assignment: Record<string, number[]>): void {
    this.assignment = assignment;
    if (this.admin === undefined) return;
    const admin = this.admin;
    const join = (this.joins += 1);
    const loading = (async () => {
      try {
        const committed = await admin.fetchOffsets({
          groupId: this.groupId,
          topics: Object.keys(assignment),
        });
        if (join !== this.joins) return;
        for (const { topic, partitions } of committed) {
          const assigned = new Set(assignment[topic] ?? []);
          for (const { partition, offset, metadata } of partitions) {
            if (!assigned.has(partition)) continue;
            const partitionKey = `${topic}:${partition}`;
            const frontier = decodeDispatchFrontier(metadata);
            const known = this.frontierByPartition.get(partitionKey);
            if (known !== undefined) {
              known.reassigned(frontier);
              continue;
            }
            const position = BigInt(offset);
            this.frontierByPartition.set(
              partitionKey,
              new PartitionFrontier({ offset: position >= 0n ? position : undefined, frontier }),
            );
          }
        }
      } catch (error) {
        this.logger.warn({ err: error, group: this.options.group }, 'reading the dispatch frontiers failed');
        if (join === this.joins) this.frontiersLoading = undefined;
      }
    })();
    this.frontiersLoading = loading;
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

  /**
   * Commits each partition's finished prefix, with its dispatch frontier; one commit request at
   * a time. The stopping consumer's last commit (`final`) lowers each frontier to the records it
   * took, which it can since it takes no more.
   */
  private commitFinished(final = false): Promise<void> {
    this.commitInFlight = this.commitInFlight.then(async () => {
      const offsets: { topic: string; partition: number; offset: string; metadata?: string | null }[] = [];
      for (const [partitionKey, progress] of this.progressByPartition) {
        const frontier = this.frontierByPartition.get(partitionKey);
        let offset = progress.nextCommit();
        let metadata = frontier?.metadata();
        if (final && frontier !== undefined) {
          const lowered = frontier.metadataAtStop(progress.lastTaken);
          if (lowered !== undefined) {
            metadata = lowered;
            offset ??= progress.finishedPosition() ?? frontier.position?.toString();
          }
        }
        if (offset === undefined) continue;
        const separator = partitionKey.lastIndexOf(':');
        offsets.push({
          topic: partitionKey.slice(0, separator),
          partition: Number(partitionKey.slice(separator + 1)),
          offset,
          ...(metadata === undefined ? {} : { metadata }),
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
    for (const partitionKey of [...this.frontierByPartition.keys()]) {
      if (!assigned.has(partitionKey)) this.frontierByPartition.delete(partitionKey);
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
