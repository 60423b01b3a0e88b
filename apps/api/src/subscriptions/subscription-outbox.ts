import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type SubscriptionEvent, subscriptionEventContract } from '@skyhook/contracts';
import { ContractProducer } from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';

/** Only one relay publishes at a time across every api replica: per-subscription order is kept. */
const RELAY_LOCK_KEY = 7_236_014_522_102;
const RELAY_BATCH = 500;
const RELAY_POLL_MS = 250;

/**
 * Transactional outbox for subscription events. A command's event is written in the same
 * Postgres transaction as its version bump, so an accepted change can never be lost nor two
 * commands claim one version; the relay then hands events to Kafka in commit order and
 * deletes them once acknowledged. A crash in between republishes: consumers skip versions
 * they have already applied.
 */
@Injectable()
export class SubscriptionOutbox implements OnModuleInit, OnApplicationShutdown {
  private running: Promise<void> | undefined;
  private rerun = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: ContractProducer,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  async enqueue(manager: EntityManager, event: SubscriptionEvent): Promise<void> {
    await manager.query(
      `INSERT INTO subscription_outbox (subscription_id, version, event) VALUES ($1, $2, $3)`,
      [event.subscriptionId, event.version, JSON.stringify(event)],
    );
  }

  onModuleInit(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Publishes now (after a command commits) instead of waiting for the next poll. */
  nudge(): Promise<void> {
    if (this.running !== undefined) {
      this.rerun = true;
      return this.running;
    }
    this.running = this.drain()
      .catch((error: unknown) =>
        this.logger.warn({ err: error }, 'subscription outbox relay failed; retrying'),
      )
      .finally(() => {
        this.running = undefined;
        if (this.rerun && !this.stopped) {
          this.rerun = false;
          void this.nudge();
        }
      });
    return this.running;
  }

  /** Resolves once every event enqueued so far has been acknowledged by Kafka. */
  async flush(): Promise<void> {
    for (;;) {
      await this.nudge();
      const [row] = await this.dataSource.query<{ pending: string }[]>(
        'SELECT count(*) AS pending FROM subscription_outbox',
      );
      if (row?.pending === '0') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.nudge().finally(() => this.schedule());
    }, RELAY_POLL_MS);
  }

  private async drain(): Promise<void> {
    for (;;) {
      const published = await this.dataSource.transaction(async (manager) => {
        const [lock] = await manager.query<{ locked: boolean }[]>(
          'SELECT pg_try_advisory_xact_lock($1) AS locked',
          [RELAY_LOCK_KEY],
        );
        if (lock?.locked !== true) return 0;
        const rows = await manager.query<{ id: string; event: SubscriptionEvent }[]>(
          'SELECT id, event FROM subscription_outbox ORDER BY id LIMIT $1',
          [RELAY_BATCH],
        );
        if (rows.length === 0) return 0;
        await this.producer.send(
          subscriptionEventContract,
          'subscriptionEvents',
          rows.map((row) => row.event),
        );
        await manager.query('DELETE FROM subscription_outbox WHERE id = ANY($1::bigint[])', [
          rows.map((row) => row.id),
        ]);
        return rows.length;
      });
      if (published < RELAY_BATCH) return;
    }
  }
}
