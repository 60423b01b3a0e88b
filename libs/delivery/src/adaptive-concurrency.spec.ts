import { AdaptiveLimit, attemptFeedbackOf } from './adaptive-concurrency';
import { type AttemptReport } from './attempt-report';

const response = (status: number, durationMs: number): AttemptReport => ({
  kind: 'response',
  status,
  retryAfter: undefined,
  bodyExcerpt: '',
  durationMs,
});
const failure = (kind: 'timeout' | 'network-error' | 'address-refused'): AttemptReport => ({
  kind,
  errorCode: kind,
  errorMessage: kind,
  durationMs: 10_000,
});

describe('attemptFeedbackOf', () => {
  it('calls timeouts, unreachable endpoints and overload answers congestion', () => {
    expect(attemptFeedbackOf(failure('timeout'), 10_000)).toBe('congested');
    expect(attemptFeedbackOf(failure('network-error'), 10_000)).toBe('congested');
    expect(attemptFeedbackOf(response(429, 5), 10_000)).toBe('congested');
    expect(attemptFeedbackOf(response(503, 5), 10_000)).toBe('congested');
  });

  it('calls a success well inside the timeout fast, and one near it neither', () => {
    expect(attemptFeedbackOf(response(200, 40), 10_000)).toBe('fast');
    expect(attemptFeedbackOf(response(204, 4_999), 10_000)).toBe('fast');
    expect(attemptFeedbackOf(response(200, 9_900), 10_000)).toBe('neutral');
  });

  it('reads nothing about load into quick refusals and errors', () => {
    expect(attemptFeedbackOf(response(500, 3), 10_000)).toBe('neutral');
    expect(attemptFeedbackOf(response(401, 3), 10_000)).toBe('neutral');
    expect(attemptFeedbackOf(failure('address-refused'), 10_000)).toBe('neutral');
  });
});

describe('AdaptiveLimit', () => {
  it('starts at its maximum, unthrottled', () => {
    const limit = new AdaptiveLimit(16);
    expect(limit.current).toBe(16);
    expect(limit.throttled).toBe(false);
  });

  it('halves once per round of congestion: a burst of timeouts that started together is one signal', () => {
    const limit = new AdaptiveLimit(16);
    const round = limit.currentRound;
    for (let n = 0; n < 16; n += 1) limit.record('congested', round);
    expect(limit.current).toBe(8);
    expect(limit.throttled).toBe(true);
  });

  it('shrinks toward one request while every round times out, never below one', () => {
    const limit = new AdaptiveLimit(16);
    for (let n = 0; n < 10; n += 1) limit.record('congested', limit.currentRound);
    expect(limit.current).toBe(1);
  });

  it('grows back by about one per round of fast answers, up to its maximum', () => {
    const limit = new AdaptiveLimit(16);
    for (let n = 0; n < 10; n += 1) limit.record('congested', limit.currentRound);
    let fastAnswers = 0;
    while (limit.current < 16) {
      limit.record('fast', limit.currentRound);
      fastAnswers += 1;
    }
    // 1 + 2 + … + 15 answers: one round of each size on the way back.
    expect(fastAnswers).toBeGreaterThan(100);
    expect(fastAnswers).toBeLessThan(140);
    for (let n = 0; n < 100; n += 1) limit.record('fast', limit.currentRound);
    expect(limit.current).toBe(16);
    expect(limit.throttled).toBe(false);
  });

  it('is not moved by neutral answers', () => {
    const limit = new AdaptiveLimit(16);
    limit.record('congested', limit.currentRound);
    for (let n = 0; n < 500; n += 1) limit.record('neutral', limit.currentRound);
    expect(limit.current).toBe(8);
  });
});
