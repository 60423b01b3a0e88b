import { onAbort, sleepUnlessAborted } from '@skyhook/messaging';
import { AdaptiveLimit, type AttemptFeedback, type PacedStart, RequestPacing } from '@skyhook/delivery';
import { GateAbortedError, OrganisationFairShare, type OrganisationLoad } from './organisation-fair-share';

export { GateAbortedError } from './organisation-fair-share';

interface Waiter {
  readonly grant: () => void;
  /** Set when the waiter gave up; it stays in the queue and is skipped when reached. */
  cancelled: boolean;
}

/** For a wait no one can cancel. */
const NEVER_ABORTED = new AbortController().signal;

/** Above this many skipped-over entries at the head, the queue array is compacted. */
const COMPACT_AFTER = 1_024;

/** How long and how deep an endpoint's queue may get before a delivery is turned away (parked). */
export interface QueueBounds {
  /**
   * Deliveries waiting for a throttled endpoint (held below its maximum concurrency) beyond which
   * the next one is turned away at once. An endpoint at full concurrency is answering well: a burst
   * queues for it, bounded by the wait alone, since its overflow, once parked, could wait behind a
   * stalled endpoint's parked backlog far longer than it would have waited here.
   */
  readonly maxQueued: number;
  /** A delivery waiting this long for the endpoint is turned away. */
  readonly maxWaitMs: number;
  /**
   * Asked when a delivery for an endpoint at full concurrency has waited `maxWaitMs`: while it
   * answers true it waits another `maxWaitMs`. For a process that is itself the bottleneck (its
   * event loop saturated): the wait is then its own, not the endpoint's, and parking the delivery
   * would cost a produce and a consume more for the same send. Throttled endpoints are not asked.
   */
  readonly waitLonger?: () => boolean;
  /**
   * Deliveries of one organisation that may wait in the gate (for their endpoints, their pace or a
   * process slot): beyond, the next of its deliveries is turned away at once (`organisation-backlog`). Its backlog then waits in the
   * parked topic, not in the request partitions it shares with other organisations' endpoints,
   * whose deliveries would otherwise wait behind it in Kafka, where no fair share reaches.
   */
  readonly maxWaitingPerOrganisation?: number;
  /**
   * …and only once the organisation is this late (ms, its recent publish-to-slot lag): a burst
   * the process catches up with on its own costs its neighbours less than parking it would cost
   * everyone (a produce and a consume per delivery, on a saturated process).
   */
  readonly organisationLagBeforeParkingMs?: number;
}

/**
 * Raised to a delivery its endpoint cannot take soon: its queue is full, it waited the longest
 * allowed, or its organisation's backlog is full. The caller hands the delivery on (parks it)
 * instead of holding its record.
 *
 * Carries no stack: under a burst thousands a second are raised, each caught at once and turned
 * into a parked record, never logged; capturing a stack was 1.1 % of a busy dispatcher's time
 * (bench/RESULTS.md, "Where the dispatcher's time goes under the burst").
 */
export class EndpointBusyError extends Error {
  readonly endpoint: string;
  readonly reason: 'queue-full' | 'queue-wait' | 'organisation-backlog';

  constructor(endpoint: string, reason: EndpointBusyError['reason']) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`endpoint ${endpoint} is busy (${reason})`);
    Error.stackTraceLimit = stackTraceLimit;
    this.endpoint = endpoint;
    this.reason = reason;
    this.name = 'EndpointBusyError';
  }
}

/**
 * A counting semaphore with a FIFO queue of waiters that can give up (abort, or a bounded wait).
 * Its capacity may change while it is held: a release grants waiters only while the slots in use
 * are under the capacity of the moment. Waiting, granting and giving up are O(1): the queue is an
 * array read from a moving head, a waiter that gives up is only marked, and aborts are heard
 * through one listener per signal (`onAbort`), not one per waiter.
 */
class Semaphore {
  private inUse = 0;
  private queue: Waiter[] = [];
  private head = 0;
  private waiting = 0;

  constructor(private readonly capacity: () => number) {}

  get active(): number {
    return this.inUse;
  }

  get queued(): number {
    return this.waiting;
  }

  get idle(): boolean {
    return this.inUse === 0 && this.waiting === 0;
  }

  /** `bounds.maxQueued` applies only when `depthBounded` (the caller's view of the endpoint). */
  acquire(
    signal: AbortSignal | undefined,
    bounds?: QueueBounds,
    name = '',
    depthBounded = true,
  ): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(new GateAbortedError());
    if (this.inUse < this.capacity() && this.waiting === 0) {
      this.inUse += 1;
      return Promise.resolve();
    }
    if (bounds !== undefined && depthBounded && this.waiting >= bounds.maxQueued) {
      return Promise.reject(new EndpointBusyError(name, 'queue-full'));
    }
    return new Promise<void>((resolve, reject) => {
      const giveUp = (error: Error) => {
        if (waiter.cancelled) return;
        waiter.cancelled = true;
        this.waiting -= 1;
        stopListening();
        clearTimeout(timer);
        reject(error);
      };
      const stopListening =
        signal === undefined ? () => undefined : onAbort(signal, () => giveUp(new GateAbortedError()));
      const waitBoundReached = (): void => {
        if (!depthBounded && bounds?.waitLonger?.() === true) {
          timer = setTimeout(waitBoundReached, bounds.maxWaitMs).unref();
          return;
        }
        giveUp(new EndpointBusyError(name, 'queue-wait'));
      };
      let timer = bounds === undefined ? undefined : setTimeout(waitBoundReached, bounds.maxWaitMs).unref();
      const waiter: Waiter = {
        grant: () => {
          stopListening();
          clearTimeout(timer);
          resolve();
        },
        cancelled: false,
      };
      this.queue.push(waiter);
      this.waiting += 1;
    });
  }

  release(): void {
    this.inUse -= 1;
    this.grantWhileRoom();
  }

  /** Grants queued waiters while slots are free (after a release, or when the capacity grew). */
  grantWhileRoom(): void {
    while (this.inUse < this.capacity()) {
      const next = this.nextWaiter();
      if (next === undefined) return;
      this.inUse += 1;
      next.grant();
    }
  }

  private nextWaiter(): Waiter | undefined {
    while (this.head < this.queue.length) {
      const waiter = this.queue[this.head] as Waiter;
      this.head += 1;
      if (waiter.cancelled) continue;
      this.waiting -= 1;
      this.compact();
      return waiter;
    }
    this.queue = [];
    this.head = 0;
    return undefined;
  }

  private compact(): void {
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

/** One endpoint's slots, sized by its adaptive limit, and the pace its requests may start at. */
interface EndpointLane {
  readonly limit: AdaptiveLimit;
  readonly slots: Semaphore;
  readonly pacing: RequestPacing;
}

/**
 * Gives a slot back; with the attempt's feedback, the endpoint's limit adapts to it, and with a
 * `Retry-After` (of a 429 or 503, in ms) the endpoint's other requests wait that long too.
 */
export type ReleaseSlot = (feedback?: AttemptFeedback, retryAfterMs?: number) => void;

/** Who a delivery is for, as the gate shares slots and paces requests by it. */
export interface DeliveryTraits {
  /** The organisation whose share of the process the delivery takes. */
  readonly organisationId: string;
  /** When its event entered Skyhook (ms since the epoch): how late the organisation is served. */
  readonly publishedAt: number;
  /** The endpoint's rate limit (requests per second), if it has one. */
  readonly rateLimitPerSecond?: number | undefined;
}

/** A delivery the caller says nothing about shares the process as one anonymous organisation. */
const UNATTRIBUTED: DeliveryTraits = { organisationId: '', publishedAt: 0 };

/** An endpoint held below its maximum concurrency, as metrics and readiness show it. */
export interface ThrottledEndpoint {
  readonly endpoint: string;
  readonly limit: number;
  readonly inFlight: number;
  readonly queued: number;
}

/**
 * Bounds concurrent deliveries per endpoint and per process. A slow or dead endpoint can hold
 * at most its own slots, and fewer the worse it answers (`AdaptiveLimit`); the deliveries queued
 * behind it wait for those, not for a process slot, so every other endpoint keeps going (no
 * head-of-line blocking). An endpoint's requests start no faster than its rate limit, and not at
 * all while it asked for a pause (`RequestPacing`). The process's slots are shared fairly between
 * organisations (`OrganisationFairShare`). With `QueueBounds`, a delivery that would queue too
 * deep or too long for its endpoint is turned away (`EndpointBusyError`) so that its caller can
 * hand it on.
 */
export class ConcurrencyGate {
  private readonly lanes = new Map<string, EndpointLane>();
  private readonly total: OrganisationFairShare;
  private readonly totalLimit: () => number;

  /** `totalLimit` may change (an adaptive capacity): it is read at each grant. */
  constructor(
    private readonly perKeyLimit: number,
    totalLimit: number | (() => number),
  ) {
    this.totalLimit = typeof totalLimit === 'number' ? () => totalLimit : totalLimit;
    this.total = new OrganisationFairShare(this.totalLimit);
  }

  /** Requests the process lets in flight now. */
  get capacity(): number {
    return this.totalLimit();
  }

  /** Deliveries waiting for a process slot, over all organisations. */
  get waitingForProcess(): number {
    return this.total.waiting;
  }

  /** Each organisation's deliveries in flight and waiting, and how late it is served. */
  organisationLoads(): OrganisationLoad[] {
    return this.total.loads();
  }

  /** Grants process slots a grown capacity makes room for. */
  capacityChanged(): void {
    this.total.grantWhileRoom();
  }

  /** Slots in use over all keys. */
  get inFlight(): number {
    return this.total.active;
  }

  /**
   * Waits for a slot for `key` and then a process slot; call the returned function to give both
   * back. With `bounds`, rejects with an {@link EndpointBusyError} instead of queueing beyond them
   * (the depth bound only while the endpoint is throttled)
   * (the wait for a process slot is not bounded: that is the process being busy, not the endpoint).
   */
  async acquire(
    key: string,
    signal?: AbortSignal,
    bounds?: QueueBounds,
    traits: DeliveryTraits = UNATTRIBUTED,
  ): Promise<ReleaseSlot> {
    const { organisationId } = traits;
    const backlogBound = bounds?.maxWaitingPerOrganisation;
    if (
      backlogBound !== undefined &&
      this.total.heldOf(organisationId) >= backlogBound &&
      this.total.lagMsOf(organisationId) >= (bounds?.organisationLagBeforeParkingMs ?? 0)
    ) {
      throw new EndpointBusyError(key, 'organisation-backlog');
    }
    this.total.hold(organisationId);
    try {
      return await this.acquireHeld(key, signal, bounds, traits);
    } finally {
      this.total.unhold(organisationId);
    }
  }

  /** `acquire` once the delivery counts as waiting for its organisation. */
  private async acquireHeld(
    key: string,
    signal: AbortSignal | undefined,
    bounds: QueueBounds | undefined,
    traits: DeliveryTraits,
  ): Promise<ReleaseSlot> {
    const waitStartedAt = Date.now();
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      const limit = new AdaptiveLimit(this.perKeyLimit);
      lane = { limit, slots: new Semaphore(() => limit.current), pacing: new RequestPacing() };
      this.lanes.set(key, lane);
    }
    const { limit, slots, pacing } = lane;
    pacing.setLimit(traits.rateLimitPerSecond);
    try {
      await slots.acquire(signal, bounds, key, limit.throttled || pacing.constrained);
    } catch (error) {
      this.dropIfIdle(key, lane);
      throw error;
    }
    let paced: PacedStart;
    try {
      paced = await this.waitForPace(key, pacing, waitStartedAt, signal, bounds);
    } catch (error) {
      slots.release();
      this.dropIfIdle(key, lane);
      throw error;
    }
    try {
      await this.total.acquire(traits.organisationId, traits.publishedAt, signal);
    } catch (error) {
      pacing.finished(paced, Date.now());
      slots.release();
      this.dropIfIdle(key, lane);
      throw error;
    }
    const round = limit.currentRound;
    let released = false;
    return (feedback, retryAfterMs) => {
      if (released) return;
      released = true;
      this.total.release(traits.organisationId);
      if (feedback !== undefined) limit.record(feedback, round);
      pacing.finished(paced, Date.now());
      if (retryAfterMs !== undefined && retryAfterMs > 0) pacing.pause(retryAfterMs, Date.now());
      slots.release();
      this.dropIfIdle(key, lane);
    };
  }

  /**
   * Waits, holding the endpoint's slot, until its pace lets a request start. Within `bounds`, a
   * wait that would end past the endpoint's longest queue wait is not begun: the delivery is
   * turned away at once, as one that waited that long would be.
   */
  private async waitForPace(
    key: string,
    pacing: RequestPacing,
    waitStartedAt: number,
    signal: AbortSignal | undefined,
    bounds: QueueBounds | undefined,
  ): Promise<PacedStart> {
    for (;;) {
      const now = Date.now();
      const { start, waitMs } = pacing.take(now);
      if (start !== undefined) return start;
      if (bounds !== undefined && now + waitMs - waitStartedAt > bounds.maxWaitMs) {
        throw new EndpointBusyError(key, 'queue-wait');
      }
      try {
        await sleepUnlessAborted(waitMs, signal ?? NEVER_ABORTED);
      } catch {
        throw new GateAbortedError();
      }
    }
  }

  /** Endpoints below their maximum concurrency, the most queued first. */
  throttledEndpoints(): ThrottledEndpoint[] {
    const throttled: ThrottledEndpoint[] = [];
    for (const [endpoint, { limit, slots }] of this.lanes) {
      if (limit.throttled) {
        throttled.push({ endpoint, limit: limit.current, inFlight: slots.active, queued: slots.queued });
      }
    }
    return throttled.sort((a, b) => b.queued - a.queued || a.limit - b.limit);
  }

  /** Deliveries waiting for a slot of `key`. */
  queuedFor(key: string): number {
    return this.lanes.get(key)?.slots.queued ?? 0;
  }

  /** Forgets what was learnt about an endpoint (deleted, or enabled again by its partner). */
  forget(key: string): void {
    const lane = this.lanes.get(key);
    if (lane !== undefined && lane.slots.idle) this.lanes.delete(key);
  }

  /**
   * An idle lane at full concurrency and unpaced carries nothing worth keeping; a throttled one
   * its limit, a paced one the start times its next requests are counted against.
   */
  private dropIfIdle(key: string, lane: EndpointLane): void {
    if (
      lane.slots.idle &&
      !lane.limit.throttled &&
      !lane.pacing.constrained &&
      this.lanes.get(key) === lane
    ) {
      this.lanes.delete(key);
    }
  }
}
