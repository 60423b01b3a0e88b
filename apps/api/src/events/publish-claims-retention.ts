import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { PeriodicTask } from '@skyhook/service-runtime';
import { type Clock } from '@skyhook/subscriptions';
import { API_CONFIG, type ApiConfig } from '../api.config';
import { CLOCK } from '../clock.provider';

/** Rows deleted per statement: short transactions, no long lock on a large backlog. */
const PRUNE_BATCH = 5_000;
/** How often the claims are pruned; the first pass runs a minute after start. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1_000;
const FIRST_PRUNE_AFTER_MS = 60 * 1_000;
const DAY_MS = 86_400_000;

export interface PrunedClaims {
  readonly publishedEvents: number;
  readonly idempotencyKeys: number;
}

/**
 * Keeps `published_events` and `idempotency_keys` (one small row per publish each) from growing
 * for ever: rows older than `PUBLISH_CLAIMS_RETENTION_DAYS` are deleted, in batches, every hour.
 * That bounds how long a retry is recognised: within the retention the same event id or key
 * answers as the first time; past it, the same request publishes again. A claim still pending
 * that old (a client that never retried a 503) goes too. Safe on every replica at once.
 */
@Injectable()
export class PublishClaimsRetention implements OnModuleInit, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {
    this.task = new PeriodicTask(
      async () => {
        const pruned = await this.prune();
        if (pruned.publishedEvents + pruned.idempotencyKeys > 0) {
          this.logger.info(pruned, 'publish claims past their retention deleted');
        }
      },
      PRUNE_INTERVAL_MS,
      (error) => this.logger.warn({ err: error }, 'pruning publish claims failed; retrying'),
    );
  }

  onModuleInit(): void {
    this.task.start(FIRST_PRUNE_AFTER_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** Deletes every claim and key older than the retention; returns how many of each. */
  async prune(): Promise<PrunedClaims> {
    const cutoff = new Date(this.clock.now().getTime() - this.config.PUBLISH_CLAIMS_RETENTION_DAYS * DAY_MS);
    return {
      publishedEvents: await this.deleteOlderThan('published_events', cutoff),
      idempotencyKeys: await this.deleteOlderThan('idempotency_keys', cutoff),
    };
  }

  private async deleteOlderThan(
    table: 'published_events' | 'idempotency_keys',
    cutoff: Date,
  ): Promise<number> {
    let deleted = 0;
    for (;;) {
      const [, count] = await this.dataSource.query<[unknown[], number]>(
        `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE created_at < $1 LIMIT ${PRUNE_BATCH})`,
        [cutoff],
      );
      deleted += count;
      if (count < PRUNE_BATCH) return deleted;
    }
  }
}
