import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type KafkaMessage,
  type PartitionAssigner,
  type PartitionOffset,
  type TopicPartitions,
} from 'kafkajs';
import { ContractViolationError } from '@skyhook/contracts';
import { type ServiceLogger } from '@skyhook/observability';
import {
  type ConsumedRecord,
  type ConsumerRoute,
  type ConsumerState,
  type RejectedRecord,
} from './consumed-records';
import { headersOf } from './contract-consumer';
import { consumerGroupIdOf, type KafkaSettings, topicNameOf } from './kafka-config';
import { retryKafkaAtStartup } from './kafka-startup-retry';
import { type MessagingMetrics, type UnfinishedRecordAge } from './messaging-metrics';
import { createGroupConsumer, decodeRecord, followConsumerState, rejectRecord } from './record-intake';
import { PartitionProgress } from './partition-progress';
import { decodeDispatchFrontier, encodeDispatchFrontier, PartitionFrontier } from './dispatch-frontier';
import { onAbort, sleepUnlessAborted } from './abort-listeners';
import { type FetchBatching } from './adaptive-fetch';
import { PendingBudget } from './pending-budget';
import { handleInTrace } from './record-tracing';

export interface ConcurrentConsumerOptions {
  /** Logical group name; the topic prefix is applied. */
  readonly group: string;
  readonly routes: readonly ConsumerRoute[];
  /**
   * Resolves once the record's work is durably handed on. Records run concurrently and finish
   * in any order; a rejection is logged and the record retried after a pause, in place.
   * `stopping` aborts when the consumer stops, or when the record's partition is taken away in a
   * rebalance: work still waiting should give up (reject), and is then re-delivered to whoever
   * gets the partition (a partition's work never goes on beside its new owner's). `beforeDispatch` resolves once the
   * record may have an effect that a crash would leave unrecorded (a webhook sent): with a
   * `dispatchFrontier`, once the frontier recorded covers it; it rejects when that cannot be
   * recorded (the consumer stopping, the partition taken away, the coordinator refusing), and
   * the handler then must not have the effect.
   */
  readonly handleRecord: (
    record: ConsumedRecord,
    stopping: AbortSignal,
    beforeDispatch: () => Promise<void>,
  ) => Promise<void>;
  /** Must be durable too (e.g. a dead-letter record) before the offset moves past it. */
  readonly handleRejected: (record: RejectedRecord) => Promise<void>;
  /** A partition with this many unfinished records is paused until half of them finish. */
  readonly maxPendingPerPartition: number;
  /**
   * Holds no more unfinished records over all partitions than it finishes in this long at its
   * recent pace (`PendingBudget`, never fewer than `maxPendingPerPartition`); past that, a
   * partition holding its even share is paused. Unset: `maxPendingPerPartition` alone bounds it.
   */
  readonly pendingHorizonMs?: number;
  /** How often the finished prefix of each partition is committed. */
  readonly commitIntervalMs?: number;
  readonly fromBeginning?: boolean;
  /** Called when kafkajs gives up on the consumer; the service should exit and be restarted. */
  readonly onFatalError?: (error: Error) => void;
  /**
   * Keep a dispatch frontier in the committed offsets' metadata (ADR 0018), for work whose effect
   * a crash can leave unrecorded: records an earlier owner may have handled come to the handler
   * with `possiblyHandledBefore`. A handler's `beforeDispatch` beyond the frontier recorded so far
   * waits for a commit raising it, one for every dispatch that starts meanwhile.
   */
  readonly dispatchFrontier?: boolean;
  /** How far ahead a frontier commit records (`FRONTIER_LEAD_MS` by default; 0: no lead). */
  readonly dispatchFrontierLeadMs?: number;
  /** How its fetches batch while records flow (`FetchBatching`); unset: each fetch takes what has come. */
  readonly fetchBatching?: FetchBatching;
  /**
   * How the group's partitions are shared out, most preferred first (kafkajs' round robin when
   * unset). A group only uses an assigner every member offers: list round robin last to keep a
   * rolling upgrade's mixed group assignable.
   */
  readonly partitionAssigners?: readonly PartitionAssigner[];
  /**
   * How long a fetch waits when nothing comes (200 ms by default). The broker answers as soon as
   * a record arrives whatever this says; it spaces an idle consumer's fetches, and bounds how long
   * `stop` waits for the one in flight and how long a consumer whose partitions are all paused
   * waits before it looks again.
   */
  readonly idleFetchWaitMs?: number;
}

/**
 * Waits before a failed record is tried again, by failures so far: capped at a second, so a record
 * whose handler failed while the broker or a dependency was away goes on within a second of its
 * return (a 15 s cap held work for most of that after a broker restart).
 */
const HANDLER_RETRY_MS = [200, 500, 1_000];

/** How long a batch waits before its partition's frontier is read again after a failed read. */
const FRONTIER_RELOAD_MS = 500;

/** A dispatch that waits this long for its frontier commit is logged. */
const SLOW_FRONTIER_WAIT_MS = 250;

/** `beforeDispatch` of a consumer without a frontier: nothing to record. */
const NOTHING_TO_RECORD = (): Promise<void> => Promise.resolve();

/** A dispatch that may not start: the frontier covering it could not be recorded. */
export class DispatchFrontierNotRecordedError extends Error {
  constructor(reason: string) {
    super(`the dispatch frontier is not recorded: ${reason}`);
    this.name = 'DispatchFrontierNotRecordedError';
  }
}

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
  /** Aborts the work of one partition's assignment: taken away, or the consumer stopping. */
  private readonly partitionWork = new WeakMap<PartitionProgress, AbortController>();
  private readonly frontierByPartition = new Map<string, PartitionFrontier>();
  /** Reads the committed frontiers of the latest assignment; undefined until wanted, or after a failure. */
  private frontiersLoading: Promise<void> | undefined;
  private assignment: Record<string, number[]> = {};
  private joins = 0;
  private readonly admin: Admin | undefined;
  /** The highest offset each partition's dispatches wait for, to be recorded by the next frontier commit. */
  private readonly wantedFrontiers = new Map<string, { progress: PartitionProgress; upTo: bigint }>();
  private frontierCommit: Promise<void> | undefined;
  /** When a slow frontier wait was last logged. */
  private slowFrontierLoggedAt = 0;
  /** Commits through the running consumer's group without kafkajs' retries; set by every batch. */
  private commitDirectly: EachBatchPayload['commitOffsetsIfNecessary'] | undefined;
  private readonly resumeByPartition = new Map<string, () => void>();
  private readonly budget: PendingBudget | undefined;
  /** Partitions of the latest assignment: a budget's even share is over them all. */
  private assignedPartitions = 1;
  private currentState: ConsumerState = 'idle';
  private commitTimer: NodeJS.Timeout | undefined;
  private commitInFlight: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Handlers running (finished or not, a record's handler stops running when it settles). */
  private running = 0;
  private readonly stopSignal = new AbortController();
  private drained: (() => void) | undefined;
  private readonly stopWatchingUnfinished: () => void;

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
    this.consumer = createGroupConsumer(kafka, settings, options.group, {
      maxWaitTimeInMs: options.idleFetchWaitMs ?? 200,
      batching: options.fetchBatching,
      partitionAssigners: options.partitionAssigners,
    });
    this.admin = options.dispatchFrontier === true ? kafka.admin() : undefined;
    this.budget =
      options.pendingHorizonMs === undefined
        ? undefined
        : new PendingBudget(options.pendingHorizonMs, options.maxPendingPerPartition);
    this.stopWatchingUnfinished =
      metrics?.watchUnfinishedRecords(() => this.unfinishedRecordAges()) ?? (() => undefined);
    followConsumerState(this.consumer, {
      group: options.group,
      logger,
      setState: (state) => (this.currentState = state),
      onJoin: (memberAssignment) => {
        this.assignedPartitions = Object.values(memberAssignment).reduce(
          (count, partitions) => count + partitions.length,
          0,
        );
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

  /** How long the oldest unfinished record has been in hand, over every partition (0 when none is). */
  oldestPendingAgeMs(now = Date.now()): number {
    let oldest = now;
    for (const progress of this.progressByPartition.values()) {
      oldest = Math.min(oldest, progress.oldestPendingTakenAt ?? now);
    }
    return now - oldest;
  }

  /** The oldest unfinished record's age per partition that has one. */
  private unfinishedRecordAges(): UnfinishedRecordAge[] {
    const now = Date.now();
    const ages: UnfinishedRecordAge[] = [];
    for (const [partitionKey, progress] of this.progressByPartition) {
      const takenAt = progress.oldestPendingTakenAt;
      if (takenAt === undefined) continue;
      const separator = partitionKey.lastIndexOf(':');
      const topicName = partitionKey.slice(0, separator);
      ages.push({
        group: this.options.group,
        topic: this.routesByTopicName.get(topicName)?.topicKey ?? topicName,
        partition: Number(partitionKey.slice(separator + 1)),
        ageSeconds: (now - takenAt) / 1_000,
      });
    }
    return ages;
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
        await this.admin?.connect();
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
      this.stopWatchingUnfinished();
      this.currentState = 'stopped';
      return;
    }
    this.stopping = true;
    this.stopSignal.abort();
    for (const progress of this.progressByPartition.values()) this.partitionWork.get(progress)?.abort();
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
    await this.admin?.disconnect();
    this.stopWatchingUnfinished();
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
      this.partitionWork.set(progress, new AbortController());
    }
    let frontier: PartitionFrontier | undefined;
    if (this.admin !== undefined) {
      this.commitDirectly = (offsets) => payload.commitOffsetsIfNecessary(offsets);
      frontier = await this.frontierOf(partitionKey);
      // Not known: which records may have been handled before is unknown too; take none for now.
      if (frontier === undefined) {
        await sleepUnlessAborted(FRONTIER_RELOAD_MS, this.stopSignal.signal).catch(() => undefined);
        return;
      }
    }
    // Counted once a batch: what finishes while the batch is taken only leaves more room.
    let totalPending = this.budget === undefined ? 0 : this.pending;
    const takenAt = Date.now();
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale() || this.stopping) break;
      const offset = BigInt(message.offset);
      // After a rebalance kafkajs fetches again from the committed offset: skip what is in hand.
      if (progress.hasTaken(offset)) {
        payload.resolveOffset(message.offset);
        continue;
      }
      if (
        progress.pending >= this.options.maxPendingPerPartition ||
        this.budget?.admits(progress.pending, totalPending, this.assignedPartitions, takenAt) === false
      ) {
        this.resumeByPartition.set(partitionKey, payload.pause());
        break;
      }
      totalPending += 1;
      progress.take(offset);
      frontier?.noteTaken(offset);
      payload.resolveOffset(message.offset);
      const record = await this.decode(route, batch.partition, message);
      if (record === undefined) {
        progress.finish(offset);
      } else if (frontier === undefined) {
        void this.work(record, progress, partitionKey, offset, NOTHING_TO_RECORD);
      } else {
        const marked = frontier.possiblyHandledBefore(offset)
          ? { ...record, possiblyHandledBefore: true as const }
          : record;
        const dispatching = this.beforeDispatchOf(partitionKey, progress, frontier, offset);
        void this.work(marked, progress, partitionKey, offset, dispatching);
      }
    }
  }

  /** What a record's handler awaits before its dispatch: the frontier recorded up to its offset. */
  private beforeDispatchOf(
    partitionKey: string,
    progress: PartitionProgress,
    frontier: PartitionFrontier,
    offset: bigint,
  ): () => Promise<void> {
    return async () => {
      if (frontier.covers(offset)) {
        if (frontier.wantsRenewal(offset)) this.renewFrontier(partitionKey, progress, offset);
        return;
      }
      const startedAt = Date.now();
      try {
        await this.untilFrontierCovers(partitionKey, progress, frontier, offset);
      } finally {
        const waitedMs = Date.now() - startedAt;
        // Slow frontier commits hold dispatches back: say so (a coordinator moving, a broker
        // leaving), once a second at most, however many dispatches waited.
        if (waitedMs >= SLOW_FRONTIER_WAIT_MS && Date.now() - this.slowFrontierLoggedAt >= 1_000) {
          this.slowFrontierLoggedAt = Date.now();
          this.logger.warn(
            { group: this.options.group, partition: partitionKey, waitedMs },
            'a dispatch waited for its dispatch frontier to be recorded',
          );
        }
      }
    };
  }

  /** Records the next frontier in the background, before a dispatch has to wait for it. */
  private renewFrontier(partitionKey: string, progress: PartitionProgress, offset: bigint): void {
    const wanted = this.wantedFrontiers.get(partitionKey);
    if (wanted === undefined || wanted.progress !== progress || wanted.upTo < offset) {
      this.wantedFrontiers.set(partitionKey, { progress, upTo: offset });
    }
    if (this.frontierCommit !== undefined) return;
    this.frontierCommit = this.commitWantedFrontiers();
    // Nobody waits on it: a refusal (a coordinator moving) is tried again by the next dispatch.
    this.frontierCommit.catch(() => undefined);
  }

  private async untilFrontierCovers(
    partitionKey: string,
    progress: PartitionProgress,
    frontier: PartitionFrontier,
    offset: bigint,
  ): Promise<void> {
    while (!frontier.covers(offset)) {
      if (this.stopping) throw new DispatchFrontierNotRecordedError('the consumer is stopping');
      if (this.progressByPartition.get(partitionKey) !== progress) {
        throw new DispatchFrontierNotRecordedError(`partition ${partitionKey} was taken away`);
      }
      const wanted = this.wantedFrontiers.get(partitionKey);
      if (wanted === undefined || wanted.progress !== progress || wanted.upTo < offset) {
        this.wantedFrontiers.set(partitionKey, { progress, upTo: offset });
      }
      // A commit in flight leaves this offset to the next one, which takes every offset wanted meanwhile.
      this.frontierCommit ??= this.commitWantedFrontiers();
      // It may wait behind a regular commit that kafkajs retries (about 37 s at most); a stop does not wait.
      await this.unlessStopping(this.frontierCommit);
    }
  }

  private unlessStopping(commit: Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const unregister = onAbort(this.stopSignal.signal, () =>
        reject(new DispatchFrontierNotRecordedError('the consumer is stopping')),
      );
      commit.then(
        () => {
          unregister();
          resolve();
        },
        (error: Error) => {
          unregister();
          reject(error);
        },
      );
    });
  }

  /**
   * One commit raising the frontier of every partition whose dispatches wait for it, in line
   * with the other commits so that none built before it lands after it with a lower frontier.
   * Sent without kafkajs' retries: a refusal (a rebalance, the coordinator gone) fails the
   * dispatches waiting, and their records are tried again.
   */
  private commitWantedFrontiers(): Promise<void> {
    const round = this.commitInFlight.then(async () => {
      const wanted = [...this.wantedFrontiers];
      this.wantedFrontiers.clear();
      const byTopic = new Map<string, (PartitionOffset & { metadata: string })[]>();
      const recorded: (() => void)[] = [];
      for (const [partitionKey, { progress, upTo }] of wanted) {
        // Taken away meanwhile: its dispatches find out and give up.
        if (this.progressByPartition.get(partitionKey) !== progress) continue;
        const frontier = this.frontierByPartition.get(partitionKey);
        if (frontier?.covers(upTo) === true) continue;
        const finished = progress.finishedPosition();
        const offset = finished ?? frontier?.position?.toString();
        // A record is dispatched only once its partition's frontier is read, and taking it sets a
        // position: without them this is a bug, failed rather than waited on for ever.
        if (frontier === undefined || offset === undefined) {
          throw new DispatchFrontierNotRecordedError(`no frontier or position known for ${partitionKey}`);
        }
        const separator = partitionKey.lastIndexOf(':');
        const topic = partitionKey.slice(0, separator);
        const partitions = byTopic.get(topic) ?? [];
        const ahead = frontier.frontierAhead(upTo);
        partitions.push({
          partition: Number(partitionKey.slice(separator + 1)),
          offset,
          metadata: encodeDispatchFrontier(ahead),
        });
        byTopic.set(topic, partitions);
        recorded.push(() => {
          frontier.markRecorded(ahead, upTo);
          if (finished !== undefined) progress.markCommitted(finished);
        });
      }
      if (recorded.length === 0) return;
      if (this.stopping) throw new DispatchFrontierNotRecordedError('the consumer is stopping');
      const commit = this.commitDirectly;
      if (commit === undefined) throw new DispatchFrontierNotRecordedError('the consumer has no batch yet');
      await commit({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
      for (const markRecorded of recorded) markRecorded();
    });
    // Settled before the dispatches waiting on it go on, so that those still uncovered start the next one.
    const done = () => {
      if (this.frontierCommit === round) this.frontierCommit = undefined;
    };
    this.commitInFlight = round.then(done, done);
    return round;
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
    if (Object.keys(assignment).length === 0) {
      this.frontiersLoading = Promise.resolve();
      return;
    }
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
              new PartitionFrontier(
                { offset: position >= 0n ? position : undefined, frontier },
                this.options.dispatchFrontierLeadMs,
              ),
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
    beforeDispatch: () => Promise<void>,
  ): Promise<void> {
    this.running += 1;
    try {
      await this.workUntilDone(record, progress, partitionKey, offset, beforeDispatch);
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
    beforeDispatch: () => Promise<void>,
  ): Promise<void> {
    const started = performance.now();
    const stopping = this.partitionWork.get(progress)?.signal ?? this.stopSignal.signal;
    for (let failures = 0; ; failures += 1) {
      try {
        await handleInTrace(record, () => this.options.handleRecord(record, stopping, beforeDispatch));
        break;
      } catch (error) {
        // A stopping consumer leaves the record unfinished: it is re-delivered after the restart.
        // So does one whose partition was taken away: the new owner has the record.
        if (this.stopping || this.progressByPartition.get(partitionKey) !== progress) return;
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
    this.budget?.noteFinished();
    if (this.resumeByPartition.size > 0 && !this.stopping) this.resumeWhereRoom();
  }

  /**
   * Resumes the paused partitions that may take records again: half their own bound finished
   * and, with a budget, room in it. Room in the budget comes from any partition's finishes, so
   * every finish looks over all paused partitions, not only its own.
   */
  private resumeWhereRoom(): void {
    const totalPending = this.budget === undefined ? 0 : this.pending;
    const partitions = this.assignedPartitions;
    for (const [partitionKey, resume] of this.resumeByPartition) {
      const pending = this.progressByPartition.get(partitionKey)?.pending ?? 0;
      if (pending > this.options.maxPendingPerPartition / 2) continue;
      if (this.budget?.readmits(pending, totalPending, partitions) === false) continue;
      this.resumeByPartition.delete(partitionKey);
      resume();
    }
  }

  /**
   * Commits each partition's finished prefix, with its dispatch frontier (a commit without one
   * would erase it); one commit request at a time.
   */
  private commitFinished(): Promise<void> {
    this.commitInFlight = this.commitInFlight.then(async () => {
      const offsets: { topic: string; partition: number; offset: string; metadata?: string | null }[] = [];
      for (const [partitionKey, progress] of this.progressByPartition) {
        const offset = progress.nextCommit();
        if (offset === undefined) continue;
        const frontier = this.frontierByPartition.get(partitionKey);
        const separator = partitionKey.lastIndexOf(':');
        offsets.push({
          topic: partitionKey.slice(0, separator),
          partition: Number(partitionKey.slice(separator + 1)),
          offset,
          ...(frontier === undefined ? {} : { metadata: frontier.metadata() }),
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
        const progress = this.progressByPartition.get(partitionKey);
        if (progress !== undefined) this.partitionWork.get(progress)?.abort();
        this.progressByPartition.delete(partitionKey);
        // kafkajs keeps a pause across rebalances: lift it, or the partition would stay paused if it came back.
        this.resumeByPartition.get(partitionKey)?.();
        this.resumeByPartition.delete(partitionKey);
      }
    }
  }
}
