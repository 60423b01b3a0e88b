import { type DataSource, QueryFailedError, type QueryRunner } from 'typeorm';
import { type DeliveryAttempted } from '@skyhook/contracts';
import {
  copyJson,
  copyRows,
  copyScalar,
  copyText,
  copyTextPieces,
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

/**
 * A column of a history table: its name, the field of the row it holds, and its type as the
 * merging statements read it from JSON. Each table's list is the one place its columns are
 * named: the COPY column list, the JSON rows and the merging statements all follow it, and the
 * COPY row builders below are held to its order by a unit test.
 */
export interface HistoryColumn<Row> {
  readonly name: string;
  readonly field: keyof Row & string;
  readonly type: 'text' | 'timestamptz' | 'int' | 'float8' | 'boolean' | 'jsonb';
}

export const ATTEMPT_COLUMNS: readonly HistoryColumn<DeliveryAttempted>[] = [
  { name: 'published_at', field: 'publishedAt', type: 'timestamptz' },
  { name: 'delivery_id', field: 'deliveryId', type: 'text' },
  { name: 'attempt_number', field: 'attemptNumber', type: 'int' },
  { name: 'organisation_id', field: 'organisationId', type: 'text' },
  { name: 'subscription_id', field: 'subscriptionId', type: 'text' },
  { name: 'attempted_at', field: 'attemptedAt', type: 'timestamptz' },
  { name: 'duration_ms', field: 'durationMs', type: 'float8' },
  { name: 'url', field: 'url', type: 'text' },
  { name: 'request_headers', field: 'requestHeaders', type: 'jsonb' },
  { name: 'request_body_bytes', field: 'requestBodyBytes', type: 'int' },
  { name: 'outcome', field: 'outcome', type: 'text' },
  { name: 'response_status', field: 'responseStatus', type: 'int' },
  { name: 'response_body', field: 'responseBody', type: 'text' },
  { name: 'error_code', field: 'errorCode', type: 'text' },
  { name: 'error_message', field: 'errorMessage', type: 'text' },
  { name: 'result', field: 'result', type: 'text' },
  { name: 'next_attempt_at', field: 'nextAttemptAt', type: 'timestamptz' },
];

export const DELIVERY_COLUMNS: readonly HistoryColumn<DeliverySummary>[] = [
  { name: 'published_at', field: 'publishedAt', type: 'timestamptz' },
  { name: 'delivery_id', field: 'deliveryId', type: 'text' },
  { name: 'organisation_id', field: 'organisationId', type: 'text' },
  { name: 'subscription_id', field: 'subscriptionId', type: 'text' },
  { name: 'event_id', field: 'eventId', type: 'text' },
  { name: 'event_type', field: 'eventType', type: 'text' },
  { name: 'test', field: 'test', type: 'boolean' },
  { name: 'status', field: 'status', type: 'text' },
  { name: 'status_at', field: 'statusAt', type: 'timestamptz' },
  { name: 'attempt_count', field: 'attemptCount', type: 'int' },
  { name: 'first_attempt_at', field: 'firstAttemptAt', type: 'timestamptz' },
  { name: 'last_attempt_at', field: 'lastAttemptAt', type: 'timestamptz' },
  { name: 'next_attempt_at', field: 'nextAttemptAt', type: 'timestamptz' },
  { name: 'last_outcome', field: 'lastOutcome', type: 'text' },
  { name: 'last_response_status', field: 'lastResponseStatus', type: 'int' },
  { name: 'skip_reason', field: 'skipReason', type: 'text' },
  { name: 'request', field: 'request', type: 'jsonb' },
];

const ATTEMPT_COLUMN_NAMES = ATTEMPT_COLUMNS.map((column) => column.name);
const DELIVERY_COLUMN_NAMES = DELIVERY_COLUMNS.map((column) => column.name);

/**
 * Attempt rows for COPY, in the order of `ATTEMPT_COLUMNS`. Written out field by field, as
 * every batch's attempts go through here; the rare merging writes follow the list instead.
 */
export function attemptCopyRows(attempts: readonly DeliveryAttempted[]): string[] {
  return copyTextPieces(
    attempts,
    (attempt) =>
      `${copyText(attempt.publishedAt)}\t${copyText(attempt.deliveryId)}\t${copyScalar(attempt.attemptNumber)}\t` +
      `${copyText(attempt.organisationId)}\t${copyText(attempt.subscriptionId)}\t${copyText(attempt.attemptedAt)}\t` +
      `${copyScalar(attempt.durationMs)}\t${copyText(attempt.url)}\t${copyJson(attempt.requestHeaders)}\t` +
      `${copyScalar(attempt.requestBodyBytes)}\t${copyText(attempt.outcome)}\t${copyScalar(attempt.responseStatus)}\t` +
      `${copyText(attempt.responseBody)}\t${copyText(attempt.errorCode)}\t${copyText(attempt.errorMessage)}\t` +
      `${copyText(attempt.result)}\t${copyText(attempt.nextAttemptAt)}\n`,
  );
}

/** Delivery rows for COPY, in the order of `DELIVERY_COLUMNS`, field by field as above. */
export function deliveryCopyRows(deliveries: readonly DeliverySummary[]): string[] {
  return copyTextPieces(
    deliveries,
    (delivery) =>
      `${copyText(delivery.publishedAt)}\t${copyText(delivery.deliveryId)}\t${copyText(delivery.organisationId)}\t` +
      `${copyText(delivery.subscriptionId)}\t${copyText(delivery.eventId)}\t${copyText(delivery.eventType)}\t` +
      `${copyScalar(delivery.test)}\t${copyText(delivery.status)}\t${copyText(delivery.statusAt)}\t` +
      `${copyScalar(delivery.attemptCount)}\t${copyText(delivery.firstAttemptAt)}\t${copyText(delivery.lastAttemptAt)}\t` +
      `${copyText(delivery.nextAttemptAt)}\t${copyText(delivery.lastOutcome)}\t${copyScalar(delivery.lastResponseStatus)}\t` +
      `${copyText(delivery.skipReason)}\t${copyJson(delivery.request)}\n`,
  );
}

/**
 * `INSERT INTO <partition> (<columns>) SELECT <fields> FROM json_to_recordset($1)`: the rows as
 * one JSON array of objects keyed by field (`jsonRowsOf`), typed server-side.
 */
function insertFromJsonSql<Row>(
  partition: string,
  alias: string,
  columns: readonly HistoryColumn<Row>[],
): string {
  const names = columns.map((column) => column.name).join(', ');
  const fields = columns.map((column) => `"${column.field}"`).join(', ');
  const types = columns.map((column) => `"${column.field}" ${column.type}`).join(', ');
  return `INSERT INTO "${partition}" AS ${alias} (${names})
  SELECT ${fields} FROM json_to_recordset($1::json) AS r(${types})`;
}

/**
 * Attempt rows that may be there already (the merging write): a re-delivered attempt hits the
 * primary key and is left as it is.
 */
function insertAttemptsSql(partition: string): string {
  return `${insertFromJsonSql(partition, 'a', ATTEMPT_COLUMNS)}
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
  return `${insertFromJsonSql(partition, 'd', DELIVERY_COLUMNS)}
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
 * The rows of a merging statement as JSON text: exactly the table's columns, by field (an
 * attempt's request and a summary's `opensDelivery` are not sent), with what PostgreSQL cannot
 * store (U+0000, an unpaired surrogate) as U+FFFD. Only the merging writes use it, which are
 * the rare path, so the rows follow the column list rather than being written out by hand.
 */
export function jsonRowsOf<Row>(rows: readonly Row[], columns: readonly HistoryColumn<Row>[]): string {
  const objects = rows.map((row) => {
    const object: Record<string, unknown> = {};
    for (const column of columns) object[column.field] = row[column.field];
    return object;
  });
  return jsonForPostgres(JSON.stringify(objects));
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
      inserted += await copyRows(runner, partition, ATTEMPT_COLUMN_NAMES, attemptCopyRows(attempts));
    }
    for (const [day, deliveries] of byPublishDay(batch.deliveries, batch.days)) {
      const partition = historyPartitionName('deliveries', day);
      const opened = deliveries.filter((delivery) => delivery.opensDelivery);
      const merged = deliveries.filter((delivery) => !delivery.opensDelivery);
      if (opened.length > 0)
        await copyRows(runner, partition, DELIVERY_COLUMN_NAMES, deliveryCopyRows(opened));
      if (merged.length > 0)
        await runner.query(upsertDeliveriesSql(partition), [jsonRowsOf(merged, DELIVERY_COLUMNS)]);
    }
    return inserted;
  }

  private async mergeAllRows(runner: QueryRunner, batch: HistoryBatch): Promise<number> {
    let inserted = 0;
    for (const [day, attempts] of byPublishDay(batch.attempts, batch.days)) {
      const partition = historyPartitionName('delivery_attempts', day);
      const result = await runner.query(
        insertAttemptsSql(partition),
        [jsonRowsOf(attempts, ATTEMPT_COLUMNS)],
        true,
      );
      inserted += result.affected ?? 0;
    }
    for (const [day, deliveries] of byPublishDay(batch.deliveries, batch.days)) {
      const partition = historyPartitionName('deliveries', day);
      await runner.query(upsertDeliveriesSql(partition), [jsonRowsOf(deliveries, DELIVERY_COLUMNS)]);
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
