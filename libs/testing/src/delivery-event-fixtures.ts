import {
  type DeliveryAttempted,
  type DeliveryRequest,
  type DeliverySkipped,
  type DeliveryWaiting,
  deliveryIdOf,
} from '@skyhook/contracts';
import { deliveryIdentity } from '@skyhook/delivery';

export const PUBLISHED_AT = '2026-11-20T10:00:00.000Z';

/** A delivery request as fan-out makes it, published at `publishedAt`. */
export function deliveryRequest(
  eventNumber: number,
  publishedAt = PUBLISHED_AT,
  subscriptionId = 'sub_1',
): DeliveryRequest {
  const eventId = `evt_${eventNumber}`;
  return {
    deliveryId: deliveryIdOf('org_1', eventId, subscriptionId),
    subscriptionId,
    organisationId: 'org_1',
    event: {
      id: eventId,
      type: 'booking.created',
      scope: {},
      occurredAt: publishedAt,
      data: { bookingId: `bk_${eventNumber}`, note: 'quote " and backslash \\ survive' },
    },
    publishedAt,
    held: false,
    test: false,
  };
}

function offset(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

/**
 * Attempt `attemptNumber` of the request's delivery, made `atMs` after publication, with an
 * attempt id of its own that is the same every time it is made (the same request re-produced);
 * `repeated` names a request sent again under the same number.
 */
export function attempted(
  request: DeliveryRequest,
  attemptNumber: number,
  result: DeliveryAttempted['result'],
  atMs = attemptNumber * 1_000,
  repeated = 0,
): DeliveryAttempted {
  const attemptedAt = offset(request.publishedAt, atMs);
  const success = result === 'delivered';
  return {
    type: 'DeliveryAttempted',
    ...deliveryIdentity(request),
    request: attemptNumber === 1 ? request : null,
    attemptNumber,
    attemptId: `att_${request.deliveryId}_${attemptNumber}_${repeated}`,
    attemptedAt,
    durationMs: 12.5,
    url: 'https://hooks.example.com/skyhook',
    requestHeaders: { 'content-type': 'application/json', 'webhook-id': request.deliveryId },
    requestBodyBytes: 120,
    outcome: success ? 'success' : 'http-error',
    responseStatus: success ? 200 : 503,
    responseBody: success ? 'ok' : 'unavailable',
    errorCode: null,
    errorMessage: null,
    result,
    nextAttemptAt: result === 'retry-scheduled' ? offset(attemptedAt, 1_000) : null,
  };
}

/** The attempt as the dispatcher produced it before attempts had ids (such records are in topics still). */
export function withoutAttemptId(attempt: DeliveryAttempted): DeliveryAttempted {
  const { attemptId: _, ...before } = attempt;
  return before;
}

/** The request's delivery skipped in place of attempt `attemptNumber`, `atMs` after publication. */
export function skipped(
  request: DeliveryRequest,
  attemptNumber: number,
  disposition: DeliverySkipped['disposition'],
  atMs = attemptNumber * 1_000,
): DeliverySkipped {
  return {
    type: 'DeliverySkipped',
    ...deliveryIdentity(request),
    request,
    skippedAt: offset(request.publishedAt, atMs),
    reason: 'subscription-disabled',
    disposition,
    attemptNumber,
  };
}

/** The request's ordered delivery recorded as waiting behind `behindDeliveryId`, `atMs` after publication. */
export function waiting(
  request: DeliveryRequest,
  behindDeliveryId: string,
  atMs: number,
  attemptNumber = 1,
): DeliveryWaiting {
  return {
    type: 'DeliveryWaiting',
    ...deliveryIdentity(request),
    request,
    behindDeliveryId,
    waitingSince: offset(request.publishedAt, atMs),
    attemptNumber,
  };
}
