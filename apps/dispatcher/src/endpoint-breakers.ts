import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';

/** A failed attempt, as opossum must see it: a rejection of the guarded action. */
export class FailedAttemptError<TReport> extends Error {
  constructor(readonly report: TReport) {
    super('attempt failed');
  }
}

export type BreakerState = 'closed' | 'open' | 'half-open';

interface EndpointBreaker {
  readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  consecutiveFailures: number;
}

/** A breaker opened after a run of failures lets one trial through after this long if the endpoint was not disabled. */
const HALF_OPEN_AFTER_MS = 60_000;
const BUCKET_ROTATION_MS = 1_000;

/**
 * One opossum circuit breaker per endpoint (subscription). Every attempt runs through its
 * endpoint's breaker, so opossum keeps the state and the rolling statistics; the trip rule is
 * Skyhook's own, though: `threshold` consecutive failed attempts (any 2xx resets the run), not
 * opossum's error percentage, which is switched off. An open breaker refuses attempts at once;
 * the endpoint being enabled again closes it.
 */
export class EndpointBreakers {
  private readonly breakers = new Map<string, EndpointBreaker>();
  /** One timer drives every breaker's statistics window instead of one interval per breaker. */
  private readonly bucketRotation = new EventEmitter();
  private readonly rotationTimer: NodeJS.Timeout;

  constructor() {
    this.bucketRotation.setMaxListeners(0);
    this.rotationTimer = setInterval(() => this.bucketRotation.emit('rotate'), BUCKET_ROTATION_MS);
    this.rotationTimer.unref();
  }

  /**
   * Runs `attempt` through the endpoint's breaker. Resolves with its result on success; a
   * `FailedAttemptError` from `attempt` counts as a failure and is rethrown; `undefined` means
   * the breaker is open and nothing was attempted.
   */
  async run<T>(endpointId: string, attempt: () => Promise<T>): Promise<T | undefined> {
    const entry = this.entryFor(endpointId);
    try {
      return (await entry.breaker.fire(attempt)) as T;
    } catch (error) {
      if ((error as { code?: string }).code === 'EOPENBREAKER') return undefined;
      throw error;
    }
  }

  /** Counts a failed attempt; true when this failure trips the breaker (the caller disables the endpoint). */
  recordFailure(endpointId: string, threshold: number): boolean {
    const entry = this.entryFor(endpointId);
    entry.consecutiveFailures += 1;
    if (entry.consecutiveFailures >= threshold && !entry.breaker.opened) {
      entry.breaker.open();
      return true;
    }
    return false;
  }

  recordSuccess(endpointId: string): void {
    const entry = this.breakers.get(endpointId);
    if (entry !== undefined) entry.consecutiveFailures = 0;
  }

  isOpen(endpointId: string): boolean {
    return this.breakers.get(endpointId)?.breaker.opened ?? false;
  }

  consecutiveFailures(endpointId: string): number {
    return this.breakers.get(endpointId)?.consecutiveFailures ?? 0;
  }

  /** The endpoint was enabled again: start from a clean slate. */
  reset(endpointId: string): void {
    const entry = this.breakers.get(endpointId);
    if (entry === undefined) return;
    entry.consecutiveFailures = 0;
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
    clearInterval(this.rotationTimer);
    for (const { breaker } of this.breakers.values()) breaker.shutdown();
    this.breakers.clear();
  }

  private entryFor(endpointId: string): EndpointBreaker {
    let entry = this.breakers.get(endpointId);
    if (entry === undefined) {
      const breaker = new CircuitBreaker((attempt: () => Promise<unknown>) => attempt(), {
        name: endpointId,
        // Timeouts are the HTTP client's (per policy); opossum's own would race them.
        timeout: false,
        resetTimeout: HALF_OPEN_AFTER_MS,
        // Never opens on its own percentage rule: the consecutive-failure rule above decides.
        volumeThreshold: Number.MAX_SAFE_INTEGER,
        rollingCountTimeout: 60_000,
        rollingCountBuckets: 60,
        rollingPercentilesEnabled: false,
        rotateBucketController: this.bucketRotation,
      });
      entry = { breaker, consecutiveFailures: 0 };
      this.breakers.set(endpointId, entry);
    }
    return entry;
  }
}
