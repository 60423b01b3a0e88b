import { type RetryOn, type RetryPolicy } from './delivery-policy';

/** How one HTTP attempt ended. */
export type AttemptOutcome =
  | { readonly kind: 'network-error' }
  | { readonly kind: 'timeout' }
  | {
      readonly kind: 'response';
      readonly status: number;
      /** From the response's `Retry-After`, already parsed (see {@link parseRetryAfterMs}). */
      readonly retryAfterMs?: number | undefined;
    };

export type NextAttemptPlan =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry'; readonly attemptNumber: number; readonly delayMs: number }
  | { readonly kind: 'give-up'; readonly reason: 'not-retryable' | 'attempts-exhausted' };

export function maxAttempts(retry: RetryPolicy): number {
  return 1 + retry.delaysMs.length;
}

export function isSuccessfulOutcome(outcome: AttemptOutcome): boolean {
  return outcome.kind === 'response' && outcome.status >= 200 && outcome.status <= 299;
}

/** Whether a failed outcome may be retried under `retryOn` (see `RETRY_ON`). */
export function isRetryableOutcome(retryOn: RetryOn, outcome: AttemptOutcome): boolean {
  switch (outcome.kind) {
    case 'network-error':
    case 'timeout':
      return true;
    case 'response':
      if (isSuccessfulOutcome(outcome)) {
        return false;
      }
      switch (retryOn) {
        case 'any-non-2xx':
          return true;
        case 'transient':
          return outcome.status >= 500 || outcome.status === 408 || outcome.status === 429;
        case '5xx-and-429':
          return outcome.status >= 500 || outcome.status === 429;
      }
  }
}

/**
 * What follows attempt number `failedAttemptNumber` (1-based) that ended in `outcome`, per the
 * schedule semantics on `retryPolicySchema`: the wait before attempt `n + 1` is
 * `delaysMs[n - 1]`, possibly lengthened by `Retry-After` up to the schedule's longest delay.
 */
export function planNextAttempt(
  retry: RetryPolicy,
  failedAttemptNumber: number,
  outcome: AttemptOutcome,
): NextAttemptPlan {
  if (isSuccessfulOutcome(outcome)) {
    return { kind: 'delivered' };
  }
  if (!isRetryableOutcome(retry.retryOn, outcome)) {
    return { kind: 'give-up', reason: 'not-retryable' };
  }
  const scheduledDelayMs = retry.delaysMs[failedAttemptNumber - 1];
  if (scheduledDelayMs === undefined) {
    return { kind: 'give-up', reason: 'attempts-exhausted' };
  }
  const retryAfterMs = outcome.kind === 'response' ? outcome.retryAfterMs : undefined;
  const delayMs =
    retry.honourRetryAfter && retryAfterMs !== undefined
      ? Math.max(scheduledDelayMs, Math.min(retryAfterMs, Math.max(...retry.delaysMs)))
      : scheduledDelayMs;
  return { kind: 'retry', attemptNumber: failedAttemptNumber + 1, delayMs };
}

const DELAY_SECONDS = /^\d{1,10}$/;
/** IMF-fixdate, the HTTP-date form senders must use: `Wed, 21 Oct 2026 07:28:00 GMT`. */
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * Reads a `Retry-After` value: delay-seconds or an HTTP date (RFC 9110). Anything else, and a
 * date in the past, gives `undefined` (no hint) rather than an error: a receiver's bad header
 * must not fail the delivery.
 */
export function parseRetryAfterMs(headerValue: string | undefined, now: Date): number | undefined {
  const value = headerValue?.trim();
  if (value === undefined || value === '') {
    return undefined;
  }
  if (DELAY_SECONDS.test(value)) {
    return Number(value) * 1_000;
  }
  const retryAt = HTTP_DATE.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(retryAt) || retryAt <= now.getTime()) {
    return undefined;
  }
  return retryAt - now.getTime();
}
