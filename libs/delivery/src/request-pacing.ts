/** The window a rate limit counts in: a second. */
export const RATE_WINDOW_MS = 1_000;

/**
 * The longest an endpoint's `Retry-After` (on a 429 or 503) holds back its other deliveries. The
 * delivery that got the answer waits the whole time (its retry plan honours it); the others wait
 * at most this long, then probe: a receiver that asks for an hour off is asked again in a minute,
 * by one request at a time (its concurrency was halved by the same answer).
 */
export const MAX_ENDPOINT_PAUSE_MS = 60_000;

/** A request counted against a rate limit, handed back (`RequestPacing.finished`) when it is answered. */
export type PacedStart = number;

/** What `take` answers: a start, or how long to wait before asking again. */
export type PacingDecision =
  | { readonly start: PacedStart; readonly waitMs: 0 }
  | { readonly start?: undefined; readonly waitMs: number };

/** Every request of an endpoint without a limit: one answer, not one allocation per request. */
const UNPACED: PacingDecision = { start: -1, waitMs: 0 };

/** When nothing says how long: a wait for an answer that has not come yet is looked at again after this. */
const UNANSWERED_RECHECK_MS = 50;

/**
 * When an endpoint may be sent its next request: at most `perSecond` requests in any second as
 * the receiver counts them, and none while the endpoint has asked for a pause (`Retry-After`).
 *
 * The receiver counts arrivals, which the sender does not see: a first request that waited for a
 * TLS handshake arrives later than it left, and the next second's requests, on warm connections,
 * can land in the same second as it. So each request is counted from when it was **answered** (or
 * given up), which is after it arrived: the times of the last `perSecond` requests are kept in a
 * ring (a request in flight holds its place with no time yet), and the next may start once the
 * oldest of them was answered a second ago. That can only be later than the receiver's own count
 * allows, never earlier: the limit holds in the receiver's eyes whatever the network did. The
 * cost is pace: an endpoint answering in L ms gets at most `perSecond` every 1 s + L.
 *
 * A sliding window and not a token bucket: a full bucket lets `perSecond` through at once and
 * refills `perSecond` more within the same second, twice the limit.
 */
export class RequestPacing {
  /** Per place: when its request was answered; +∞ while it is in flight. */
  private answeredAt: number[] = [];
  private oldest = 0;
  private limit: number | undefined;
  /** Bumped by every change of limit: a start of an older window is not handed back into this one. */
  private generation = 0;
  private pausedUntil = 0;

  /** The limit in force (undefined: none); a change starts a fresh window. */
  setLimit(perSecond: number | undefined): void {
    if (perSecond === this.limit) return;
    this.limit = perSecond;
    this.generation += 1;
    this.answeredAt =
      perSecond === undefined ? [] : new Array<number>(perSecond).fill(Number.NEGATIVE_INFINITY);
    this.oldest = 0;
  }

  /** Holds every request back until `now + ms` (at most {@link MAX_ENDPOINT_PAUSE_MS}). */
  pause(ms: number, now: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, now + Math.min(ms, MAX_ENDPOINT_PAUSE_MS));
  }

  /** Limited or paused: an idle endpoint's state is worth keeping while this holds. */
  get constrained(): boolean {
    return this.limit !== undefined || this.pausedUntil > Date.now();
  }

  /**
   * Whether a request may start now. A start is counted from then on: hand it back with
   * {@link finished} once answered. A caller told to wait asks again after the wait (another may
   * have taken the place meanwhile).
   */
  take(now: number): PacingDecision {
    if (this.pausedUntil > now) return { waitMs: this.pausedUntil - now };
    if (this.limit === undefined) return UNPACED;
    const place = this.oldest;
    const answered = this.answeredAt[place] as number;
    if (answered === Number.POSITIVE_INFINITY) return { waitMs: UNANSWERED_RECHECK_MS };
    const wait = answered + RATE_WINDOW_MS - now;
    if (wait > 0) return { waitMs: Math.ceil(wait) };
    this.answeredAt[place] = Number.POSITIVE_INFINITY;
    this.oldest = (place + 1) % this.answeredAt.length;
    return { start: this.generation * ENCODING_BASE + place, waitMs: 0 };
  }

  /** The request of `start` was answered (or given up) at `now`. */
  finished(start: PacedStart, now: number): void {
    if (start < 0 || Math.floor(start / ENCODING_BASE) !== this.generation) return;
    this.answeredAt[start % ENCODING_BASE] = now;
  }
}

/** A start encodes its window's generation and its place: places are fewer than this. */
const ENCODING_BASE = 1_000_000;
