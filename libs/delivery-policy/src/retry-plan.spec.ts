import { type RetryPolicy } from './delivery-policy';
import {
  type AttemptOutcome,
  isRetryableOutcome,
  maxAttempts,
  parseRetryAfterMs,
  planNextAttempt,
} from './retry-plan';

const status = (code: number, retryAfterMs?: number): AttemptOutcome => ({
  kind: 'response',
  status: code,
  retryAfterMs,
});

const flintnLike: RetryPolicy = {
  delaysMs: [300_000, 1_800_000, 7_200_000, 86_400_000],
  retryOn: 'transient',
  honourRetryAfter: true,
};

describe('isRetryableOutcome', () => {
  it.each([
    ['a network error', { kind: 'network-error' } as const, true, true, true],
    ['a timeout', { kind: 'timeout' } as const, true, true, true],
    ['500', status(500), true, true, true],
    ['503', status(503), true, true, true],
    ['408', status(408), true, false, true],
    ['429', status(429), true, true, true],
    ['400', status(400), false, false, true],
    ['404', status(404), false, false, true],
    ['410', status(410), false, false, true],
    ['301 (redirects are never followed)', status(301), false, false, true],
    ['200', status(200), false, false, false],
    ['204', status(204), false, false, false],
  ])(
    '%s: transient → %p, 5xx-and-429 → %p, any-non-2xx → %p',
    (_description, outcome, underTransient, under5xxAnd429, underAnyNon2xx) => {
      expect(isRetryableOutcome('transient', outcome)).toBe(underTransient);
      expect(isRetryableOutcome('5xx-and-429', outcome)).toBe(under5xxAnd429);
      expect(isRetryableOutcome('any-non-2xx', outcome)).toBe(underAnyNon2xx);
    },
  );
});

describe('planNextAttempt', () => {
  it('makes 1 + delaysMs.length attempts: the first at once, then each listed delay in turn', () => {
    expect(maxAttempts(flintnLike)).toBe(5);
    expect(planNextAttempt(flintnLike, 1, status(500))).toEqual({
      kind: 'retry',
      attemptNumber: 2,
      delayMs: 300_000,
    });
    expect(planNextAttempt(flintnLike, 4, status(500))).toEqual({
      kind: 'retry',
      attemptNumber: 5,
      delayMs: 86_400_000,
    });
    expect(planNextAttempt(flintnLike, 5, status(500))).toEqual({
      kind: 'give-up',
      reason: 'attempts-exhausted',
    });
  });

  it('reports success as delivered', () => {
    expect(planNextAttempt(flintnLike, 1, status(200))).toEqual({ kind: 'delivered' });
  });

  it('gives up at once on a final status', () => {
    expect(planNextAttempt(flintnLike, 1, status(400))).toEqual({ kind: 'give-up', reason: 'not-retryable' });
  });

  it('an empty schedule means a single attempt', () => {
    const singleAttempt: RetryPolicy = { delaysMs: [], retryOn: 'any-non-2xx', honourRetryAfter: true };
    expect(maxAttempts(singleAttempt)).toBe(1);
    expect(planNextAttempt(singleAttempt, 1, { kind: 'timeout' })).toEqual({
      kind: 'give-up',
      reason: 'attempts-exhausted',
    });
  });

  it('a zero delay retries at once', () => {
    const immediateFirstRetry: RetryPolicy = {
      delaysMs: [0, 300_000],
      retryOn: 'transient',
      honourRetryAfter: true,
    };
    expect(planNextAttempt(immediateFirstRetry, 1, { kind: 'network-error' })).toEqual({
      kind: 'retry',
      attemptNumber: 2,
      delayMs: 0,
    });
  });

  it('Retry-After lengthens the wait, but never beyond the longest delay in the schedule', () => {
    expect(planNextAttempt(flintnLike, 1, status(429, 600_000))).toMatchObject({ delayMs: 600_000 });
    expect(planNextAttempt(flintnLike, 1, status(429, 30 * 86_400_000))).toMatchObject({
      delayMs: 86_400_000,
    });
  });

  it('Retry-After never shortens the scheduled wait', () => {
    expect(planNextAttempt(flintnLike, 2, status(503, 1_000))).toMatchObject({ delayMs: 1_800_000 });
  });

  it('ignores Retry-After when the policy says not to honour it', () => {
    const ignoring: RetryPolicy = { ...flintnLike, honourRetryAfter: false };
    expect(planNextAttempt(ignoring, 1, status(429, 600_000))).toMatchObject({ delayMs: 300_000 });
  });
});

describe('parseRetryAfterMs', () => {
  const now = new Date('2026-05-31T14:00:00.000Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfterMs('120', now)).toBe(120_000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date', () => {
    expect(parseRetryAfterMs('Sun, 31 May 2026 14:02:00 GMT', now)).toBe(120_000);
  });

  it.each([undefined, '', '-5', '1.5', 'soon', '2026-05-31T14:02:00Z', 'Sun, 31 May 2026 13:00:00 GMT'])(
    'gives no hint for %p',
    (headerValue) => {
      expect(parseRetryAfterMs(headerValue, now)).toBeUndefined();
    },
  );
});
