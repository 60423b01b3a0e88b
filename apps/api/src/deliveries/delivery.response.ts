import { type AttemptRecord, type DeliveryRecord, type DeliveryWithRequest } from '@skyhook/delivery-history';

/** One delivery in a list: its state, never its payload. */
export interface DeliverySummaryResponse {
  readonly id: string;
  readonly subscriptionId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly test: boolean;
  readonly status: string;
  readonly attemptCount: number;
  readonly publishedAt: string;
  readonly firstAttemptAt: string | null;
  readonly lastAttemptAt: string | null;
  readonly nextAttemptAt: string | null;
  readonly lastOutcome: string | null;
  readonly lastResponseStatus: number | null;
  readonly skipReason: string | null;
  readonly statusAt: string;
}

export const ATTEMPT_REPEAT_KINDS = ['recorded-attempt', 'unrecorded-attempt'] as const;
export type AttemptRepeatOf = (typeof ATTEMPT_REPEAT_KINDS)[number];

export interface AttemptResponse {
  readonly attemptNumber: number;
  /** Names the HTTP request; null for attempts recorded before attempts had ids. */
  readonly attemptId: string | null;
  /**
   * The receiver may have had this request before, under the same delivery id and number: see
   * `repeatOf`. A receiver that acts on a delivery id once is unaffected.
   */
  readonly repeated: boolean;
  /**
   * Why the request is `repeated`: `recorded-attempt`, an earlier attempt listed here has the
   * same number (the dispatcher sent it again after a crash, and the receiver got both);
   * `unrecorded-attempt`, a dispatcher may have sent it before and stopped before recording that
   * (ADR 0018), so the receiver may have got it once more than this list shows. Null when not
   * repeated.
   */
  readonly repeatOf: AttemptRepeatOf | null;
  readonly attemptedAt: string;
  readonly url: string;
  /** As sent: signatures are HMACs, and policies cannot carry credential headers. */
  readonly requestHeaders: Readonly<Record<string, string>>;
  readonly requestBodyBytes: number;
  readonly outcome: string;
  readonly responseStatus: number | null;
  /** The first 4 KiB of the response body. */
  readonly responseBody: string | null;
  readonly durationMs: number;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly result: string;
  readonly nextAttemptAt: string | null;
}

/** What the event was, without its data: the partner fetches that from its own systems. */
export interface DeliveryEventSummary {
  readonly id: string;
  readonly type: string;
  readonly scope: Readonly<Record<string, string>>;
  readonly occurredAt: string | null;
}

export interface DeliveryDetailResponse extends DeliverySummaryResponse {
  readonly event: DeliveryEventSummary;
  /** False until the history holds the request: such a delivery cannot be resent yet. */
  readonly requestRecorded: boolean;
  readonly attempts: readonly AttemptResponse[];
}

const isoOrNull = (value: Date | null): string | null => (value === null ? null : value.toISOString());

export function deliverySummaryOf(delivery: DeliveryRecord): DeliverySummaryResponse {
  return {
    id: delivery.deliveryId,
    subscriptionId: delivery.subscriptionId,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    test: delivery.test,
    status: delivery.status,
    attemptCount: delivery.attemptCount,
    publishedAt: delivery.publishedAt.toISOString(),
    firstAttemptAt: isoOrNull(delivery.firstAttemptAt),
    lastAttemptAt: isoOrNull(delivery.lastAttemptAt),
    nextAttemptAt: isoOrNull(delivery.nextAttemptAt),
    lastOutcome: delivery.lastOutcome,
    lastResponseStatus: delivery.lastResponseStatus,
    skipReason: delivery.skipReason,
    statusAt: delivery.statusAt.toISOString(),
  };
}

export function deliveryDetailOf(
  delivery: DeliveryWithRequest,
  attempts: readonly AttemptRecord[],
): DeliveryDetailResponse {
  return {
    ...deliverySummaryOf(delivery),
    event: eventSummaryOf(delivery),
    requestRecorded: delivery.request !== null && delivery.request !== undefined,
    attempts: attempts.map((attempt, index) => {
      const repeatOf = repeatOfAttempt(attempt, attempts[index - 1]);
      return {
        attemptNumber: attempt.attemptNumber,
        attemptId: attempt.attemptId,
        repeated: repeatOf !== null,
        repeatOf,
        attemptedAt: attempt.attemptedAt.toISOString(),
        url: attempt.url,
        requestHeaders: attempt.requestHeaders,
        requestBodyBytes: attempt.requestBodyBytes,
        outcome: attempt.outcome,
        responseStatus: attempt.responseStatus,
        responseBody: attempt.responseBody,
        durationMs: attempt.durationMs,
        errorCode: attempt.errorCode,
        errorMessage: attempt.errorMessage,
        result: attempt.result,
        nextAttemptAt: isoOrNull(attempt.nextAttemptAt),
      };
    }),
  };
}

/**
 * What an attempt repeats, given the attempt listed before it (attempts come by number, a repeat
 * right after the request it repeats): a recorded earlier request is certain and wins over the
 * dispatcher's mark that an unrecorded one may have gone out.
 */
export function repeatOfAttempt(
  attempt: AttemptRecord,
  previous: AttemptRecord | undefined,
): AttemptRepeatOf | null {
  if (previous?.attemptNumber === attempt.attemptNumber) return 'recorded-attempt';
  return attempt.afterUnknownOutcome ? 'unrecorded-attempt' : null;
}

/**
 * Picked field by field from the recorded request, which is only read here, never trusted: a
 * malformed or partial record still shows what the row itself knows.
 */
function eventSummaryOf(delivery: DeliveryWithRequest): DeliveryEventSummary {
  const event = (delivery.request as { event?: unknown } | null | undefined)?.event as
    { scope?: unknown; occurredAt?: unknown } | undefined;
  const scope =
    typeof event?.scope === 'object' && event.scope !== null && !Array.isArray(event.scope)
      ? Object.fromEntries(
          Object.entries(event.scope as Record<string, unknown>).filter(
            (entry): entry is [string, string] => typeof entry[1] === 'string',
          ),
        )
      : {};
  return {
    id: delivery.eventId,
    type: delivery.eventType,
    scope,
    occurredAt: typeof event?.occurredAt === 'string' ? event.occurredAt : null,
  };
}
