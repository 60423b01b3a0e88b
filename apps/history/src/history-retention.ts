import { type DeliveryHistoryPartitions } from '@skyhook/persistence';
import { type ServiceLogger } from '@skyhook/observability';
import { PeriodicTask } from '@skyhook/service-runtime';
import { type HistoryMetrics } from './history-metrics';

const DAY_MS = 86_400_000;

export interface HistoryRetentionOptions {
  readonly retentionDays: number;
  readonly checkIntervalMs: number;
  readonly now?: () => number;
}

/**
 * Keeps history to its retention: drops the partitions of days wholly before now − retention
 * (a `DROP TABLE` per day, never row deletes) and creates today's and tomorrow's ahead of the
 * writes, at start and then every check interval. Several history processes may run it at
 * once: the partition DDL takes an advisory lock, and dropping or creating is idempotent.
 */
export class HistoryRetention {
  private readonly checks: PeriodicTask;
  private readonly now: () => number;

  constructor(
    private readonly partitions: DeliveryHistoryPartitions,
    private readonly metrics: HistoryMetrics,
    private readonly logger: ServiceLogger,
    private readonly options: HistoryRetentionOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.checks = new PeriodicTask(
      () => this.dropAndPrepare(),
      options.checkIntervalMs,
      (error) => logger.warn({ err: error }, 'history retention check failed; the next check tries again'),
    );
  }

  /** Runs the first check, and schedules the next ones. */
  async start(): Promise<void> {
    this.checks.start();
    await this.checks.nudge();
  }

  async stop(): Promise<void> {
    await this.checks.stop();
  }

  private async dropAndPrepare(): Promise<void> {
    const now = this.now();
    const cutoff = new Date(now - this.options.retentionDays * DAY_MS);
    const dropped = await this.partitions.dropDaysBefore(cutoff);
    for (const partition of dropped) this.metrics.partitionsDropped.inc({ table: partition.table });
    if (dropped.length > 0) {
      this.logger.info(
        {
          partitions: dropped.map((partition) => partition.name),
          retentionDays: this.options.retentionDays,
          cutoff: cutoff.toISOString(),
        },
        `dropped ${dropped.length} expired history partitions`,
      );
    }
    await this.partitions.ensureDays([now, now + DAY_MS]);
  }
}
