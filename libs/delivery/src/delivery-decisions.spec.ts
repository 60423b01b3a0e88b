import { type DeliveryPolicy, DELIVERY_POLICY_DEFAULTS } from '@skyhook/delivery-policy';
import { type AttemptReport } from './attempt-report';
import {
  type DeliveryTarget,
  disabledSkip,
  isReceiverSwitchingSecret,
  lifecycleSkipOf,
  nextAttemptAfter,
  skipDecision,
  withAuthFailuresRetried,
} from './delivery-decisions';

const ATTEMPT_AT = new Date('2026-12-05T08:00:00.000Z');
const GRACE_MS = 60_000;

function response(status: number, retryAfter?: string): AttemptReport {
  return { kind: 'response', status, retryAfter, bodyExcerpt: '', durationMs: 12 };
}

function failure(kind: 'timeout' | 'network-error' | 'address-refused'): AttemptReport {
  return { kind, errorCode: kind.toUpperCase(), errorMessage: kind, durationMs: 12 };
}

function target(
  subscription: Partial<DeliveryTarget['subscription']>,
  whileDisabled: DeliveryPolicy['whileDisabled'] = 'drop',
): DeliveryTarget {
  return { subscription: { deleted: false, status: 'active', ...subscription }, policy: { whileDisabled } };
}

const policy = (changes: Partial<DeliveryPolicy['retry']> = {}): DeliveryPolicy => ({
  ...DELIVERY_POLICY_DEFAULTS,
  retry: { ...DELIVERY_POLICY_DEFAULTS.retry, delaysMs: [5_000, 60_000], ...changes },
});

describe('lifecycleSkipOf', () => {
  it.each([
    [{ deleted: true, status: 'active' as const }, 'subscription-deleted'],
    // Deleted wins over any status: the subscription is gone.
    [{ deleted: true, status: 'disabled' as const }, 'subscription-deleted'],
    [{ deleted: false, status: 'revoked' as const }, 'subscription-revoked'],
    [{ deleted: false, status: 'expired' as const }, 'subscription-expired'],
  ])('drops a delivery to %j as %s', (subscription, reason) => {
    expect(lifecycleSkipOf(subscription)).toEqual({ reason, disposition: 'dropped' });
  });

  it.each(['active', 'disabled'] as const)('leaves a %s subscription to the caller', (status) => {
    expect(lifecycleSkipOf({ deleted: false, status })).toBeUndefined();
  });
});

describe('disabledSkip', () => {
  it('holds under whileDisabled "hold" and drops under "drop"', () => {
    expect(disabledSkip({ whileDisabled: 'hold' })).toEqual({
      reason: 'subscription-disabled',
      disposition: 'held',
    });
    expect(disabledSkip({ whileDisabled: 'drop' })).toEqual({
      reason: 'subscription-disabled',
      disposition: 'dropped',
    });
  });
});

describe('skipDecision', () => {
  const live = { test: false };
  const testDelivery = { test: true };

  it('drops a delivery for an unknown subscription, a test one too', () => {
    const unknown = { reason: 'subscription-unknown', disposition: 'dropped' };
    expect(skipDecision(live, undefined)).toEqual(unknown);
    expect(skipDecision(testDelivery, undefined)).toEqual(unknown);
  });

  it('sends to an active subscription', () => {
    expect(skipDecision(live, target({ status: 'active' }))).toBeUndefined();
  });

  it('holds or drops a delivery to a disabled subscription per its policy', () => {
    expect(skipDecision(live, target({ status: 'disabled' }, 'hold'))).toEqual({
      reason: 'subscription-disabled',
      disposition: 'held',
    });
    expect(skipDecision(live, target({ status: 'disabled' }, 'drop'))).toEqual({
      reason: 'subscription-disabled',
      disposition: 'dropped',
    });
  });

  it('sends a test delivery to a disabled subscription: it is how a partner checks a fix', () => {
    expect(skipDecision(testDelivery, target({ status: 'disabled' }, 'hold'))).toBeUndefined();
  });

  it('sends nothing to a deleted, revoked or expired subscription, not even a test delivery', () => {
    expect(skipDecision(testDelivery, target({ status: 'revoked' }))).toEqual({
      reason: 'subscription-revoked',
      disposition: 'dropped',
    });
    expect(skipDecision(testDelivery, target({ deleted: true }))).toEqual({
      reason: 'subscription-deleted',
      disposition: 'dropped',
    });
    expect(skipDecision(live, target({ status: 'expired' }, 'hold'))).toEqual({
      reason: 'subscription-expired',
      disposition: 'dropped',
    });
  });
});

describe('isReceiverSwitchingSecret', () => {
  const activatedAt = ATTEMPT_AT.getTime() - 10_000;

  it.each([401, 403])('is true for a %i within the grace after activation', (status) => {
    expect(isReceiverSwitchingSecret(activatedAt, response(status), ATTEMPT_AT, GRACE_MS)).toBe(true);
  });

  it('is false for other answers and failures', () => {
    for (const report of [response(500), response(404), response(200), failure('timeout')]) {
      expect(isReceiverSwitchingSecret(activatedAt, report, ATTEMPT_AT, GRACE_MS)).toBe(false);
    }
  });

  it('is false without a rotation, after the grace, and before the activation', () => {
    expect(isReceiverSwitchingSecret(undefined, response(401), ATTEMPT_AT, GRACE_MS)).toBe(false);
    const longAgo = ATTEMPT_AT.getTime() - GRACE_MS;
    expect(isReceiverSwitchingSecret(longAgo, response(401), ATTEMPT_AT, GRACE_MS)).toBe(false);
    expect(isReceiverSwitchingSecret(longAgo + 1, response(401), ATTEMPT_AT, GRACE_MS)).toBe(true);
    const later = ATTEMPT_AT.getTime() + 1;
    expect(isReceiverSwitchingSecret(later, response(401), ATTEMPT_AT, GRACE_MS)).toBe(false);
  });
});

describe('withAuthFailuresRetried', () => {
  it('makes a 401 retryable under a policy that gives up on it, and changes nothing else', () => {
    const strict = policy({ retryOn: 'transient' });
    expect(nextAttemptAfter(strict, 1, response(401), ATTEMPT_AT)).toEqual({
      kind: 'give-up',
      reason: 'not-retryable',
    });
    const lenient = withAuthFailuresRetried(strict);
    expect(nextAttemptAfter(lenient, 1, response(401), ATTEMPT_AT)).toEqual({
      kind: 'retry',
      attemptNumber: 2,
      delayMs: 5_000,
    });
    expect({ ...lenient, retry: { ...lenient.retry, retryOn: 'transient' } }).toEqual(strict);
    expect(strict.retry.retryOn).toBe('transient');
  });
});

describe('nextAttemptAfter', () => {
  it('is delivered on a 2xx', () => {
    expect(nextAttemptAfter(policy(), 1, response(204), ATTEMPT_AT)).toEqual({ kind: 'delivered' });
  });

  it('retries a timeout and a network error on the schedule, then gives up', () => {
    expect(nextAttemptAfter(policy(), 1, failure('timeout'), ATTEMPT_AT)).toEqual({
      kind: 'retry',
      attemptNumber: 2,
      delayMs: 5_000,
    });
    expect(nextAttemptAfter(policy(), 2, failure('network-error'), ATTEMPT_AT)).toEqual({
      kind: 'retry',
      attemptNumber: 3,
      delayMs: 60_000,
    });
    expect(nextAttemptAfter(policy(), 3, failure('timeout'), ATTEMPT_AT)).toEqual({
      kind: 'give-up',
      reason: 'attempts-exhausted',
    });
  });

  it('never retries a refused address, whatever the policy', () => {
    expect(
      nextAttemptAfter(policy({ retryOn: 'any-non-2xx' }), 1, failure('address-refused'), ATTEMPT_AT),
    ).toEqual({
      kind: 'give-up',
      reason: 'not-retryable',
    });
  });

  it('reads Retry-After (seconds or a date) and lengthens the wait up to the longest delay', () => {
    expect(nextAttemptAfter(policy(), 1, response(429, '30'), ATTEMPT_AT)).toEqual({
      kind: 'retry',
      attemptNumber: 2,
      delayMs: 30_000,
    });
    const inTwoHours = new Date(ATTEMPT_AT.getTime() + 7_200_000).toUTCString();
    expect(nextAttemptAfter(policy(), 1, response(503, inTwoHours), ATTEMPT_AT)).toEqual({
      kind: 'retry',
      attemptNumber: 2,
      delayMs: 60_000,
    });
    expect(nextAttemptAfter(policy(), 1, response(503, 'soon'), ATTEMPT_AT)).toEqual({
      kind: 'retry',
      attemptNumber: 2,
      delayMs: 5_000,
    });
  });

  it('divides a wait by the time scale, to 1 ms at least, and leaves "retry at once" at 0', () => {
    expect(nextAttemptAfter(policy(), 1, response(500), ATTEMPT_AT, 1_000)).toEqual({
      kind: 'retry',
      attemptNumber: 2,
      delayMs: 5,
    });
    expect(nextAttemptAfter(policy(), 1, response(500), ATTEMPT_AT, 1_000_000)).toEqual({
      kind: 'retry',
      attemptNumber: 2,
      delayMs: 1,
    });
    expect(nextAttemptAfter(policy({ delaysMs: [0] }), 1, response(500), ATTEMPT_AT, 1_000)).toEqual({
      kind: 'retry',
      attemptNumber: 2,
      delayMs: 0,
    });
  });
});
