import { type DataSource, QueryFailedError, type QueryRunner } from 'typeorm';
import { copyRows, historyPartitionName, isHistoryPartitionName } from '@skyhook/persistence';
import { type HistoryBatch, planHistoryBatch } from './delivery-history-batch';
import {
  ATTEMPT_COLUMN_NAMES,
  ATTEMPT_COLUMNS,
  byPublishDay,
  copyFormOf,
  DELIVERY_COLUMN_NAMES,
  DELIVERY_COLUMNS,
  type HistoryColumn,
  type HistoryCopyForm,
  jsonRowsOf,
  PUBLISH_TIME_COLUMN_NAMES,
} from './delivery-history-rows';

/*
 * Rows go straight into the partition of their publish day, never through the partitioned
 * parent: measured on `deliveries`, routing each row through the parent took twice the
 * PostgreSQL CPU of writing the same rows into the partition (bench/RESULTS.md). The writer
 * knows the day of every row, so it names the partition itself.
 */

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
  const fields = columns
    .map((column) =>
      column.absentAs === undefined ? `"${column.field}"` : `COALESCE("${column.field}", ${column.absentAs})`,
    )
    .join(', ');
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
  ON CONFLICT (published_at, delivery_id, attempt_number, attempt_id) DO NOTHING`;
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
    waiting_behind = CASE WHEN EXCLUDED.status_at >= d.status_at
      THEN EXCLUDED.waiting_behind ELSE d.waiting_behind END,
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
 * The fast write's upsert of deliveries opened in an earlier batch. Almost always each one's
 * row is there and is merged. A row the upsert inserts instead (its first event never reached
 * history, or it is a copy of a delivery filed under another publish time) is filed under its
 * publish time in the same statement: a plain insert, so a delivery filed already under another
 * time fails the write with a unique violation and the batch goes the merging way, which files
 * it where it is. `xmax = 0` tells a row the upsert inserted from one it updated.
 */
function upsertDeliveriesFilingNewSql(partition: string): string {
  return `WITH upserted AS (${upsertDeliveriesSql(partition)}
    RETURNING delivery_id, published_at, xmax = 0 AS inserted)
  INSERT INTO delivery_publish_times (delivery_id, published_at)
  SELECT delivery_id, published_at FROM upserted WHERE inserted`;
}

/**
 * Files the given deliveries under the given publish times unless they are filed already, and
 * answers those filed under another time, with that time to the microsecond (as the event's
 * ISO text would say it). The answer is read from the statement's snapshot, before its own
 * inserts: a delivery filed by this statement is filed under the time it was given.
 */
const FILE_PUBLISH_TIMES_SQL = `WITH wanted AS (
    SELECT delivery_id, published_at::timestamptz AS published_at
      FROM unnest($1::text[], $2::text[]) AS w(delivery_id, published_at)),
  filed AS (
    INSERT INTO delivery_publish_times (delivery_id, published_at)
    SELECT delivery_id, published_at FROM wanted
    ON CONFLICT (delivery_id) DO NOTHING)
  SELECT t.delivery_id,
    to_char(t.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS published_at
  FROM wanted w JOIN delivery_publish_times t USING (delivery_id)
  WHERE t.published_at <> w.published_at`;

/** Writes planned batches into the day partitions of `delivery_attempts` and `deliveries`. */
export class DeliveryHistoryWriter {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * All statements in one transaction: the batch's offsets are committed only after it, so
   * a crash in between re-delivers the whole batch and neither table is ahead of the other.
   *
   * First the fast way: attempts and the deliveries that open in the batch are copied in with
   * COPY (no conflict handling: measured with four writers, ON CONFLICT was about half of a
   * `deliveries` row's PostgreSQL CPU), the other deliveries merged. The deliveries the batch opens
   * are first filed under their publish time (`delivery_publish_times`, by delivery id), with COPY too.
   * Should any of those rows be there already (the batch was projected before a crash, a held
   * delivery's replay starts at attempt 1, or the delivery is filed under another publish time
   * because its event entered twice), the copy fails with a unique violation and the whole
   * batch is written again the merging way, which files every delivery under the time it is
   * filed under already, leaves rows that are there as they are and merges the deliveries.
   * Resolves with the number of attempt rows that were new.
   */
  async write(batch: HistoryBatch): Promise<number> {
    return this.writeRows(copyFormOf(batch), () => batch);
  }

  /**
   * `write` for a batch already turned into the rows of its fast write (`copyFormOf`, perhaps on
   * another thread); `batch` plans it again, for the merging write only.
   */
  async writeRows(form: HistoryCopyForm, batch: () => HistoryBatch): Promise<number> {
    if (form.days.length === 0) return 0;
    try {
      return await this.inTransaction((runner) => this.copyNewRows(runner, form));
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const planned = batch();
      return this.inTransaction((runner) => this.mergeAllRows(runner, planned));
    }
  }

  private inTransaction(work: (runner: QueryRunner) => Promise<number>): Promise<number> {
    return this.dataSource.transaction((manager) => {
      const runner = manager.queryRunner;
      if (runner === undefined) throw new Error('a transaction always has its query runner');
      return work(runner);
    });
  }

  private async copyNewRows(runner: QueryRunner, { publishTimes, days }: HistoryCopyForm): Promise<number> {
    // First: a delivery filed already is the likeliest reason to go the merging way.
    if (publishTimes.length > 0)
      await copyRows(runner, 'delivery_publish_times', PUBLISH_TIME_COLUMN_NAMES, publishTimes);
    let inserted = 0;
    for (const day of days) {
      if (day.attempts.length === 0) continue;
      const partition = historyPartitionName('delivery_attempts', new Date(day.dayMs));
      inserted += await copyRows(runner, partition, ATTEMPT_COLUMN_NAMES, day.attempts);
    }
    for (const day of days) {
      const partition = historyPartitionName('deliveries', new Date(day.dayMs));
      if (day.openedDeliveries.length > 0)
        await copyRows(runner, partition, DELIVERY_COLUMN_NAMES, day.openedDeliveries);
      if (day.mergedDeliveries !== null)
        await runner.query(upsertDeliveriesFilingNewSql(partition), [day.mergedDeliveries]);
    }
    return inserted;
  }

  private async mergeAllRows(runner: QueryRunner, planned: HistoryBatch): Promise<number> {
    const batch = await this.fileUnderPublishTimes(runner, planned);
    let inserted = 0;
    for (const [day, attempts] of byPublishDay(batch.attempts, batch.days)) {
      const partition = historyPartitionName('delivery_attempts', new Date(day));
      const result = await runner.query(
        insertAttemptsSql(partition),
        [jsonRowsOf(attempts, ATTEMPT_COLUMNS)],
        true,
      );
      inserted += result.affected ?? 0;
    }
    for (const [day, deliveries] of byPublishDay(batch.deliveries, batch.days)) {
      const partition = historyPartitionName('deliveries', new Date(day));
      await runner.query(upsertDeliveriesSql(partition), [jsonRowsOf(deliveries, DELIVERY_COLUMNS)]);
    }
    return inserted;
  }

  /**
   * The batch planned again with every delivery under the publish time it is filed under: the
   * time of the first copy history saw. Deliveries not filed yet are filed under the time the
   * batch gives them. Almost always nothing is filed elsewhere and the batch is returned as is.
   */
  private async fileUnderPublishTimes(runner: QueryRunner, batch: HistoryBatch): Promise<HistoryBatch> {
    if (batch.deliveries.length === 0) return batch;
    const filedElsewhere = (await runner.query(FILE_PUBLISH_TIMES_SQL, [
      batch.deliveries.map((delivery) => delivery.deliveryId),
      batch.deliveries.map((delivery) => delivery.publishedAt),
    ])) as { delivery_id: string; published_at: string }[];
    if (filedElsewhere.length === 0) return batch;
    const publishTimes = new Map(filedElsewhere.map((row) => [row.delivery_id, row.published_at]));
    return planHistoryBatch(batch.events, batch.oldestRetainedDayMs, publishTimes);
  }
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
