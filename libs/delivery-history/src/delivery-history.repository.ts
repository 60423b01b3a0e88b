import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { DELIVERY_STATUSES, type DeliveryStatus } from '@skyhook/contracts';
import { microsecondInstantSql, type PagePosition } from '@skyhook/persistence';

export interface DeliveryListFilter {
  /** Any of these; absent (or all five) means every status. */
  readonly statuses?: readonly DeliveryStatus[];
  readonly eventType?: string;
  /** Published at or after. */
  readonly since?: Date;
  /** Published before. */
  readonly until?: Date;
}

export interface DeliveryListQuery extends DeliveryListFilter {
  readonly limit: number;
  /** The `next` of the previous page: this page starts strictly after it. */
  readonly after?: PagePosition;
}

export interface DeliveryRecord {
  readonly deliveryId: string;
  readonly organisationId: string;
  readonly subscriptionId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly test: boolean;
  readonly status: DeliveryStatus;
  readonly attemptCount: number;
  readonly publishedAt: Date;
  readonly firstAttemptAt: Date | null;
  readonly lastAttemptAt: Date | null;
  readonly nextAttemptAt: Date | null;
  readonly lastOutcome: string | null;
  readonly lastResponseStatus: number | null;
  readonly skipReason: string | null;
  /** While `waiting`: the delivery of the same ordering key it waits for. */
  readonly waitingBehind: string | null;
  readonly statusAt: Date;
  /** `publishedAt` at full precision, for cursors and for finding the delivery's attempts. */
  readonly position: PagePosition;
}

export interface DeliveryPage {
  readonly deliveries: DeliveryRecord[];
  /** Where the next page starts; null on the last page. */
  readonly next: PagePosition | null;
}

export interface DeliveryWithRequest extends DeliveryRecord {
  /** The delivery request as recorded (a DeliveryRequest, unvalidated); null until recorded. */
  readonly request: unknown;
}

export interface AttemptRecord {
  readonly attemptNumber: number;
  /** The dispatcher's id of the HTTP request; null for attempts recorded before attempts had ids. */
  readonly attemptId: string | null;
  /** Sent after a dispatch whose outcome is unknown: an unrecorded request may have preceded it (ADR 0018). */
  readonly afterUnknownOutcome: boolean;
  readonly attemptedAt: Date;
  readonly durationMs: number;
  readonly url: string;
  readonly requestHeaders: Record<string, string>;
  readonly requestBodyBytes: number;
  readonly outcome: string;
  readonly responseStatus: number | null;
  readonly responseBody: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly result: string;
  readonly nextAttemptAt: Date | null;
}

/** What a replay selects: the deliveries of one subscription published in [since, until). */
export interface ReplaySelection {
  readonly organisationId: string;
  readonly subscriptionId: string;
  readonly since: Date;
  readonly until: Date;
  readonly statuses: readonly DeliveryStatus[];
}

export interface ReplayCandidate {
  readonly deliveryId: string;
  readonly attemptCount: number;
  readonly request: unknown;
  readonly position: PagePosition;
}

interface DeliveryRow {
  delivery_id: string;
  organisation_id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  test: boolean;
  status: DeliveryStatus;
  attempt_count: number;
  published_at: Date;
  first_attempt_at: Date | null;
  last_attempt_at: Date | null;
  next_attempt_at: Date | null;
  last_outcome: string | null;
  last_response_status: number | null;
  skip_reason: string | null;
  waiting_behind: string | null;
  status_at: Date;
  position_at: string;
}

interface AttemptRow {
  attempt_number: number;
  attempt_id: string;
  after_unknown_outcome: boolean;
  attempted_at: Date;
  duration_ms: number;
  url: string;
  request_headers: Record<string, string>;
  request_body_bytes: number;
  outcome: string;
  response_status: number | null;
  response_body: string | null;
  error_code: string | null;
  error_message: string | null;
  result: string;
  next_attempt_at: Date | null;
}

const LIST_COLUMNS = `delivery_id, organisation_id, subscription_id, event_id, event_type, test, status,
  attempt_count, published_at, first_attempt_at, last_attempt_at, next_attempt_at, last_outcome,
  last_response_status, skip_reason, waiting_behind, status_at, ${microsecondInstantSql('published_at')} AS position_at`;

export type DeliveryScope =
  { readonly organisationId: string } | { readonly organisationId: string; readonly subscriptionId: string };

/**
 * The SQL of one newest-first page, shaped so that every branch is one ordered index range
 * scan that stops after `limit + 1` rows, on every daily partition it touches:
 * - the tenant (and subscription) are equalities on the leading index column(s);
 * - the cursor is a row-value comparison on the index's trailing (published_at, delivery_id),
 *   plus `published_at <= x` so the planner prunes the partitions newer than the cursor;
 * - one status is the (organisation_id, status, …) index; several statuses are one such scan
 *   per status merged by an outer sort of at most `statuses × (limit + 1)` rows, where
 *   `status = ANY(…)` would read every matching row of the organisation and sort them all.
 */
export function deliveryPageSql(
  scope: DeliveryScope,
  query: DeliveryListQuery,
): { sql: string; parameters: unknown[] } {
  const parameters: unknown[] = [scope.organisationId, query.limit + 1];
  const conditions = ['organisation_id = $1'];
  const parameter = (value: unknown): string => {
    parameters.push(value);
    return `$${parameters.length}`;
  };
  if ('subscriptionId' in scope) conditions.push(`subscription_id = ${parameter(scope.subscriptionId)}`);
  if (query.eventType !== undefined) conditions.push(`event_type = ${parameter(query.eventType)}`);
  if (query.since !== undefined) conditions.push(`published_at >= ${parameter(query.since.toISOString())}`);
  if (query.until !== undefined) conditions.push(`published_at < ${parameter(query.until.toISOString())}`);
  if (query.after !== undefined) {
    const at = parameter(query.after.at);
    const id = parameter(query.after.id);
    conditions.push(
      `(published_at, delivery_id) < (${at}::timestamptz, ${id})`,
      `published_at <= ${at}::timestamptz`,
    );
  }
  const statuses = DELIVERY_STATUSES.filter((status) => query.statuses?.includes(status) ?? true);
  const order = 'ORDER BY published_at DESC, delivery_id DESC LIMIT $2';
  const branch = (extra: string[]) =>
    `SELECT ${LIST_COLUMNS} FROM deliveries WHERE ${[...conditions, ...extra].join(' AND ')} ${order}`;
  if (statuses.length === DELIVERY_STATUSES.length) return { sql: branch([]), parameters };
  if (statuses.length === 1) return { sql: branch([`status = ${parameter(statuses[0])}`]), parameters };
  const branches = statuses.map((status) => `(${branch([`status = ${parameter(status)}`])})`);
  return { sql: `SELECT * FROM (${branches.join(' UNION ALL ')}) page ${order}`, parameters };
}

/**
 * Delivery history as the history service projects it. Every read takes the organisation id;
 * these methods are also what the history benchmark measures, so they are the whole query path.
 */
@Injectable()
export class DeliveryHistoryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** `GET /v1/deliveries`: the organisation's deliveries, newest first. */
  listForOrganisation(organisationId: string, query: DeliveryListQuery): Promise<DeliveryPage> {
    return this.page({ organisationId }, query);
  }

  /** `GET /v1/subscriptions/{id}/deliveries`: one subscription's deliveries, newest first. */
  listForSubscription(
    organisationId: string,
    subscriptionId: string,
    query: DeliveryListQuery,
  ): Promise<DeliveryPage> {
    return this.page({ organisationId, subscriptionId }, query);
  }

  /**
   * One delivery by id (one probe of the delivery-id index per daily partition). Should an
   * event have entered twice (same delivery id, two publish times), the newest is the one shown.
   */
  async find(organisationId: string, deliveryId: string): Promise<DeliveryWithRequest | undefined> {
    const rows = await this.dataSource.query<(DeliveryRow & { request: unknown })[]>(
      `SELECT ${LIST_COLUMNS}, request FROM deliveries WHERE delivery_id = $1 AND organisation_id = $2
       ORDER BY published_at DESC LIMIT 1`,
      [deliveryId, organisationId],
    );
    const row = rows[0];
    return row === undefined ? undefined : { ...deliveryOf(row), request: row.request };
  }

  /**
   * The attempts of a delivery found by {@link find}, by attempt number; a request the
   * dispatcher sent again under the same number (after a crash) follows the first, by time.
   */
  async attemptsOf(delivery: DeliveryRecord): Promise<AttemptRecord[]> {
    const rows = await this.dataSource.query<AttemptRow[]>(
      `SELECT attempt_number, attempt_id, after_unknown_outcome, attempted_at, duration_ms, url, request_headers, request_body_bytes, outcome,
         response_status, response_body, error_code, error_message, result, next_attempt_at
       FROM delivery_attempts
       WHERE published_at = $1::timestamptz AND delivery_id = $2 AND organisation_id = $3
       ORDER BY attempt_number, attempted_at, attempt_id`,
      [delivery.position.at, delivery.deliveryId, delivery.organisationId],
    );
    return rows.map(attemptOf);
  }

  /**
   * How many deliveries a replay would resend, counting no further than `cap` (the answer is
   * then `cap`): refusing an oversized replay must not cost a scan of everything it names.
   */
  async countReplayable(selection: ReplaySelection, cap: number, manager?: EntityManager): Promise<number> {
    const [row] = await (manager ?? this.dataSource.manager).query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM (
         SELECT 1 FROM deliveries
         WHERE organisation_id = $1 AND subscription_id = $2 AND status = ANY($3)
           AND published_at >= $4 AND published_at < $5 AND request IS NOT NULL
         LIMIT $6) matched`,
      [
        selection.organisationId,
        selection.subscriptionId,
        [...selection.statuses],
        selection.since.toISOString(),
        selection.until.toISOString(),
        cap,
      ],
    );
    return row?.count ?? 0;
  }

  /** The next page of a replay, oldest first, strictly after `after`. */
  async replayPage(
    selection: ReplaySelection,
    after: PagePosition | undefined,
    limit: number,
    manager?: EntityManager,
  ): Promise<ReplayCandidate[]> {
    const parameters: unknown[] = [
      selection.organisationId,
      selection.subscriptionId,
      [...selection.statuses],
      selection.since.toISOString(),
      selection.until.toISOString(),
      limit,
    ];
    let cursor = '';
    if (after !== undefined) {
      parameters.push(after.at, after.id);
      cursor = 'AND (published_at, delivery_id) > ($7::timestamptz, $8) AND published_at >= $7::timestamptz';
    }
    const rows = await (manager ?? this.dataSource.manager).query<
      { delivery_id: string; attempt_count: number; request: unknown; position_at: string }[]
    >(
      `SELECT delivery_id, attempt_count, request, ${microsecondInstantSql('published_at')} AS position_at
       FROM deliveries
       WHERE organisation_id = $1 AND subscription_id = $2 AND status = ANY($3)
         AND published_at >= $4 AND published_at < $5 AND request IS NOT NULL ${cursor}
       ORDER BY published_at, delivery_id LIMIT $6`,
      parameters,
    );
    return rows.map((row) => ({
      deliveryId: row.delivery_id,
      attemptCount: row.attempt_count,
      request: row.request,
      position: { at: row.position_at, id: row.delivery_id },
    }));
  }

  private async page(scope: DeliveryScope, query: DeliveryListQuery): Promise<DeliveryPage> {
    const { sql, parameters } = deliveryPageSql(scope, query);
    const rows = await this.dataSource.query<DeliveryRow[]>(sql, parameters);
    const deliveries = rows.slice(0, query.limit).map(deliveryOf);
    const last = deliveries[deliveries.length - 1];
    return { deliveries, next: rows.length > query.limit && last !== undefined ? last.position : null };
  }
}

function deliveryOf(row: DeliveryRow): DeliveryRecord {
  return {
    deliveryId: row.delivery_id,
    organisationId: row.organisation_id,
    subscriptionId: row.subscription_id,
    eventId: row.event_id,
    eventType: row.event_type,
    test: row.test,
    status: row.status,
    attemptCount: row.attempt_count,
    publishedAt: row.published_at,
    firstAttemptAt: row.first_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: row.next_attempt_at,
    lastOutcome: row.last_outcome,
    lastResponseStatus: row.last_response_status,
    skipReason: row.skip_reason,
    waitingBehind: row.waiting_behind,
    statusAt: row.status_at,
    position: { at: row.position_at, id: row.delivery_id },
  };
}

function attemptOf(row: AttemptRow): AttemptRecord {
  return {
    attemptNumber: row.attempt_number,
    attemptId: row.attempt_id === '' ? null : row.attempt_id,
    afterUnknownOutcome: row.after_unknown_outcome,
    attemptedAt: row.attempted_at,
    durationMs: row.duration_ms,
    url: row.url,
    requestHeaders: row.request_headers,
    requestBodyBytes: row.request_body_bytes,
    outcome: row.outcome,
    responseStatus: row.response_status,
    responseBody: row.response_body,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    result: row.result,
    nextAttemptAt: row.next_attempt_at,
  };
}
