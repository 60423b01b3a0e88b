import { type DataSource, QueryFailedError } from 'typeorm';
import { type DeliveryAttempted } from '@skyhook/contracts';
import { type DeliverySummary, type HistoryBatch } from './delivery-history-batch';

/**
 * Every row of a batch goes in one statement per table (arrays unnested server-side), never one
 * statement per row. A re-delivered attempt hits the primary key and is left as it is.
 */
const INSERT_ATTEMPTS = `
  INSERT INTO delivery_attempts (published_at, delivery_id, attempt_number, organisation_id,
    subscription_id, attempted_at, duration_ms, url, request_headers, request_body_bytes, outcome,
    response_status, response_body, error_code, error_message, result, next_attempt_at)
  SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::int[], $4::text[], $5::text[],
    $6::timestamptz[], $7::float8[], $8::text[], $9::jsonb[], $10::int[], $11::text[], $12::int[],
    $13::text[], $14::text[], $15::text[], $16::text[], $17::timestamptz[])
  ON CONFLICT (published_at, delivery_id, attempt_number) DO NOTHING`;

/**
 * One row per delivery, merged with what is there by the same rules `planHistoryBatch` folds a
 * batch with, so the result does not depend on how events were split into batches or how often
 * they were re-delivered: the status fields follow the latest event (an older one, replayed
 * late, never overwrites a newer one), the last outcome follows the latest attempt, counts and
 * times only grow, the first request stays. SET expressions read the row as it was.
 */
const UPSERT_DELIVERIES = `
  INSERT INTO deliveries AS d (published_at, delivery_id, organisation_id, subscription_id, event_id,
    event_type, test, status, status_at, attempt_count, first_attempt_at, last_attempt_at,
    next_attempt_at, last_outcome, last_response_status, skip_reason, request)
  SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::boolean[], $8::text[], $9::timestamptz[], $10::int[], $11::timestamptz[], $12::timestamptz[],
    $13::timestamptz[], $14::text[], $15::int[], $16::text[], $17::jsonb[])
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

/** The column arrays of `INSERT_ATTEMPTS`, in its order. */
export function attemptInsertParameters(attempts: readonly DeliveryAttempted[]): unknown[][] {
  return [
    attempts.map((attempt) => attempt.publishedAt),
    attempts.map((attempt) => attempt.deliveryId),
    attempts.map((attempt) => attempt.attemptNumber),
    attempts.map((attempt) => attempt.organisationId),
    attempts.map((attempt) => attempt.subscriptionId),
    attempts.map((attempt) => attempt.attemptedAt),
    attempts.map((attempt) => attempt.durationMs),
    attempts.map((attempt) => attempt.url),
    attempts.map((attempt) => JSON.stringify(attempt.requestHeaders)),
    attempts.map((attempt) => attempt.requestBodyBytes),
    attempts.map((attempt) => attempt.outcome),
    attempts.map((attempt) => attempt.responseStatus),
    attempts.map((attempt) => attempt.responseBody),
    attempts.map((attempt) => attempt.errorCode),
    attempts.map((attempt) => attempt.errorMessage),
    attempts.map((attempt) => attempt.result),
    attempts.map((attempt) => attempt.nextAttemptAt),
  ];
}

/** The column arrays of `UPSERT_DELIVERIES`, in its order. */
export function deliveryUpsertParameters(deliveries: readonly DeliverySummary[]): unknown[][] {
  return [
    deliveries.map((delivery) => delivery.publishedAt),
    deliveries.map((delivery) => delivery.deliveryId),
    deliveries.map((delivery) => delivery.organisationId),
    deliveries.map((delivery) => delivery.subscriptionId),
    deliveries.map((delivery) => delivery.eventId),
    deliveries.map((delivery) => delivery.eventType),
    deliveries.map((delivery) => delivery.test),
    deliveries.map((delivery) => delivery.status),
    deliveries.map((delivery) => delivery.statusAt),
    deliveries.map((delivery) => delivery.attemptCount),
    deliveries.map((delivery) => delivery.firstAttemptAt),
    deliveries.map((delivery) => delivery.lastAttemptAt),
    deliveries.map((delivery) => delivery.nextAttemptAt),
    deliveries.map((delivery) => delivery.lastOutcome),
    deliveries.map((delivery) => delivery.lastResponseStatus),
    deliveries.map((delivery) => delivery.skipReason),
    deliveries.map((delivery) => (delivery.request === null ? null : JSON.stringify(delivery.request))),
  ];
}

/** Writes planned batches into `delivery_attempts` and `deliveries`. */
export class DeliveryHistoryWriter {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Both statements in one transaction: the batch's offsets are committed only after it, so
   * a crash in between re-delivers the whole batch and neither table is ahead of the other.
   * Resolves with the number of attempt rows that were new.
   */
  async write(batch: HistoryBatch): Promise<number> {
    if (batch.attempts.length === 0 && batch.deliveries.length === 0) return 0;
    return this.dataSource.transaction(async (manager) => {
      const runner = manager.queryRunner;
      if (runner === undefined) throw new Error('a transaction always has its query runner');
      let inserted = 0;
      if (batch.attempts.length > 0) {
        const result = await runner.query(INSERT_ATTEMPTS, attemptInsertParameters(batch.attempts), true);
        inserted = result.affected ?? 0;
      }
      if (batch.deliveries.length > 0) {
        await runner.query(UPSERT_DELIVERIES, deliveryUpsertParameters(batch.deliveries));
      }
      return inserted;
    });
  }
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
