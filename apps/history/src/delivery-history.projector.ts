import { type DeliveryEvent } from '@skyhook/contracts';
import { type ServiceLogger } from '@skyhook/observability';
import { type DeliveryHistoryPartitions } from '@skyhook/persistence';
import {
  type HistoryBatch,
  oldestRetainedDay,
  planHistoryBatch,
  statusTimeOf,
} from './delivery-history-batch';
import { type DeliveryHistoryWriter, isMissingPartitionError } from './delivery-history.writer';
import { HistoryError, HistoryErrorCode } from './history.error';
import { type HistoryMetrics } from './history-metrics';

export interface DeliveryHistoryProjectorOptions {
  readonly retentionDays: number;
  readonly now?: () => number;
}

/**
 * Projects runs of delivery events into the history tables: plans the batch (events of
 * expired days left out), makes sure the days' partitions exist, writes it in one transaction.
 * A failure rejects with a HistoryError and nothing is written, so the consumer keeps the
 * records uncommitted and retries them: history falls behind during a database outage, it
 * never skips.
 */
export class DeliveryHistoryProjector {
  private readonly now: () => number;

  constructor(
    private readonly partitions: DeliveryHistoryPartitions,
    private readonly writer: DeliveryHistoryWriter,
    private readonly metrics: HistoryMetrics,
    private readonly logger: ServiceLogger,
    private readonly options: DeliveryHistoryProjectorOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async project(events: readonly DeliveryEvent[]): Promise<void> {
    const started = performance.now();
    let batch: HistoryBatch;
    let inserted: number;
    try {
      batch = this.plan(events);
      try {
        inserted = await this.write(batch);
      } catch (error) {
        if (!isMissingPartitionError(error)) throw error;
        // Another process dropped a day this one had cached. Planned again, an event of a day
        // that has just expired is left out; a day still kept is created again.
        this.logger.warn(
          { days: [...batch.days].map(isoDay) },
          'a history partition vanished; writing again',
        );
        this.partitions.forgetDays(batch.days);
        batch = this.plan(events);
        inserted = await this.write(batch);
      }
    } catch (error) {
      // Logged once, by the consumer that receives the rejection; the cause is in the message.
      this.metrics.batchFailures.inc();
      throw new HistoryError(
        HistoryErrorCode.WriteFailed,
        `writing ${events.length} delivery events failed: ${oneLine(error)}`,
        { cause: error },
      );
    }
    this.metrics.batchWriteSeconds.observe((performance.now() - started) / 1_000);
    this.record(events, batch, inserted);
  }

  private plan(events: readonly DeliveryEvent[]): HistoryBatch {
    return planHistoryBatch(events, oldestRetainedDay(this.now(), this.options.retentionDays));
  }

  private async write(batch: HistoryBatch): Promise<number> {
    await this.partitions.ensureDays(batch.days);
    return this.writer.write(batch);
  }

  private record(events: readonly DeliveryEvent[], batch: HistoryBatch, inserted: number): void {
    const { metrics } = this;
    if (batch.attempted > 0) metrics.eventsProjected.inc({ type: 'attempted' }, batch.attempted);
    if (batch.skipped > 0) metrics.eventsProjected.inc({ type: 'skipped' }, batch.skipped);
    if (inserted > 0) metrics.attemptRows.inc({ outcome: 'inserted' }, inserted);
    // Counted per event: an attempt re-produced within the same batch is "already present" too.
    if (batch.attempted > inserted)
      metrics.attemptRows.inc({ outcome: 'already_present' }, batch.attempted - inserted);
    if (batch.expired > 0) metrics.eventsExpired.inc(batch.expired);
    const now = this.now();
    for (const event of events) {
      if (batch.expired > 0 && Date.parse(event.publishedAt) < batch.oldestRetainedDayMs) continue;
      metrics.projectionDelaySeconds.observe(Math.max(0, now - Date.parse(statusTimeOf(event))) / 1_000);
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
