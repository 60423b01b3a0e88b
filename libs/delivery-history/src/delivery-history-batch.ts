import {
  type AttemptOutcomeClass,
  type DeliveryAttempted,
  type DeliveryEvent,
  type DeliveryRequest,
  type DeliveryStatus,
  type SkipReason,
} from '@skyhook/contracts';

const DAY_MS = 86_400_000;

export function deliveryStatusOf(event: DeliveryEvent): DeliveryStatus {
  if (event.type === 'DeliverySkipped') return event.disposition;
  if (event.type === 'DeliveryWaiting') return 'waiting';
  switch (event.result) {
    case 'delivered':
      return 'delivered';
    case 'retry-scheduled':
      return 'retrying';
    case 'failed':
      return 'failed';
  }
}

/**
 * When the event happened: the attempt was made, the skip decided, or the wait noticed. Orders a
 * delivery's events.
 */
export function statusTimeOf(event: DeliveryEvent): string {
  switch (event.type) {
    case 'DeliveryAttempted':
      return event.attemptedAt;
    case 'DeliverySkipped':
      return event.skippedAt;
    case 'DeliveryWaiting':
      return event.waitingSince;
  }
}

/** One `deliveries` row as a run of events leaves it (before it meets what the table holds). */
export interface DeliverySummary {
  readonly publishedAt: string;
  readonly deliveryId: string;
  readonly organisationId: string;
  readonly subscriptionId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly test: boolean;
  readonly status: DeliveryStatus;
  readonly statusAt: string;
  /** Highest attempt number seen; a skip counts the attempt it replaced. */
  readonly attemptCount: number;
  readonly firstAttemptAt: string | null;
  readonly lastAttemptAt: string | null;
  /** From the latest event: set while a retry is scheduled, null once delivered, failed or skipped. */
  readonly nextAttemptAt: string | null;
  /** From the latest attempt: a later skip leaves them as the last attempt set them. */
  readonly lastOutcome: AttemptOutcomeClass | null;
  readonly lastResponseStatus: number | null;
  /** From the latest event: set when it is a skip. */
  readonly skipReason: SkipReason | null;
  /** From the latest event: the delivery an ordered one waits behind, while it waits. */
  readonly waitingBehind: string | null;
  /** The first request any of the events carried (attempt 1 and skips carry it). */
  readonly request: DeliveryRequest | null;
  /**
   * The run holds the delivery's first event (attempt number 1: an attempt, a skip or a wait), so its
   * row is new unless that event was projected before: the writer inserts rather than merges.
   */
  readonly opensDelivery: boolean;
}

/** What one handler call writes: the attempt rows to insert and one summary per delivery. */
export interface HistoryBatch {
  /** The events planned, as given: the merging write files them again against the table. */
  readonly events: readonly DeliveryEvent[];
  /** Each under the publish time its delivery is filed under (see `planHistoryBatch`). */
  readonly attempts: readonly DeliveryAttempted[];
  /** Ordered by delivery id, so concurrent writers lock rows in the same order (no deadlock). */
  readonly deliveries: readonly DeliverySummary[];
  /** Midnight UTC (ms) of every publish day the batch writes to: their partitions must exist. */
  readonly days: ReadonlySet<number>;
  readonly attempted: number;
  readonly skipped: number;
  readonly waiting: number;
  /** Events of days retention has dropped (or is about to): not written. */
  readonly expired: number;
  /** Midnight UTC (ms) of the oldest publish day written: events before it were expired. */
  readonly oldestRetainedDayMs: number;
}

interface SummaryInProgress {
  publishedAt: string;
  deliveryId: string;
  organisationId: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  test: boolean;
  status: DeliveryStatus;
  statusAt: string;
  statusAtMs: number;
  attemptCount: number;
  firstAttemptAt: string | null;
  firstAttemptAtMs: number;
  lastAttemptAt: string | null;
  lastAttemptAtMs: number;
  nextAttemptAt: string | null;
  lastOutcome: AttemptOutcomeClass | null;
  lastResponseStatus: number | null;
  skipReason: SkipReason | null;
  waitingBehind: string | null;
  request: DeliveryRequest | null;
  opensDelivery: boolean;
}

/**
 * Plans the write of a run of delivery events (in log order). A statement cannot touch the same
 * row twice, so each delivery's events are folded into one summary here, with the same rules
 * the upsert applies against the table: the latest event (by its own time; the later one in the
 * log on a tie) sets the status, counts and times only grow, the first request is kept.
 * Duplicate attempts (a re-produced record: same delivery, number and attempt id) are planned
 * once; a request sent again under the same number (a new attempt id) is an attempt of its own.
 *
 * A delivery is filed under one publish time, whatever its events say: the same event entered
 * twice gives one delivery id with two publish times, perhaps of two days, and the tables'
 * keys (partitioned by publish day) could not keep them to one row. `publishTimes` are those
 * the table already files deliveries under (the merging write reads them); any other delivery
 * is filed under its first event's publish time in the run, and every later event of it with
 * it. Expiry is judged on the time a delivery is filed under.
 */
export function planHistoryBatch(
  events: readonly DeliveryEvent[],
  oldestRetainedDayMs: number,
  publishTimes?: ReadonlyMap<string, string>,
): HistoryBatch {
  const attempts: DeliveryAttempted[] = [];
  const attemptKeys = new Set<string>();
  const summaries = new Map<string, SummaryInProgress>();
  const days = new Set<number>();
  let attempted = 0;
  let skipped = 0;
  let waiting = 0;
  let expired = 0;
  for (const event of events) {
    let summary = summaries.get(event.deliveryId);
    if (summary === undefined) {
      const publishedAt = publishTimes?.get(event.deliveryId) ?? event.publishedAt;
      const publishedAtMs = Date.parse(publishedAt);
      if (publishedAtMs < oldestRetainedDayMs) {
        expired += 1;
        continue;
      }
      days.add(publishedAtMs - (((publishedAtMs % DAY_MS) + DAY_MS) % DAY_MS));
      summary = startSummary(event, publishedAt);
      summaries.set(event.deliveryId, summary);
    } else {
      foldInto(summary, event);
    }
    if (event.type === 'DeliveryAttempted') {
      attempted += 1;
      const attemptKey = `${event.deliveryId}\u0000${event.attemptNumber}\u0000${event.attemptId ?? ''}`;
      if (!attemptKeys.has(attemptKey)) {
        attemptKeys.add(attemptKey);
        attempts.push(
          event.publishedAt === summary.publishedAt ? event : { ...event, publishedAt: summary.publishedAt },
        );
      }
    } else if (event.type === 'DeliverySkipped') {
      skipped += 1;
    } else {
      waiting += 1;
    }
  }
  const deliveries = [...summaries.values()]
    .sort((a, b) => (a.deliveryId < b.deliveryId ? -1 : a.deliveryId > b.deliveryId ? 1 : 0))
    .map(finishSummary);
  return { events, attempts, deliveries, days, attempted, skipped, waiting, expired, oldestRetainedDayMs };
}

/** Midnight UTC of the oldest day retention keeps, as `dropDaysBefore(now − retention)` leaves it. */
export function oldestRetainedDay(nowMs: number, retentionDays: number): number {
  const cutoff = nowMs - retentionDays * DAY_MS;
  return cutoff - (((cutoff % DAY_MS) + DAY_MS) % DAY_MS);
}

/**
 * Attempts made by the time of the event: an attempt event's own number; a skip or a wait names
 * the attempt it did not (yet) make, so one fewer (a delivery held before its first attempt has
 * made none).
 */
function attemptsMadeBy(event: DeliveryEvent): number {
  return event.type === 'DeliveryAttempted' ? event.attemptNumber : event.attemptNumber - 1;
}

function startSummary(event: DeliveryEvent, publishedAt: string): SummaryInProgress {
  const statusAt = statusTimeOf(event);
  const attemptedAt = event.type === 'DeliveryAttempted' ? event.attemptedAt : null;
  const attemptedAtMs = attemptedAt === null ? Number.NaN : Date.parse(attemptedAt);
  return {
    publishedAt,
    deliveryId: event.deliveryId,
    organisationId: event.organisationId,
    subscriptionId: event.subscriptionId,
    eventId: event.eventId,
    eventType: event.eventType,
    test: event.test,
    status: deliveryStatusOf(event),
    statusAt,
    statusAtMs: Date.parse(statusAt),
    attemptCount: attemptsMadeBy(event),
    firstAttemptAt: attemptedAt,
    firstAttemptAtMs: attemptedAtMs,
    lastAttemptAt: attemptedAt,
    lastAttemptAtMs: attemptedAtMs,
    nextAttemptAt: event.type === 'DeliveryAttempted' ? event.nextAttemptAt : null,
    lastOutcome: event.type === 'DeliveryAttempted' ? event.outcome : null,
    lastResponseStatus: event.type === 'DeliveryAttempted' ? event.responseStatus : null,
    skipReason: event.type === 'DeliverySkipped' ? event.reason : null,
    waitingBehind: event.type === 'DeliveryWaiting' ? event.behindDeliveryId : null,
    request: event.request,
    opensDelivery: event.attemptNumber === 1,
  };
}

function foldInto(summary: SummaryInProgress, event: DeliveryEvent): void {
  const statusAt = statusTimeOf(event);
  const statusAtMs = Date.parse(statusAt);
  if (statusAtMs >= summary.statusAtMs) {
    summary.status = deliveryStatusOf(event);
    summary.statusAt = statusAt;
    summary.statusAtMs = statusAtMs;
    summary.nextAttemptAt = event.type === 'DeliveryAttempted' ? event.nextAttemptAt : null;
    summary.skipReason = event.type === 'DeliverySkipped' ? event.reason : null;
    summary.waitingBehind = event.type === 'DeliveryWaiting' ? event.behindDeliveryId : null;
  }
  summary.attemptCount = Math.max(summary.attemptCount, attemptsMadeBy(event));
  if (event.attemptNumber === 1) summary.opensDelivery = true;
  summary.request ??= event.request;
  if (event.type !== 'DeliveryAttempted') return;
  // NaN (no attempt yet) compares false both ways: the first attempt always sets both ends.
  const attemptedAtMs = Date.parse(event.attemptedAt);
  if (!(attemptedAtMs >= summary.firstAttemptAtMs)) {
    summary.firstAttemptAt = event.attemptedAt;
    summary.firstAttemptAtMs = attemptedAtMs;
  }
  if (!(attemptedAtMs < summary.lastAttemptAtMs)) {
    summary.lastAttemptAt = event.attemptedAt;
    summary.lastAttemptAtMs = attemptedAtMs;
    summary.lastOutcome = event.outcome;
    summary.lastResponseStatus = event.responseStatus;
  }
}

function finishSummary(summary: SummaryInProgress): DeliverySummary {
  return {
    publishedAt: summary.publishedAt,
    deliveryId: summary.deliveryId,
    organisationId: summary.organisationId,
    subscriptionId: summary.subscriptionId,
    eventId: summary.eventId,
    eventType: summary.eventType,
    test: summary.test,
    status: summary.status,
    statusAt: summary.statusAt,
    attemptCount: summary.attemptCount,
    firstAttemptAt: summary.firstAttemptAt,
    lastAttemptAt: summary.lastAttemptAt,
    nextAttemptAt: summary.nextAttemptAt,
    lastOutcome: summary.lastOutcome,
    lastResponseStatus: summary.lastResponseStatus,
    skipReason: summary.skipReason,
    waitingBehind: summary.waitingBehind,
    request: summary.request,
    opensDelivery: summary.opensDelivery,
  };
}
