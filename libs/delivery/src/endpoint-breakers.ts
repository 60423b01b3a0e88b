import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';

/**
 * A failed attempt, as opossum must see it: a rejection of the guarded action. `counted` false
 * is a failure that says nothing about the endpoint's health (a receiver still switching to a
 * rotated secret): it neither adds to the run of failures nor ends it.
 */
export class FailedAttemptError<TReport> extends Error {
  constructor(
    readonly report: TReport,
    readonly counted = true,
  ) {
    super('attempt failed');
  }
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** How one attempt through an endpoint's breaker went. */
export type BreakerRun<T, TReport> =
  /** The breaker is open (or a half-open trial is in flight): nothing was attempted. */
  | { readonly kind: 'refused' }
  | { readonly kind: 'succeeded'; readonly value: T }
  /** `tripped`: this failure opened the breaker (the caller disables the endpoint). */
  | { readonly kind: 'failed'; readonly report: TReport; readonly tripped: boolean };

/**
 * Skyhook's trip rule: the `threshold`-th failure in a row opens a closed breaker. A breaker
 * that is open already (a failed half-open trial reopened it) does not trip again, so the
 * endpoint is disabled once per run of failures.
 */
export function tripsBreaker(consecutiveFailures: number, threshold: number, alreadyOpen: boolean): boolean {
  return !alreadyOpen && consecutiveFailures >= threshold;
}

interface EndpointBreaker {
  readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  /** Emitting `rotate` empties the breaker's one-bucket statistics window: the run of failures restarts. */
  readonly runReset: EventEmitter;
}

/** A breaker opened after a run of failures lets one trial through after this long if the endpoint was not disabled. */
const HALF_OPEN_AFTER_MS = 60_000;

/**
 * One opossum circuit breaker per endpoint (subscription), which owns the endpoint's state
 * (closed, open, half-open with one trial), the half-open timer and the count of failures: its
 * statistics window is a single bucket emptied by every success, so its `failures` are the
 * current run of consecutive failed attempts, each counted once, by opossum. The trip rule is
 * Skyhook's ({@link tripsBreaker}), applied to that count after each failure; opossum's own
 * percentage rule is switched off because attempts still in flight count as fires and dilute it,
 * so a busy failing endpoint would never trip (ADR 0023). An open breaker refuses attempts at
 * once; the endpoint being enabled again closes it.
 */
export class EndpointBreakers {
  private readonly breakers = new Map<string, EndpointBreaker>();

  /**
   * Runs `attempt` through the endpoint's breaker. A `FailedAttemptError` from `attempt` is a
   * failed attempt (counted, and checked against `threshold`); any other error is rethrown.
   */
  async run<T, TReport>(
    endpointId: string,
    threshold: number,
    attempt: () => Promise<T>,
  ): Promise<BreakerRun<T, TReport>> {
    const { breaker, runReset } = this.entryFor(endpointId);
    try {
      const value = (await breaker.fire(attempt)) as T;
      runReset.emit('rotate');
      return { kind: 'succeeded', value };
    } catch (error) {
      if ((error as { code?: string }).code === 'EOPENBREAKER') return { kind: 'refused' };
      if (!(error instanceof FailedAttemptError)) throw error;
      const tripped = error.counted && tripsBreaker(breaker.stats.failures, threshold, breaker.opened);
      if (tripped) breaker.open();
      return { kind: 'failed', report: error.report as TReport, tripped };
    }
  }

  isOpen(endpointId: string): boolean {
    return this.breakers.get(endpointId)?.breaker.opened ?? false;
  }

  consecutiveFailures(endpointId: string): number {
    return this.breakers.get(endpointId)?.breaker.stats.failures ?? 0;
  }

  /** The endpoint was enabled again: start from a clean slate. */
  reset(endpointId: string): void {
    const entry = this.breakers.get(endpointId);
    if (entry === undefined) return;
    entry.runReset.emit('rotate');
    entry.breaker.close();
  }

  /** The endpoint is gone for good: free its breaker. */
  forget(endpointId: string): void {
    this.breakers.get(endpointId)?.breaker.shutdown();
    this.breakers.delete(endpointId);
  }

  countsByState(): Record<BreakerState, number> {
    const counts: Record<BreakerState, number> = { closed: 0, open: 0, 'half-open': 0 };
    for (const { breaker } of this.breakers.values()) {
      counts[breaker.halfOpen ? 'half-open' : breaker.opened ? 'open' : 'closed'] += 1;
    }
    return counts;
  }

  shutdown(): void {
    for (const { breaker } of this.breakers.values()) breaker.shutdown();
    this.breakers.clear();
  }

  private entryFor(endpointId: string): EndpointBreaker {
    let entry = this.breakers.get(endpointId);
    if (entry === undefined) {
      const runReset = new EventEmitter();
      const breaker = new CircuitBreaker((attempt: () => Promise<unknown>) => attempt(), {
        name: endpointId,
        // Timeouts are the HTTP client's (per policy); opossum's own would race them.
        timeout: false,
        resetTimeout: HALF_OPEN_AFTER_MS,
        // The percentage rule never fires (see the class comment): tripsBreaker decides.
        volumeThreshold: Number.MAX_SAFE_INTEGER,
        // One bucket, rotated only by a success or a reset: the window is the current run of failures.
        rollingCountBuckets: 1,
        rotateBucketController: runReset,
        rollingPercentilesEnabled: false,
        // No per-breaker timer: an idle endpoint costs nothing.
        enableSnapshots: false,
        // Only a counted failed attempt counts: an error before anything was sent (the consumer
        // could not record that it was about to send) says nothing about the endpoint. opossum
        // takes a filtered error for a success that does not end the run (no rotation), though
        // it does close a half-open breaker: the endpoint answered.
        errorFilter: (error: unknown) => !(error instanceof FailedAttemptError) || !error.counted,
      });
      entry = { breaker, runReset };
      this.breakers.set(endpointId, entry);
    }
    return entry;
  }
}

/**
 * Runs `attempt` outside any breaker (a test delivery: how a partner checks a fix, whatever the
 * breaker says, and never moving it), with the same outcome shape as {@link EndpointBreakers.run}.
 */
export async function runOutsideBreaker<T, TReport>(
  attempt: () => Promise<T>,
): Promise<BreakerRun<T, TReport>> {
  try {
    return { kind: 'succeeded', value: await attempt() };
  } catch (error) {
    if (!(error instanceof FailedAttemptError)) throw error;
    return { kind: 'failed', report: error.report as TReport, tripped: false };
  }
}
