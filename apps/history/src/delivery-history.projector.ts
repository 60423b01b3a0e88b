import { CoalescedCalls } from '@skyhook/messaging';
import { type ServiceLogger } from '@skyhook/observability';
import { type DeliveryHistoryPartitions } from '@skyhook/persistence';
import {
  oldestRetainedDay,
  planHistoryBatch,
  type BrokenDeliveryEvent,
  decodeDeliveryEvents,
  type EncodedDeliveryEvent,
  type PreparedHistoryBatch,
  type DeliveryHistoryWriter,
  isMissingPartitionError,
  type HistoryBatchPreparer,
} from '@skyhook/delivery-history';
import { HistoryError, HistoryErrorCode } from './history.error';
import { type HistoryMetrics } from './history-metrics';
import { type DeliveryFailedNotifier } from './delivery-failed.notifier';

export interface DeliveryHistoryProjectorOptions {
  readonly retentionDays: number;
  readonly now?: () => number;
  /** Records `skyhook.delivery.failed` for the batch's final failures, once its rows are written. */
  readonly failureNotices?: Pick<DeliveryFailedNotifier, 'record'>;
}

/**
 * Writes in flight at once. Two overlap one write's preparation (on its thread) with the other's
 * transaction; calls arriving meanwhile wait and are written together, in one transaction.
 */
const CONCURRENT_WRITES = 2;
/** The most delivery events one transaction takes from calls that waited together. */
const MAX_EVENTS_PER_WRITE = 5_000;

/**
 * Projects calls of delivery events into the history tables: has them prepared (decoded,
 * planned with events of expired days left out, turned into rows; on a thread of its own),
 * makes sure the days' partitions exist, writes them in one transaction. Calls that arrive
 * while writes are in flight (each partition's batch is its own call) are written together, so
 * a fetch of many partitions costs a transaction or two, not one each. A failure rejects
 * with a HistoryError and nothing is written, so the consumer keeps the records uncommitted
 * and retries them: history falls behind during a database outage, it never skips. Records
 * that break the delivery event contract are not written; they are handed back, to be
 * dead-lettered.
 */
export class DeliveryHistoryProjector {
  private readonly now: () => number;
  private readonly writes: CoalescedCalls<EncodedDeliveryEvent, readonly BrokenDeliveryEvent[]>;

  constructor(
    private readonly preparation: Pick<HistoryBatchPreparer, 'prepare'>,
    private readonly partitions: DeliveryHistoryPartitions,
    private readonly writer: DeliveryHistoryWriter,
    private readonly metrics: HistoryMetrics,
    private readonly logger: ServiceLogger,
    private readonly options: DeliveryHistoryProjectorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.writes = new CoalescedCalls({
      run: (records) => this.projectTogether(records),
      share: (broken, start, count) =>
        broken
          .filter((record) => record.index >= start && record.index < start + count)
          .map((record) => ({ ...record, index: record.index - start })),
      maxConcurrentRuns: CONCURRENT_WRITES,
      maxItemsPerRun: MAX_EVENTS_PER_WRITE,
    });
  }

  /** Resolves once `records` are in history; with the ones that break the contract, by index. */
  project(records: readonly EncodedDeliveryEvent[]): Promise<readonly BrokenDeliveryEvent[]> {
    return this.writes.call(records);
  }

  private async projectTogether(
    records: readonly EncodedDeliveryEvent[],
  ): Promise<readonly BrokenDeliveryEvent[]> {
    const started = performance.now();
    let prepared: PreparedHistoryBatch;
    let inserted: number;
    try {
      prepared = await this.prepare(records);
      try {
        inserted = await this.write(prepared, records);
      } catch (error) {
        if (!isMissingPartitionError(error)) throw error;
        // Another process dropped a day this one had cached. Prepared again, an event of a day
        // that has just expired is left out; a day still kept is created again.
        this.logger.warn({ days: prepared.days.map(isoDay) }, 'a history partition vanished; writing again');
        this.partitions.forgetDays(prepared.days);
        prepared = await this.prepare(records);
        inserted = await this.write(prepared, records);
      }
    } catch (error) {
      // Logged once, by the consumer that receives the rejection; the cause is in the message.
      this.metrics.batchFailures.inc();
      throw new HistoryError(
        HistoryErrorCode.WriteFailed,
        `writing ${records.length} delivery events failed: ${oneLine(error)}`,
        { cause: error },
      );
    }
    this.metrics.batchWriteSeconds.observe((performance.now() - started) / 1_000);
    this.record(prepared, inserted);
    if (prepared.finalFailures.length > 0) await this.notifyFailures(prepared, records.length);
    return prepared.broken;
  }

  /**
   * After the rows' commit, in a transaction of its own: a failure here fails the call, the
   * records are consumed again, their rows are found already written, and the notices (whose
   * ids the failures determine) are recorded then. Never a notice without its history.
   */
  private async notifyFailures(prepared: PreparedHistoryBatch, recordCount: number): Promise<void> {
    if (this.options.failureNotices === undefined) return;
    try {
      await this.options.failureNotices.record(prepared.finalFailures);
    } catch (error) {
      this.metrics.batchFailures.inc();
      throw new HistoryError(
        HistoryErrorCode.WriteFailed,
        `recording failure notices for ${recordCount} delivery events failed: ${oneLine(error)}`,
        { cause: error },
      );
    }
  }

  private prepare(records: readonly EncodedDeliveryEvent[]): Promise<PreparedHistoryBatch> {
    return this.preparation.prepare(records, this.oldestRetainedDayMs());
  }

  private oldestRetainedDayMs(): number {
    return oldestRetainedDay(this.now(), this.options.retentionDays);
  }

  private async write(
    prepared: PreparedHistoryBatch,
    records: readonly EncodedDeliveryEvent[],
  ): Promise<number> {
    await this.partitions.ensureDays(prepared.days);
    // The merging write (rows already there: rare) plans the batch here, from the same records.
    return this.writer.writeRows(prepared.rows, () =>
      planHistoryBatch(decodeDeliveryEvents(records).events, this.oldestRetainedDayMs()),
    );
  }

  private record(prepared: PreparedHistoryBatch, inserted: number): void {
    const { metrics } = this;
    if (prepared.attempted > 0) metrics.eventsProjected.inc({ type: 'attempted' }, prepared.attempted);
    if (prepared.skipped > 0) metrics.eventsProjected.inc({ type: 'skipped' }, prepared.skipped);
    if (prepared.waiting > 0) metrics.eventsProjected.inc({ type: 'waiting' }, prepared.waiting);
    if (inserted > 0) metrics.attemptRows.inc({ outcome: 'inserted' }, inserted);
    // Counted per event: an attempt re-produced within the same batch is "already present" too.
    if (prepared.attempted > inserted)
      metrics.attemptRows.inc({ outcome: 'already_present' }, prepared.attempted - inserted);
    if (prepared.expired > 0) metrics.eventsExpired.inc(prepared.expired);
    const now = this.now();
    for (const statusTimeMs of prepared.statusTimesMs) {
      metrics.projectionDelaySeconds.observe(Math.max(0, now - statusTimeMs) / 1_000);
    }
  }
}

function isoDay(dayMs: number): string {
  return new Date(dayMs).toISOString().slice(0, 10);
}

/** The driver's message (and SQLSTATE), never the query's parameters. */
function oneLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code =
    (error as { driverError?: { code?: unknown } }).driverError?.code ?? (error as { code?: unknown }).code;
  const message = error.message.replace(/\s+/g, ' ').trim().slice(0, 500);
  return typeof code === 'string' ? `${message} (${code})` : message;
}
