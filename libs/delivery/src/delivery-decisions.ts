import { type DeliveryRequest, type SkipReason } from '@skyhook/contracts';
import { type DeliveryPolicy, type NextAttemptPlan, planNextAttempt } from '@skyhook/delivery-policy';
import { type SubscriptionState } from '@skyhook/subscriptions';
import { type AttemptReport, attemptOutcomeOf } from './attempt-report';

/** A delivery that is not sent: why, and whether it is dropped or held until the endpoint is back. */
export interface Skip {
  readonly reason: SkipReason;
  readonly disposition: 'dropped' | 'held';
}

/** What a skip decision reads of the subscription an endpoint serves. */
export interface DeliveryTarget {
  readonly subscription: Pick<SubscriptionState, 'deleted' | 'status'>;
  readonly policy: Pick<DeliveryPolicy, 'whileDisabled'>;
}

/** Deleted, revoked and expired subscriptions receive nothing, whatever their policy says. */
export function lifecycleSkipOf(subscription: DeliveryTarget['subscription']): Skip | undefined {
  if (subscription.deleted) return { reason: 'subscription-deleted', disposition: 'dropped' };
  if (subscription.status === 'revoked') return { reason: 'subscription-revoked', disposition: 'dropped' };
  if (subscription.status === 'expired') return { reason: 'subscription-expired', disposition: 'dropped' };
  return undefined;
}

/** A delivery to a disabled endpoint (or one whose breaker is open) is held or dropped per `whileDisabled`. */
export function disabledSkip(policy: DeliveryTarget['policy']): Skip {
  return {
    reason: 'subscription-disabled',
    disposition: policy.whileDisabled === 'hold' ? 'held' : 'dropped',
  };
}

/**
 * Whether `request` is sent to its endpoint (undefined) or skipped, and why. An unknown
 * subscription drops it; a disabled one holds or drops it, except a test delivery, which is how a
 * partner checks a fix; an active one sends it, also when fan-out held it while it was disabled.
 */
export function skipDecision(
  request: Pick<DeliveryRequest, 'test'>,
  target: DeliveryTarget | undefined,
): Skip | undefined {
  if (target === undefined) return { reason: 'subscription-unknown', disposition: 'dropped' };
  const lifecycleSkip = lifecycleSkipOf(target.subscription);
  if (lifecycleSkip !== undefined || target.subscription.status !== 'disabled') return lifecycleSkip;
  return request.test ? undefined : disabledSkip(target.policy);
}

/**
 * A 401 or 403 within `graceMs` after a rotated secret activated: the partner's receiver, holding
 * one secret, has not switched yet (docs/profiles). The window is wall-clock time, not scaled: it
 * is the partner's deploy that it waits for.
 */
export function isReceiverSwitchingSecret(
  secretActivatedAt: number | undefined,
  report: AttemptReport,
  attemptAt: Date,
  graceMs: number,
): boolean {
  if (report.kind !== 'response' || (report.status !== 401 && report.status !== 403)) return false;
  if (secretActivatedAt === undefined) return false;
  const sinceActivationMs = attemptAt.getTime() - secretActivatedAt;
  return sinceActivationMs >= 0 && sinceActivationMs < graceMs;
}

/** The policy with any failed answer retryable: a 401/403 while the receiver switches secrets. */
export function withAuthFailuresRetried(policy: DeliveryPolicy): DeliveryPolicy {
  return { ...policy, retry: { ...policy.retry, retryOn: 'any-non-2xx' } };
}

/**
 * What follows an attempt: delivered, a retry after a delay, or giving up. `timeScale` divides
 * the wait (SKYHOOK_TIME_SCALE, tests and demos only); 1 in production.
 */
export function nextAttemptAfter(
  policy: DeliveryPolicy,
  attemptNumber: number,
  report: AttemptReport,
  attemptAt: Date,
  timeScale = 1,
): NextAttemptPlan {
  const outcome = attemptOutcomeOf(report, attemptAt);
  // A refused address: retrying cannot help.
  if (outcome === undefined) return { kind: 'give-up', reason: 'not-retryable' };
  const next = planNextAttempt(policy.retry, attemptNumber, outcome);
  if (next.kind !== 'retry' || timeScale === 1 || next.delayMs === 0) return next;
  // Still at least 1 ms, so a scheduled wait keeps going through the durable retry tiers.
  return { ...next, delayMs: Math.max(1, Math.round(next.delayMs / timeScale)) };
}
