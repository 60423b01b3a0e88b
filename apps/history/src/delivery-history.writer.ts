import { type DataSource, QueryFailedError } from 'typeorm';
import { type DeliveryAttempted } from '@skyhook/contracts';
import { type DeliverySummary, type HistoryBatch } from './delivery-history-batch';

/**
 * Every row of a batch goes in one statement per table, never one statement per row: the rows
 * travel as one JSON array (`json_to_recordset` turns it into typed rows server-side). One
 * `JSON.stringify` of the batch costs a fraction of what the driver's per-element escaping of
 * seventeen text arrays did (profiled: 8 % of the history service's CPU). The record columns
 * are the camelCase keys of the objects sent. A re-delivered attempt hits the primary key and
 * is left as it is.
 */
const INSERT_ATTEMPTS = `
  INSERT INTO delivery_attempts (published_at, delivery_id, attempt_number, organisation_id,
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

/**
 * New `deliveries` rows, for deliveries whose first event is in the batch. A plain insert:
 * measured with four writers, ON CONFLICT (a merge, DO NOTHING or a NOT EXISTS probe alike) was
 * about half of a row's PostgreSQL CPU on this table, and the whole write took a quarter less
 * with the plain insert (bench/RESULTS.md). A row that is already there fails it with a unique
 * violation, and the batch is written again with the upsert.
 */
const INSERT_DELIVERIES = `
  INSERT INTO deliveries AS d (published_at, delivery_id, organisation_id, subscription_id, event_id,
    event_type, test, status, status_at, attempt_count, first_attempt_at, last_attempt_at,
    next_attempt_at, last_outcome, last_response_status, skip_reason, request)
  SELECT "publishedAt", "deliveryId", "organisationId", "subscriptionId", "eventId", "eventType",
    test, status, "statusAt", "attemptCount", "firstAttemptAt", "lastAttemptAt", "nextAttemptAt",
    "lastOutcome", "lastResponseStatus", "skipReason", request
  FROM json_to_recordset($1::json) AS r("publishedAt" timestamptz, "deliveryId" text,
    "organisationId" text, "subscriptionId" text, "eventId" text, "eventType" text, test boolean,
    status text, "statusAt" timestamptz, "attemptCount" int, "firstAttemptAt" timestamptz,
    "lastAttemptAt" timestamptz, "nextAttemptAt" timestamptz, "lastOutcome" text,
    "lastResponseStatus" int, "skipReason" text, request jsonb)`;

/**
 * One row per delivery, merged with what is there by the same rules `planHistoryBatch` folds a
 * batch with, so the result does not depend on how events were split into batches or how often
 * they were re-delivered: the status fields follow the latest event (an older one, replayed
 * late, never overwrites a newer one), the last outcome follows the latest attempt, counts and
 * times only grow, the first request stays. SET expressions read the row as it was.
 */
const UPSERT_DELIVERIES = `${INSERT_DELIVERIES}
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

/**
 * The JSON rows of `INSERT_ATTEMPTS`: exactly the columns it reads, so neither the request an
 * attempt may carry nor the fields the table does not keep are sent. Built field by field: an
 * object rest per attempt (`{ request, ...row }`) was the writer's largest cost in a profile.
 */
export function attemptRowsJson(attempts: readonly DeliveryAttempted[]): string {
  return JSON.stringify(
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

/** The JSON rows of `INSERT_DELIVERIES` and `UPSERT_DELIVERIES`: exactly the columns they read. */
export function deliveryRowsJson(deliveries: readonly DeliverySummary[]): string {
  return JSON.stringify(
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

/** Writes planned batches into `delivery_attempts` and `deliveries`. */
export class DeliveryHistoryWriter {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * All statements in one transaction: the batch's offsets are committed only after it, so
   * a crash in between re-delivers the whole batch and neither table is ahead of the other.
   * Deliveries that open in the batch are inserted, the rest merged; should one of those
   * inserts find its row already there (the batch was projected before a crash, or a held
   * delivery's replay starts at attempt 1), the whole batch is written again merging every row.
   * Resolves with the number of attempt rows that were new.
   */
  async write(batch: HistoryBatch): Promise<number> {
    if (batch.attempts.length === 0 && batch.deliveries.length === 0) return 0;
    try {
      return await this.writeOnce(batch, { insertOpened: true });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return this.writeOnce(batch, { insertOpened: false });
    }
  }

  private writeOnce(batch: HistoryBatch, options: { insertOpened: boolean }): Promise<number> {
    const opened = options.insertOpened ? batch.deliveries.filter((delivery) => delivery.opensDelivery) : [];
    const merged = options.insertOpened
      ? batch.deliveries.filter((delivery) => !delivery.opensDelivery)
      : batch.deliveries;
    return this.dataSource.transaction(async (manager) => {
      const runner = manager.queryRunner;
      if (runner === undefined) throw new Error('a transaction always has its query runner');
      let inserted = 0;
      if (batch.attempts.length > 0) {
        const result = await runner.query(INSERT_ATTEMPTS, [attemptRowsJson(batch.attempts)], true);
        inserted = result.affected ?? 0;
      }
      if (opened.length > 0) await runner.query(INSERT_DELIVERIES, [deliveryRowsJson(opened)]);
      if (merged.length > 0) await runner.query(UPSERT_DELIVERIES, [deliveryRowsJson(merged)]);
      return inserted;
    });
  }
}

/** A row the statement inserts is already there (SQLSTATE 23505). */
function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: unknown }).code === '23505';
}

/**
 * The row's publish day has no partition: another history process dropped the day (retention)
 * after this one had seen it, so this process' cache of existing days is out of date.
 */
export function isMissingPartitionError(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = error.driverError as { code?: unknown; message?: unknown };
  return (
    driverError.code === '23514' &&
    typeof driverError.message === 'string' &&
    driverError.message.startsWith('no partition of relation')
  );
}
