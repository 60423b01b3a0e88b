import { MAX_ENDPOINT_PAUSE_MS, RATE_WINDOW_MS, RequestPacing } from './request-pacing';

/** The most times found in any window of `windowMs` (each time opening one). */
function mostInAnyWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (const [i, start] of times.entries()) {
    const inWindow = times.slice(i).filter((other) => other < start + windowMs).length;
    most = Math.max(most, inWindow);
  }
  return most;
}

/**
 * Drives the pacing as a busy endpoint's callers would: each asks again after its wait; every
 * request arrives `arrivalMs(n)` after it starts and is answered `answerMs` after it arrives.
 */
function simulate(
  pacing: RequestPacing,
  requests: number,
  { arrivalMs = () => 0, answerMs = 0 }: { arrivalMs?: (n: number) => number; answerMs?: number } = {},
): { starts: number[]; arrivals: number[] } {
  const starts: number[] = [];
  const arrivals: number[] = [];
  const answers: { at: number; start: number }[] = [];
  let now = 0;
  while (starts.length < requests) {
    for (const answer of answers.filter((a) => a.at <= now)) pacing.finished(answer.start, answer.at);
    answers.splice(0, answers.length, ...answers.filter((a) => a.at > now));
    const decision = pacing.take(now);
    if (decision.start === undefined) {
      const nextAnswer = Math.min(...answers.map((a) => a.at));
      now = Math.min(now + decision.waitMs, nextAnswer);
      continue;
    }
    const arrival = now + arrivalMs(starts.length);
    starts.push(now);
    arrivals.push(arrival);
    answers.push({ at: arrival + answerMs, start: decision.start });
  }
  return { starts, arrivals };
}

describe('RequestPacing', () => {
  it('lets everything through at once without a limit or a pause', () => {
    const pacing = new RequestPacing();
    expect(pacing.constrained).toBe(false);
    expect(simulate(pacing, 1_000).starts).toEqual(new Array(1_000).fill(0));
  });

  it.each([1, 3, 5, 50])('lets no more than %i arrive in any second, and keeps up that pace', (perSecond) => {
    const pacing = new RequestPacing();
    pacing.setLimit(perSecond);
    const { starts, arrivals } = simulate(pacing, perSecond * 10, { answerMs: 5 });
    expect(mostInAnyWindow(arrivals, RATE_WINDOW_MS)).toBe(perSecond);
    // Ten seconds' worth takes a little over nine windows: the first window's share goes at once.
    expect(starts.at(-1)).toBeLessThanOrEqual(9 * (RATE_WINDOW_MS + 5));
  });

  it('holds the limit in the receiver’s count when the first requests arrive late (cold connections)', () => {
    const pacing = new RequestPacing();
    pacing.setLimit(5);
    // The first five wait 300 ms for a handshake; later ones arrive at once.
    const { arrivals } = simulate(pacing, 20, { arrivalMs: (n) => (n < 5 ? 300 : 1), answerMs: 2 });
    expect(mostInAnyWindow(arrivals, RATE_WINDOW_MS)).toBe(5);
  });

  it('holds a paused endpoint back for its Retry-After, capped', () => {
    const pacing = new RequestPacing();
    pacing.pause(2_000, 10_000);
    expect(pacing.take(10_500)).toEqual({ waitMs: 1_500 });
    expect(pacing.take(12_000).waitMs).toBe(0);
    pacing.pause(3_600_000, 20_000);
    expect(pacing.take(20_000)).toEqual({ waitMs: MAX_ENDPOINT_PAUSE_MS });
  });

  it('starts a fresh window when the limit changes, and ignores starts of the old one', () => {
    const pacing = new RequestPacing();
    pacing.setLimit(2);
    const first = pacing.take(0);
    pacing.take(0);
    expect(pacing.take(10).start).toBeUndefined();
    pacing.setLimit(4);
    pacing.finished(first.start!, 10);
    expect(simulate(pacing, 4).starts).toEqual([0, 0, 0, 0]);
    pacing.setLimit(undefined);
    expect(pacing.take(10).waitMs).toBe(0);
  });
});
