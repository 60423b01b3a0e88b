import { type DataSource, QueryFailedError, type QueryRunner } from 'typeorm';
import { type DeliveryAttempted } from '@skyhook/contracts';
import {
  copyJson,
  copyRows,
  copyScalar,
  copyText,
  historyDayOf,
  historyPartitionName,
  isHistoryPartitionName,
  jsonForPostgres,
} from '@skyhook/persistence';
import { type DeliverySummary, type HistoryBatch } from './delivery-history-batch';

/*
 * Rows go straight into the partition of their publish day, never through the partitioned
 * parent: measured on `deliveries`, routing each row through the parent took twice the
 * PostgreSQL CPU of writing the same rows into the partition (bench/RESULTS.md). The writer
 * knows the day of every row, so it names the partition itself.
 */

/** The columns of an attempt row, in the order `attemptCopyRows` writes them. */
const ATTEMPT_COLUMNS = [
  'published_at',
  'delivery_id',
  'attempt_number',
  'organisation_id',
  'subscription_id',
  'attempted_at',
  'duration_ms',
  'url',
  'request_headers',
  'request_body_bytes',
  'outcome',
  'response_status',
  'response_body',
  'error_code',
  'error_message',
  'result',
  'next_attempt_at',
] as const;

/** The columns of a delivery row, in the order `deliveryCopyRows` writes them. */
const DELIVERY_COLUMNS = [
  'published_at',
  'delivery_id',
  'organisation_id',
  'subscription_id',
  'event_id',
  'event_type',
  'test',
  'status',
  'status_at',
  'attempt_count',
  'first_attempt_at',
  'last_attempt_at',
  'next_attempt_at',
  'last_outcome',
  'last_response_status',
  'skip_reason',
  'request',
] as const;

/** Attempt rows for COPY, field by field (an object rest per attempt was costly in a profile). */
export function attemptCopyRows(attempts: readonly DeliveryAttempted[]): string {
  let rows = '';
  for (const attempt of attempts) {
    rows +=
      `${copyText(attempt.publishedAt)}\t${copyText(attempt.deliveryId)}\t${copyScalar(attempt.attemptNumber)}\t` +
      `${copyText(attempt.organisationId)}\t${copyText(attempt.subscriptionId)}\t${copyText(attempt.attemptedAt)}\t` +
      `${copyScalar(attempt.durationMs)}\t${copyText(attempt.url)}\t${copyJson(attempt.requestHeaders)}\t` +
      `${copyScalar(attempt.requestBodyBytes)}\t${copyText(attempt.outcome)}\t${copyScalar(attempt.responseStatus)}\t` +
      `${copyText(attempt.responseBody)}\t${copyText(attempt.errorCode)}\t${copyText(attempt.errorMessage)}\t` +
      `${copyText(attempt.result)}\t${copyText(attempt.nextAttemptAt)}\n`;
  }
  return rows;
}

/** Delivery rows for COPY, in the order of `DELIVERY_COLUMNS`. */
export function deliveryCopyRows(deliveries: readonly DeliverySummary[]): string {
  let rows = '';
  for (const delivery of deliveries) {
    rows +=
      `${copyText(delivery.publishedAt)}\t${copyText(delivery.deliveryId)}\t${copyText(delivery.organisationId)}\t` +
      `${copyText(delivery.subscriptionId)}\t${copyText(delivery.eventId)}\t${copyText(delivery.eventType)}\t` +
      `${copyScalar(delivery.test)}\t${copyText(delivery.status)}\t${copyText(delivery.statusAt)}\t` +
      `${copyScalar(delivery.attemptCount)}\t${copyText(delivery.firstAttemptAt)}\t${copyText(delivery.lastAttemptAt)}\t` +
      `${copyText(delivery.nextAttemptAt)}\t${copyText(delivery.lastOutcome)}\t${copyScalar(delivery.lastResponseStatus)}\t` +
      `${copyText(delivery.skipReason)}\t${copyJson(delivery.request)}\n`;
  }
  return rows;
}

/**
 * Attempt rows that may be there already (the merging write): one statement per partition, the
 * rows as one JSON array (`json_to_recordset` types them server-side). A re-delivered attempt
 * hits the primary key and is left as it is.
 */
function insertAttemptsSql(partition: string): string {
  return `
  INSERT INTO "${partition}" (published_at, delivery_id, attempt_number, organisation_id,
    subscription_id, attempted_at, duration_ms, url, request_headers, request_body_bytes, outcome,
    response_status, response_body, error_code, error_message, result, next_attempt_at)
  SELECT "publishedAt", "deliveryId", "attemptNumber", "organisationId", "subscriptionId",
    "attemptedAt", "durationMs", url, "requestHeaders", "requestBodyBytes", outcome,
    "responseStatus", "responseBody", "errorCode", "errorMessage", result, "nextAttemptAt"
  FROM json_to_recordset($1::json) AS r("publishedAt" timestamptz, "deliveryId" text,
    "attemptNumber" int, "organisationId" text, "subscriptionId" text, "attemptedAt" timestamptz,
    "durationMs" float8, url text, "requestHeaders" jsonb, "requestBodyBytes" int, outcome text,
    "responseStatus" int, "responseBody" text, "errorCode" text, "errorMessage" text, result text,
    "nextAttemptAt" timestamptz)
  ON CONFLICT (published_at, delivery_id, attempt_number) DO NOTHING`;
}

/**
 * One row per delivery, merged with what is there by the same rules `planHistoryBatch` folds a
 * batch with, so the result does not depend on how events were split into batches or how often
 * they were re-delivered: the status fields follow the latest event (an older one, replayed
 * late, never overwrites a newer one), the last outcome follows the latest attempt, counts and
 * times only grow, the first request stays. SET expressions read the row as it was.
 */
function upsertDeliveriesSql(partition: string): string {
  return `
  INSERT INTO "${partition}" AS d (published_at, delivery_id, organisation_id, subscription_id, event_id,
    event_type, test, status, status_at, attempt_count, first_attempt_at, last_attempt_at,
    next_attempt_at, last_outcome, last_response_status, skip_reason, request)
  SELECT "publishedAt", "deliveryId", "organisationId", "subscriptionId", "eventId", "eventType",
    test, status, "statusAt", "attemptCount", "firstAttemptAt", "lastAttemptAt", "nextAttemptAt",
    "lastOutcome", "lastResponseStatus", "skipReason", request
  FROM json_to_recordset($1::json) AS r("publishedAt" timestamptz, "deliveryId" text,
    "organisationId" text, "subscriptionId" text, "eventId" text, "eventType" text, test boolean,
    status text, "statusAt" timestamptz, "attemptCount" int, "firstAttemptAt" timestamptz,
    "lastAttemptAt" timestamptz, "nextAttemptAt" timestamptz, "lastOutcome" text,
    "lastResponseStatus" int, "skipReason" text, request jsonb)
  ON CONFLICT (published_at, delivery_id) DO UPDATE SET
    status = CASE WHEN EXCLUDED.status_at >= d.status_at THEN EXCLUDED.status ELSE d.status END,
    next_attempt_at = CASE WHEN EXCLUDED.status_at >= d.status_at
      THEN EXCLUDED.next_attempt_at ELSE d.next_attempt_at END,
    skip_reason = CASE WHEN EXCLUDED.status_at >= d.status_at THEN EXCLUDED.skip_reason ELSE d.skip_reason END,
    status_at = GREATEST(d.status_at, EXCLUDED.status_at),
    last_outcome = CASE WHEN EXCLUDED.last_attempt_at >= d.last_attempt_at
        OR (d.last_attempt_at IS NULL AND EXCLUDED.last_attempt_at IS NOT NULL)
      THEN EXCLUDED.last_outcome ELSE d.last_outcome END,
    last_response_status = CASE WHEN EXCLUDED.last_attempt_at >= d.last_attempt_at
        OR (d.last_attempt_at IS NULL AND EXCLUDED.last_attempt_at IS NOT NULL)
      THEN EXCLUDED.last_response_status ELSE d.last_response_status END,
    attempt_count = GREATEST(d.attempt_count, EXCLUDED.attempt_count),
    first_attempt_at = LEAST(d.first_attempt_at, EXCLUDED.first_attempt_at),
    last_attempt_at = GREATEST(d.last_attempt_at, EXCLUDED.last_attempt_at),
    request = COALESCE(d.request, EXCLUDED.request),
    updated_at = now()`;
}

/**
 * The JSON rows of `insertAttemptsSql`: exactly the columns it reads, so neither the request an
 * attempt may carry nor the fields the table does not keep are sent. Built field by field: an
 * object rest per attempt (`{ request, ...row }`) was the writer's largest cost in a profile.
 */
export function attemptRowsJson(attempts: readonly DeliveryAttempted[]): string {
  return jsonRows(
    attempts.map((attempt) => ({
      publishedAt: attempt.publishedAt,
      deliveryId: attempt.deliveryId,
      attemptNumber: attempt.attemptNumber,
      organisationId: attempt.organisationId,
      subscriptionId: attempt.subscriptionId,
      attemptedAt: attempt.attemptedAt,
      durationMs: attempt.durationMs,
      url: attempt.url,
      requestHeaders: attempt.requestHeaders,
      requestBodyBytes: attempt.requestBodyBytes,
      outcome: attempt.outcome,
      responseStatus: attempt.responseStatus,
      responseBody: attempt.responseBody,
      errorCode: attempt.errorCode,
      errorMessage: attempt.errorMessage,
      result: attempt.result,
      nextAttemptAt: attempt.nextAttemptAt,
    })),
  );
}

/** The JSON rows of `upsertDeliveriesSql`: exactly the columns it reads. */
export function deliveryRowsJson(deliveries: readonly DeliverySummary[]): string {
  return jsonRows(
    deliveries.map((delivery) => ({
      publishedAt: delivery.publishedAt,
      deliveryId: delivery.deliveryId,
      organisationId: delivery.organisationId,
      subscriptionId: delivery.subscriptionId,
      eventId: delivery.eventId,
      eventType: delivery.eventType,
      test: delivery.test,
      status: delivery.status,
      statusAt: delivery.statusAt,
      attemptCount: delivery.attemptCount,
      firstAttemptAt: delivery.firstAttemptAt,
      lastAttemptAt: delivery.lastAttemptAt,
      nextAttemptAt: delivery.nextAttemptAt,
      lastOutcome: delivery.lastOutcome,
      lastResponseStatus: delivery.lastResponseStatus,
      skipReason: delivery.skipReason,
      request: delivery.request,
    })),
  );
}

/** Rows of a batch as JSON text PostgreSQL takes: what it cannot store (U+0000, an unpaired surrogate) as U+FFFD. */
function jsonRows(rows: readonly object[]): string {
  return jsonForPostgres(JSON.stringify(rows));
}

/** Writes planned batches into the day partitions of `delivery_attempts` and `deliveries`. */
export class DeliveryHistoryWriter {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * All statements in one transaction: the batch's offsets are committed only after it, so
   * a crash in between re-delivers the whole batch and neither table is ahead of the other.
   *
   * First the fast way: attempts and the deliveries that open in the batch are copied in with
   * COPY (no conflict handling: measured with four writers, ON CONFLICT was about half of a
   * `deliveries` row's PostgreSQL CPU), the other deliveries merged. Should any of those rows be
   * there already (the batch was projected before a crash, or a held delivery's replay starts
   * at attempt 1), the copy fails with a unique violation and the whole batch is written again
   * the merging way, which leaves rows that are there as they are and merges the deliveries.
   * Resolves with the number of attempt rows that were new.
   */
  async write(batch: HistoryBatch): Promise<number> {
    if (batch.attempts.length === 0 && batch.deliveries.length === 0) return 0;
    try {
      return await this.inTransaction((runner) => this.copyNewRows(runner, batch));
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return this.inTransaction((runner) => this.mergeAllRows(runner, batch));
    }
  }

  private inTransaction(work: (runner: QueryRunner) => Promise<number>): Promise<number> {
    return this.dataSource.transaction((manager) => {
      const runner = manager.queryRunner;
      if (runner === undefined) throw new Error('a transaction always has its query runner');
      return work(runner);
    });
  }

  private async copyNewRows(runner: QueryRunner, batch: HistoryBatch): Promise<number> {
    let inserted = 0;
    for (const [day, attempts] of byPublishDay(batch.attempts, batch.days)) {
      const partition = historyPartitionName('delivery_attempts', day);
      inserted += await copyRows(runner, partition, ATTEMPT_COLUMNS, attemptCopyRows(attempts));
    }
    for (const [day, deliveries] of byPublishDay(batch.deliveries, batch.days)) {
      const partition = historyPartitionName('deliveries', day);
      const opened = deliveries.filter((delivery) => delivery.opensDelivery);
      const merged = deliveries.filter((delivery) => !delivery.opensDelivery);
      if (opened.length > 0) await copyRows(runner, partition, DELIVERY_COLUMNS, deliveryCopyRows(opened));
      if (merged.length > 0) await runner.query(upsertDeliveriesSql(partition), [deliveryRowsJson(merged)]);
    }
    return inserted;
  }

  private async mergeAllRows(runner: QueryRunner, batch: HistoryBatch): Promise<number> {
    let inserted = 0;
    for (const [day, attempts] of byPublishDay(batch.attempts, batch.days)) {
      const partition = historyPartitionName('delivery_attempts', day);
      const result = await runner.query(insertAttemptsSql(partition), [attemptRowsJson(attempts)], true);
      inserted += result.affected ?? 0;
    }
    for (const [day, deliveries] of byPublishDay(batch.deliveries, batch.days)) {
      const partition = historyPartitionName('deliveries', day);
      await runner.query(upsertDeliveriesSql(partition), [deliveryRowsJson(deliveries)]);
    }
    return inserted;
  }
}

/**
 * `rows` by the day of their publish time (the day that names their partitions), in order of
 * day, each day's rows in their order in the batch. Almost every batch is of one day; then
 * nothing is parsed.
 */
function byPublishDay<Row extends { readonly publishedAt: string }>(
  rows: readonly Row[],
  days: ReadonlySet<number>,
): [Date, readonly Row[]][] {
  if (rows.length === 0) return [];
  if (days.size === 1) {
    const [day] = days;
    return [[new Date(day as number), rows]];
  }
  const byDay = new Map<number, Row[]>();
  for (const row of rows) {
    const day = historyDayOf(Date.parse(row.publishedAt)).getTime();
    const sameDay = byDay.get(day);
    if (sameDay === undefined) byDay.set(day, [row]);
    else sameDay.push(row);
  }
  return [...byDay].sort(([a], [b]) => a - b).map(([day, sameDay]) => [new Date(day), sameDay]);
}

/** A row the statement inserts is already there (SQLSTATE 23505). */
function isUniqueViolation(error: unknown): boolean {
  return driverErrorOf(error)?.code === '23505';
}

/**
 * The partition of a row's publish day is not there: another history process dropped the day
 * (retention) after this one had seen it, so this process' cache of existing days is out of date.
 */
export function isMissingPartitionError(error: unknown): boolean {
  const driverError = driverErrorOf(error);
  if (driverError?.code !== '42P01' || typeof driverError.message !== 'string') return false;
  const relation = /^relation "([^"]+)" does not exist/.exec(driverError.message)?.[1];
  return relation !== undefined && isHistoryPartitionName(relation);
}

/**
 * PostgreSQL's error, whether a statement (`QueryFailedError`) or a COPY (the driver's own error)
 * failed.
 */
function driverErrorOf(error: unknown): DriverError | undefined {
  if (error instanceof QueryFailedError) return error.driverError as DriverError;
  if (error instanceof Error && 'code' in error) return error;
  return undefined;
}

interface DriverError {
  readonly code?: unknown;
  readonly message?: unknown;
}
