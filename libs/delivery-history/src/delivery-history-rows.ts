import { type DeliveryAttempted } from '@skyhook/contracts';
import {
  copyJson,
  copyScalar,
  copyText,
  copyTextPieces,
  historyDayOf,
  jsonForPostgres,
} from '@skyhook/persistence';
import { type DeliverySummary, type HistoryBatch } from './delivery-history-batch';

/*
 * The rows of the history tables as the writer sends them, apart from the writer itself: this
 * module needs no database, so a batch can be turned into its rows on another thread.
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
  /** What the column holds when the field is absent from the row (an SQL literal). */
  readonly absentAs?: string;
}

export const ATTEMPT_COLUMNS: readonly HistoryColumn<DeliveryAttempted>[] = [
  { name: 'published_at', field: 'publishedAt', type: 'timestamptz' },
  { name: 'delivery_id', field: 'deliveryId', type: 'text' },
  { name: 'attempt_number', field: 'attemptNumber', type: 'int' },
  // Attempts produced before attempts had ids are keyed by their number alone, as they were.
  { name: 'attempt_id', field: 'attemptId', type: 'text', absentAs: "''" },
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
  // Unmarked attempts leave the field out (ADR 0018).
  { name: 'after_unknown_outcome', field: 'afterUnknownOutcome', type: 'boolean', absentAs: 'false' },
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
  { name: 'waiting_behind', field: 'waitingBehind', type: 'text' },
];

export const ATTEMPT_COLUMN_NAMES = ATTEMPT_COLUMNS.map((column) => column.name);
export const DELIVERY_COLUMN_NAMES = DELIVERY_COLUMNS.map((column) => column.name);
/** `delivery_publish_times`: the publish time a delivery is filed under, by delivery id. */
export const PUBLISH_TIME_COLUMN_NAMES = ['delivery_id', 'published_at'];

/**
 * Attempt rows for COPY, in the order of `ATTEMPT_COLUMNS`. Written out field by field, as
 * every batch's attempts go through here; the rare merging writes follow the list instead.
 */
export function attemptCopyRows(attempts: readonly DeliveryAttempted[]): string[] {
  return copyTextPieces(
    attempts,
    (attempt) =>
      `${copyText(attempt.publishedAt)}\t${copyText(attempt.deliveryId)}\t${copyScalar(attempt.attemptNumber)}\t` +
      `${copyText(attempt.attemptId ?? '')}\t${copyText(attempt.organisationId)}\t${copyText(attempt.subscriptionId)}\t${copyText(attempt.attemptedAt)}\t` +
      `${copyScalar(attempt.durationMs)}\t${copyText(attempt.url)}\t${copyJson(attempt.requestHeaders)}\t` +
      `${copyScalar(attempt.requestBodyBytes)}\t${copyText(attempt.outcome)}\t${copyScalar(attempt.responseStatus)}\t` +
      `${copyText(attempt.responseBody)}\t${copyText(attempt.errorCode)}\t${copyText(attempt.errorMessage)}\t` +
      `${copyText(attempt.result)}\t${copyText(attempt.nextAttemptAt)}\t${copyScalar(attempt.afterUnknownOutcome === true)}\n`,
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
      `${copyText(delivery.skipReason)}\t${copyJson(delivery.request)}\t${copyText(delivery.waitingBehind)}\n`,
  );
}

/**
 * The publish time each delivery is filed under, for COPY into `delivery_publish_times`, in the
 * order of `PUBLISH_TIME_COLUMN_NAMES`.
 */
export function publishTimeCopyRows(deliveries: readonly DeliverySummary[]): string[] {
  return copyTextPieces(
    deliveries,
    (delivery) => `${copyText(delivery.deliveryId)}\t${copyText(delivery.publishedAt)}\n`,
  );
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

/**
 * A planned batch as the fast write sends it: the publish times of the deliveries it opens
 * (they must be new: a delivery filed already, perhaps under another time, sends the batch to
 * the merging write) as COPY text, and its rows by publish day.
 */
export interface HistoryCopyForm {
  readonly publishTimes: readonly string[];
  /** One entry per publish day, in order of day. */
  readonly days: readonly HistoryCopyDay[];
}

/**
 * One publish day of a planned batch as the fast write sends it: its attempts and the
 * deliveries it opens as COPY text, the other deliveries as the upsert's JSON rows (null when
 * there are none).
 */
export interface HistoryCopyDay {
  /** Midnight UTC (ms): the day that names the partitions. */
  readonly dayMs: number;
  readonly attempts: readonly string[];
  readonly openedDeliveries: readonly string[];
  readonly mergedDeliveries: string | null;
}

/** A planned batch in the form of its fast write. */
export function copyFormOf(batch: HistoryBatch): HistoryCopyForm {
  const days = new Map<
    number,
    { attempts: string[]; opened: DeliverySummary[]; merged: DeliverySummary[] }
  >();
  const dayOf = (dayMs: number) => {
    let day = days.get(dayMs);
    if (day === undefined) {
      day = { attempts: [], opened: [], merged: [] };
      days.set(dayMs, day);
    }
    return day;
  };
  for (const [dayMs, attempts] of byPublishDay(batch.attempts, batch.days)) {
    dayOf(dayMs).attempts = attemptCopyRows(attempts);
  }
  const opened: DeliverySummary[] = [];
  for (const [dayMs, deliveries] of byPublishDay(batch.deliveries, batch.days)) {
    const day = dayOf(dayMs);
    for (const delivery of deliveries) {
      if (delivery.opensDelivery) {
        day.opened.push(delivery);
        opened.push(delivery);
      } else {
        day.merged.push(delivery);
      }
    }
  }
  return {
    publishTimes: publishTimeCopyRows(opened),
    days: [...days]
      .sort(([a], [b]) => a - b)
      .map(([dayMs, day]) => ({
        dayMs,
        attempts: day.attempts,
        openedDeliveries: deliveryCopyRows(day.opened),
        mergedDeliveries: day.merged.length === 0 ? null : jsonRowsOf(day.merged, DELIVERY_COLUMNS),
      })),
  };
}

/**
 * `rows` by the day of their publish time (the day that names their partitions), in order of
 * day, each day's rows in their order in the batch. Almost every batch is of one day; then
 * nothing is parsed.
 */
export function byPublishDay<Row extends { readonly publishedAt: string }>(
  rows: readonly Row[],
  days: ReadonlySet<number>,
): [number, readonly Row[]][] {
  if (rows.length === 0) return [];
  if (days.size === 1) {
    const [day] = days;
    return [[day as number, rows]];
  }
  const byDay = new Map<number, Row[]>();
  for (const row of rows) {
    const day = historyDayOf(Date.parse(row.publishedAt)).getTime();
    const sameDay = byDay.get(day);
    if (sameDay === undefined) byDay.set(day, [row]);
    else sameDay.push(row);
  }
  return [...byDay].sort(([a], [b]) => a - b);
}
