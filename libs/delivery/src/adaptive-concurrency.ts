import { parseRetryAfterMs } from '@skyhook/delivery-policy';
import { type AttemptReport } from './attempt-report';

/**
 * What one attempt says about its endpoint's capacity: `congested` (it timed out, could not be
 * reached, or answered 429/503: sending more at once only makes it worse), `fast` (a 2xx well
 * inside the timeout: it has room), or `neutral` (an answer that says nothing about load, such as
 * a quick 400 or 500, or a success that took most of the timeout).
 */
export type AttemptFeedback = 'fast' | 'congested' | 'neutral';

/** Statuses by which a server says it is overloaded; `Retry-After` is honoured by the retry plan. */
const OVERLOAD_STATUSES = new Set([429, 503]);

/** A success is `fast` when it took less than this share of the endpoint's timeout. */
const FAST_SHARE_OF_TIMEOUT = 0.5;

export function attemptFeedbackOf(report: AttemptReport, timeoutMs: number): AttemptFeedback {
  switch (report.kind) {
    case 'timeout':
    case 'network-error':
      return 'congested';
    case 'address-refused':
      return 'neutral';
    case 'response':
      if (OVERLOAD_STATUSES.has(report.status)) return 'congested';
      if (
        report.status >= 200 &&
        report.status <= 299 &&
        report.durationMs < timeoutMs * FAST_SHARE_OF_TIMEOUT
      ) {
        return 'fast';
      }
      return 'neutral';
  }
}

/**
 * How long an endpoint asked not to be sent anything (ms): the `Retry-After` of a 429 or 503,
 * undefined for any other answer. The delivery that got it is retried after it (its retry plan);
 * this holds the endpoint's other deliveries back for as long (up to a cap, `RequestPacing`).
 */
export function endpointPauseOf(report: AttemptReport, attemptAt: Date): number | undefined {
  if (report.kind !== 'response' || !OVERLOAD_STATUSES.has(report.status)) return undefined;
  return parseRetryAfterMs(report.retryAfter, attemptAt);
}

/**
 * How many requests one endpoint may have in flight, adapted to how it answers (AIMD, as TCP
 * congestion control): halved on congestion, at most once per round of requests (those that
 * started before the last halving do not halve again: sixteen timeouts of one burst are one
 * signal), and grown by one over a round of fast successes (`1/limit` each), up to `max`. A
 * stalled endpoint is thus held to about one request at a time within a few timeouts, and an
 * endpoint that recovers gets its concurrency back within a few hundred fast answers.
 *
 * Throttling only: the breakers (consecutive failures, as each profile says) decide disabling,
 * and are fed every attempt exactly as before.
 */
export class AdaptiveLimit {
  private value: number;
  /** Counts halvings: a request remembers the round it started in. */
  private round = 0;

  constructor(private readonly max: number) {
    this.value = max;
  }

  /** Requests allowed in flight now. */
  get current(): number {
    return Math.max(1, Math.floor(this.value));
  }

  /** Below its maximum: the endpoint has recently been slow or unreachable. */
  get throttled(): boolean {
    return this.current < this.max;
  }

  /** The round a request starting now belongs to; hand it back with its feedback. */
  get currentRound(): number {
    return this.round;
  }

  record(feedback: AttemptFeedback, startedInRound: number): void {
    if (feedback === 'congested') {
      if (startedInRound < this.round) return;
      this.value = Math.max(1, this.value / 2);
      this.round += 1;
    } else if (feedback === 'fast') {
      this.value = Math.min(this.max, this.value + 1 / this.value);
    }
  }
}
