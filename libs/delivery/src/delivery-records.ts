import {
  type AttemptResult,
  type DeliveryAttempted,
  type DeliveryRequest,
  type DeliveryRetry,
  type DeliverySkipped,
  type DeliveryWaiting,
  type ParkedDelivery,
  type SubscriptionCommand,
} from '@skyhook/contracts';
import { type NextAttemptPlan } from '@skyhook/delivery-policy';
import { type AttemptReport, outcomeClassOf } from './attempt-report';
import { type Skip } from './delivery-decisions';

/** The identity every event of one delivery carries. */
export function deliveryIdentity(request: DeliveryRequest) {
  return {
    deliveryId: request.deliveryId,
    subscriptionId: request.subscriptionId,
    organisationId: request.organisationId,
    eventId: request.event.id,
    eventType: request.event.type,
    test: request.test,
    publishedAt: request.publishedAt,
  };
}

/** One HTTP request of a delivery, as history names it. */
export interface AttemptIdentity {
  readonly attemptNumber: number;
  /** A re-produced attempt event keeps it; a request sent again after a crash gets a new one. */
  readonly attemptId: string;
  readonly attemptAt: Date;
  /** A dispatcher before this one may have sent this request already (ADR 0018). */
  readonly afterUnknownOutcome: boolean;
}

/** What was sent: the request's URL, headers and body. */
export interface SentWebhook {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export function attemptResultOf(next: NextAttemptPlan): AttemptResult {
  return next.kind === 'delivered' ? 'delivered' : next.kind === 'retry' ? 'retry-scheduled' : 'failed';
}

export function attemptedEvent(
  request: DeliveryRequest,
  { attemptNumber, attemptId, attemptAt, afterUnknownOutcome }: AttemptIdentity,
  sent: SentWebhook,
  report: AttemptReport,
  next: NextAttemptPlan,
  nextAttemptAt: Date | undefined,
): DeliveryAttempted {
  return {
    type: 'DeliveryAttempted',
    ...deliveryIdentity(request),
    // The request travels with the first attempt only: history keeps it once.
    request: attemptNumber === 1 ? request : null,
    attemptNumber,
    attemptId,
    // Only when set: the attempts of an undisturbed dispatch stay as they were.
    ...(afterUnknownOutcome ? { afterUnknownOutcome: true } : {}),
    attemptedAt: attemptAt.toISOString(),
    durationMs: report.durationMs,
    url: sent.url,
    requestHeaders: sent.headers,
    requestBodyBytes: sent.body.length,
    outcome: outcomeClassOf(report),
    responseStatus: report.kind === 'response' ? report.status : null,
    responseBody: report.kind === 'response' ? report.bodyExcerpt : null,
    errorCode: report.kind === 'response' ? null : report.errorCode,
    errorMessage: report.kind === 'response' ? null : report.errorMessage,
    result: attemptResultOf(next),
    nextAttemptAt: nextAttemptAt?.toISOString() ?? null,
  };
}

export function skippedEvent(
  request: DeliveryRequest,
  attemptNumber: number,
  skip: Skip,
  skippedAt: Date,
): DeliverySkipped {
  return {
    type: 'DeliverySkipped',
    ...deliveryIdentity(request),
    request,
    skippedAt: skippedAt.toISOString(),
    reason: skip.reason,
    disposition: skip.disposition,
    attemptNumber,
  };
}

/** An ordered delivery waiting for the one before it of its key (`behindDeliveryId`). */
export function waitingEvent(
  request: DeliveryRequest,
  attemptNumber: number,
  behindDeliveryId: string,
  waitingSince: Date,
): DeliveryWaiting {
  return {
    type: 'DeliveryWaiting',
    ...deliveryIdentity(request),
    request,
    behindDeliveryId,
    waitingSince: waitingSince.toISOString(),
    attemptNumber,
  };
}

export function scheduledRetry(request: DeliveryRequest, attemptNumber: number, dueAt: Date): DeliveryRetry {
  return { request, attemptNumber, dueAt: dueAt.toISOString() };
}

export function parkedDelivery(
  request: DeliveryRequest,
  attemptNumber: number,
  reason: ParkedDelivery['reason'],
  parkedAt: Date,
  afterUnknownOutcome: boolean,
): ParkedDelivery {
  return {
    request,
    attemptNumber,
    parkedAt: parkedAt.toISOString(),
    reason,
    ...(afterUnknownOutcome ? { afterUnknownOutcome: true } : {}),
  };
}

/** The command a tripped breaker sends the api: disable the subscription, saying why. */
export function breakerDisableCommand(
  request: Pick<DeliveryRequest, 'subscriptionId' | 'organisationId'>,
  threshold: number,
  issuedAt: Date,
): SubscriptionCommand {
  return {
    type: 'DisableSubscription',
    subscriptionId: request.subscriptionId,
    organisationId: request.organisationId,
    reason: 'circuit-breaker',
    detail: `${threshold} consecutive failed delivery attempts`,
    issuedAt: issuedAt.toISOString(),
  };
}
