import { type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type DataSource, type EntityManager } from 'typeorm';
import { type MessageContract, type TopicKey } from '@skyhook/contracts';
import { type ServiceLogger } from '@skyhook/observability';
import { PeriodicTask } from '@skyhook/service-runtime';
import { type ContractProducer } from './contract-producer';

const RELAY_BATCH = 500;
/**
 * Every writer nudges the relay after its commit, so the poll only catches what no nudge
 * announced (rows left by an instance that stopped, a nudge that found the lock busy too long):
 * at 250 ms it was most of what an idle api did.
 */
const RELAY_POLL_MS = 2_000;
/** A relay whose lock another instance holds looks again this soon, for up to the poll interval. */
const LOCK_BUSY_RETRY_MS = 25;

export interface OutboxDefinition<TPayload> {
  /**
   * Table with `id bigserial` and a jsonb `payload`; rows are deleted once Kafka acknowledged them.
   * A name from the code (it is written into the SQL), never from input.
   */
  readonly table: string;
  readonly contract: MessageContract<TPayload>;
  readonly topicKey: TopicKey;
  /** Only one relay per outbox publishes at a time across every replica: commit order is kept. */
  readonly lockKey: number;
}

/**
 * Transactional outbox: a change and the record announcing it commit together in Postgres;
 * the relay then hands records to Kafka in commit order and deletes them once acknowledged. A
 * crash in between republishes, which consumers tolerate (they are idempotent).
 */
export abstract class OutboxRelay<TPayload> implements OnModuleInit, OnApplicationShutdown {
  private readonly relay: PeriodicTask;

  protected constructor(
    private readonly definition: OutboxDefinition<TPayload>,
    protected readonly dataSource: DataSource,
    private readonly producer: ContractProducer,
    logger: ServiceLogger,
  ) {
    this.relay = new PeriodicTask(
      () => this.drain(),
      RELAY_POLL_MS,
      (error) => logger.warn({ err: error, outbox: definition.table }, 'outbox relay failed; retrying'),
    );
  }

  protected async insert(
    manager: EntityManager,
    columns: Record<string, unknown>,
    payload: TPayload,
  ): Promise<void> {
    const names = [...Object.keys(columns), 'payload'];
    const values = [...Object.values(columns), JSON.stringify(payload)];
    await manager.query(
      `INSERT INTO ${this.definition.table} (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
      values,
    );
  }

  onModuleInit(): void {
    this.relay.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }

  /** Publishes now (right after a commit) instead of waiting for the next poll; resolves once that pass ended. */
  nudge(): Promise<void> {
    return this.relay.nudge();
  }

  /** Resolves once everything enqueued so far has been acknowledged by Kafka. */
  async flush(): Promise<void> {
    for (;;) {
      await this.nudge();
      const [row] = await this.dataSource.query<{ pending: string }[]>(
        `SELECT count(*) AS pending FROM ${this.definition.table}`,
      );
      if (row?.pending === '0') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Records accepted but not yet acknowledged by Kafka, oldest first. */
  async pending(manager: EntityManager): Promise<TPayload[]> {
    const rows = await manager.query<{ payload: TPayload }[]>(
      `SELECT payload FROM ${this.definition.table} ORDER BY id`,
    );
    return rows.map((row) => row.payload);
  }

  /**
   * Publishes what waits. While another instance holds the outbox's lock (publishing its own
   * rows, which it may have read before this one's commit), this one looks again shortly rather
   * than leaving its rows to the next poll.
   */
  private async drain(): Promise<void> {
    const busyUntil = Date.now() + RELAY_POLL_MS;
    for (;;) {
      const published = await this.dataSource.transaction(async (manager) => {
        const [lock] = await manager.query<{ locked: boolean }[]>(
          'SELECT pg_try_advisory_xact_lock($1) AS locked',
          [this.definition.lockKey],
        );
        if (lock?.locked !== true) return 'lock-busy';
        const rows = await manager.query<{ id: string; payload: TPayload }[]>(
          `SELECT id, payload FROM ${this.definition.table} ORDER BY id LIMIT $1`,
          [RELAY_BATCH],
        );
        if (rows.length === 0) return 0;
        await this.producer.send(
          this.definition.contract,
          this.definition.topicKey,
          rows.map((row) => row.payload),
        );
        await manager.query(`DELETE FROM ${this.definition.table} WHERE id = ANY($1::bigint[])`, [
          rows.map((row) => row.id),
        ]);
        return rows.length;
      });
      if (published === 'lock-busy') {
        if (Date.now() >= busyUntil || this.relay.stopping) return;
        await new Promise((resolve) => setTimeout(resolve, LOCK_BUSY_RETRY_MS));
        continue;
      }
      if (published < RELAY_BATCH) return;
    }
  }
}
