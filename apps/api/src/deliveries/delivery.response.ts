import { z } from 'zod';
import {
  ATTEMPT_OUTCOME_CLASSES,
  ATTEMPT_RESULTS,
  DELIVERY_STATUSES,
  SKIP_REASONS,
} from '@skyhook/contracts';
import { type AttemptRecord, type DeliveryRecord, type DeliveryWithRequest } from '@skyhook/delivery-history';

const instant = z.iso.datetime({ offset: true });
const oneOf = (values: readonly string[]) => `One of ${values.join(', ')}.`;

/** One delivery in a list: its state, never its payload. */
export const deliverySummaryResponseSchema = z.strictObject({
  id: z.string(),
  subscriptionId: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  test: z.boolean(),
  status: z.enum(DELIVERY_STATUSES),
  attemptCount: z.number().int().min(0),
  publishedAt: instant,
  firstAttemptAt: instant.nullable(),
  lastAttemptAt: instant.nullable(),
  nextAttemptAt: instant.nullable(),
  lastOutcome: z
    .string()
    .nullable()
    .meta({ description: oneOf(ATTEMPT_OUTCOME_CLASSES) }),
  lastResponseStatus: z.number().int().nullable(),
  skipReason: z
    .string()
    .nullable()
    .meta({ description: oneOf(SKIP_REASONS) }),
  waitingBehind: z
    .string()
    .nullable()
    .meta({
      description:
        'While the status is waiting: the delivery of the same ordering key this one waits for (it is being sent, ' +
        'retried, held after its final failure, or waiting itself). Null otherwise.',
    }),
  statusAt: instant,
});
export type DeliverySummaryResponse = z.infer<typeof deliverySummaryResponseSchema>;

export const ATTEMPT_REPEAT_KINDS = ['recorded-attempt', 'unrecorded-attempt'] as const;
export type AttemptRepeatOf = (typeof ATTEMPT_REPEAT_KINDS)[number];

export const attemptResponseSchema = z.strictObject({
  attemptNumber: z.number().int().min(1),
  attemptId: z
    .string()
    .nullable()
    .meta({ description: 'Names the HTTP request; null for attempts recorded before attempts had ids.' }),
  repeated: z.boolean().meta({
    description:
      'The receiver may have had this request before, under the same delivery id and number: see repeatOf. ' +
      'A receiver that acts on a delivery id once is unaffected.',
  }),
  repeatOf: z
    .enum(ATTEMPT_REPEAT_KINDS)
    .nullable()
    .meta({
      description:
        'Why the request is repeated: recorded-attempt, an earlier attempt listed here has the same number (the ' +
        'dispatcher sent it again after a crash, and the receiver got both); unrecorded-attempt, a dispatcher may ' +
        'have sent it before and stopped before recording that, so the receiver may have got it once more than ' +
        'this list shows. Null when not repeated.',
    }),
  attemptedAt: instant,
  url: z.string(),
  requestHeaders: z
    .record(z.string(), z.string())
    .meta({ description: 'As sent: signatures are HMACs, and policies cannot carry credential headers.' }),
  requestBodyBytes: z.number().int().min(0),
  outcome: z.string().meta({ description: oneOf(ATTEMPT_OUTCOME_CLASSES) }),
  responseStatus: z.number().int().nullable(),
  responseBody: z.string().nullable().meta({ description: 'The first 4 KiB of the response body.' }),
  durationMs: z.number().min(0),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  result: z.string().meta({ description: oneOf(ATTEMPT_RESULTS) }),
  nextAttemptAt: instant.nullable(),
});
export type AttemptResponse = z.infer<typeof attemptResponseSchema>;

/** What the event was, without its data: the partner fetches that from its own systems. */
export const deliveryEventSummarySchema = z.strictObject({
  id: z.string(),
  type: z.string(),
  scope: z.record(z.string(), z.string()),
  occurredAt: instant.nullable(),
});
export type DeliveryEventSummary = z.infer<typeof deliveryEventSummarySchema>;

export const deliveryDetailResponseSchema = deliverySummaryResponseSchema.extend({
  event: deliveryEventSummarySchema,
  requestRecorded: z.boolean().meta({
    description: 'False until the history holds the request: such a delivery cannot be resent yet.',
  }),
  attempts: z.array(attemptResponseSchema),
});
export type DeliveryDetailResponse = z.infer<typeof deliveryDetailResponseSchema>;

/** A resend handed to the dispatcher: the delivery goes out again as this attempt. */
export const resendAcceptedResponseSchema = z.strictObject({
  deliveryId: z.string(),
  attemptNumber: z.number().int().min(2),
  status: z.literal('enqueued'),
});
export type ResendAccepted = z.infer<typeof resendAcceptedResponseSchema>;

export const skipAcceptedResponseSchema = z.strictObject({
  deliveryId: z.string(),
  orderingKey: z.string(),
  status: z.literal('enqueued'),
});
export type SkipAccepted = z.infer<typeof skipAcceptedResponseSchema>;

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
    waitingBehind: delivery.waitingBehind,
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
