import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { microsecondInstantSql, type PagePosition } from '@skyhook/persistence';
import { type DeliveryStatus } from '@skyhook/contracts';

export const REPLAY_JOB_STATES = ['running', 'completed', 'failed'] as const;
export type ReplayJobState = (typeof REPLAY_JOB_STATES)[number];

export interface ReplayJob {
  readonly id: string;
  readonly organisationId: string;
  readonly subscriptionId: string;
  readonly since: Date;
  readonly until: Date;
  readonly statuses: readonly DeliveryStatus[];
  readonly state: ReplayJobState;
  readonly matched: number;
  readonly enqueued: number;
  /** The last delivery enqueued; the next page starts after it. */
  readonly cursor: PagePosition | undefined;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly finishedAt: Date | null;
  /** `createdAt` at full precision, for the list's cursor. */
  readonly position: PagePosition;
}

interface ReplayJobRow {
  id: string;
  organisation_id: string;
  subscription_id: string;
  since: Date;
  until: Date;
  statuses: DeliveryStatus[];
  state: ReplayJobState;
  matched: number;
  enqueued: number;
  cursor_at: string | null;
  cursor_delivery_id: string | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  position_at: string;
}

const COLUMNS = `id, organisation_id, subscription_id, since, until, statuses, state, matched, enqueued,
  ${microsecondInstantSql('cursor_published_at')} AS cursor_at, cursor_delivery_id, error, created_at, updated_at,
  finished_at, ${microsecondInstantSql('created_at')} AS position_at`;

/** Replay jobs. Partner-facing reads take the organisation id; the runner's methods act for the system. */
@Injectable()
export class ReplayJobRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(
    manager: EntityManager,
    job: Pick<
      ReplayJob,
      'id' | 'organisationId' | 'subscriptionId' | 'since' | 'until' | 'statuses' | 'state' | 'matched'
    >,
  ): Promise<ReplayJob> {
    const rows = await manager.query<ReplayJobRow[]>(
      `INSERT INTO replay_jobs (id, organisation_id, subscription_id, since, until, statuses, state, matched, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $7 = 'running' THEN NULL ELSE now() END)
       RETURNING ${COLUMNS}`,
      [
        job.id,
        job.organisationId,
        job.subscriptionId,
        job.since.toISOString(),
        job.until.toISOString(),
        [...job.statuses],
        job.state,
        job.matched,
      ],
    );
    return jobOf(rows[0] as ReplayJobRow);
  }

  async find(
    organisationId: string,
    subscriptionId: string,
    id: string,
    manager?: EntityManager,
  ): Promise<ReplayJob | undefined> {
    const rows = await (manager ?? this.dataSource.manager).query<ReplayJobRow[]>(
      `SELECT ${COLUMNS} FROM replay_jobs WHERE id = $1 AND organisation_id = $2 AND subscription_id = $3`,
      [id, organisationId, subscriptionId],
    );
    return rows[0] === undefined ? undefined : jobOf(rows[0]);
  }

  /**
   * A running job of the subscription that replays the same statuses from the same instant, up
   * to `until` when the request named one (a request without `until` means "up to now", which
   * the running job already covers up to its own start).
   */
  async findRunningLike(
    manager: EntityManager,
    selection: {
      organisationId: string;
      subscriptionId: string;
      since: Date;
      until: Date | undefined;
      statuses: readonly DeliveryStatus[];
    },
  ): Promise<ReplayJob | undefined> {
    const rows = await manager.query<ReplayJobRow[]>(
      `SELECT ${COLUMNS} FROM replay_jobs
       WHERE state = 'running' AND organisation_id = $1 AND subscription_id = $2 AND since = $3
         AND ($4::timestamptz IS NULL OR until = $4::timestamptz)
         AND statuses @> $5::text[] AND statuses <@ $5::text[]
       ORDER BY created_at DESC LIMIT 1`,
      [
        selection.organisationId,
        selection.subscriptionId,
        selection.since.toISOString(),
        selection.until?.toISOString() ?? null,
        [...selection.statuses],
      ],
    );
    return rows[0] === undefined ? undefined : jobOf(rows[0]);
  }

  /** Newest first, strictly after `after`. */
  async list(
    organisationId: string,
    subscriptionId: string,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<{ jobs: ReplayJob[]; next: PagePosition | null }> {
    const parameters: unknown[] = [organisationId, subscriptionId, limit + 1];
    let cursor = '';
    if (after !== undefined) {
      parameters.push(after.at, after.id);
      cursor = 'AND (created_at, id) < ($4::timestamptz, $5)';
    }
    const rows = await this.dataSource.query<ReplayJobRow[]>(
      `SELECT ${COLUMNS} FROM replay_jobs WHERE organisation_id = $1 AND subscription_id = $2 ${cursor}
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      parameters,
    );
    const jobs = rows.slice(0, limit).map(jobOf);
    const last = jobs[jobs.length - 1];
    return { jobs, next: rows.length > limit && last !== undefined ? last.position : null };
  }

  /** For the runner: every running job, oldest first (any organisation). */
  async runningJobIds(limit: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT id FROM replay_jobs WHERE state = 'running' ORDER BY created_at LIMIT $1`,
      [limit],
    );
    return rows.map((row) => row.id);
  }

  /**
   * For the runner: the job, locked for the rest of the transaction, if it is still running and
   * no other instance holds it (that one is working a page of it: this instance moves on).
   */
  async lockRunning(manager: EntityManager, id: string): Promise<ReplayJob | undefined> {
    const rows = await manager.query<ReplayJobRow[]>(
      `SELECT ${COLUMNS} FROM replay_jobs WHERE id = $1 AND state = 'running' FOR UPDATE SKIP LOCKED`,
      [id],
    );
    return rows[0] === undefined ? undefined : jobOf(rows[0]);
  }

  /** After a page: what it enqueued, where the next page starts, and whether that was the last. */
  async recordPage(
    manager: EntityManager,
    id: string,
    page: { enqueued: number; cursor: PagePosition | undefined; finished: boolean },
  ): Promise<void> {
    await manager.query(
      `UPDATE replay_jobs SET enqueued = enqueued + $2,
         cursor_published_at = COALESCE($3::timestamptz, cursor_published_at),
         cursor_delivery_id = COALESCE($4, cursor_delivery_id),
         state = CASE WHEN $5::boolean THEN 'completed' ELSE state END,
         finished_at = CASE WHEN $5::boolean THEN now() ELSE finished_at END,
         updated_at = now()
       WHERE id = $1`,
      [id, page.enqueued, page.cursor?.at ?? null, page.cursor?.id ?? null, page.finished],
    );
  }

  async fail(manager: EntityManager, id: string, error: string): Promise<void> {
    await manager.query(
      `UPDATE replay_jobs SET state = 'failed', error = $2, finished_at = now(), updated_at = now() WHERE id = $1`,
      [id, error],
    );
  }
}

function jobOf(row: ReplayJobRow): ReplayJob {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    subscriptionId: row.subscription_id,
    since: row.since,
    until: row.until,
    statuses: row.statuses,
    state: row.state,
    matched: row.matched,
    enqueued: row.enqueued,
    cursor:
      row.cursor_at === null || row.cursor_delivery_id === null
        ? undefined
        : { at: row.cursor_at, id: row.cursor_delivery_id },
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    position: { at: row.position_at, id: row.id },
  };
}
