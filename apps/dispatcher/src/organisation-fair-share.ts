import { onAbort } from '@skyhook/messaging';

/** Raised to a waiter whose signal aborted before it got a slot. */
export class GateAbortedError extends Error {
  constructor() {
    super('gave up waiting for a delivery slot');
  }
}

interface FairWaiter {
  readonly grant: () => void;
  /** When the delivery's event entered Skyhook (ms): how late the organisation is being served. */
  readonly publishedAt: number;
  /** Set when the waiter gave up; it stays in its queue and is skipped when reached. */
  cancelled: boolean;
}

interface OrganisationTurn {
  inFlight: number;
  /** Waiting for a process slot. */
  waiting: number;
  /** Waiting anywhere in the gate: for its endpoint, its pace or a process slot. */
  held: number;
  queue: FairWaiter[];
  head: number;
  /**
   * The largest publish-to-slot age of the organisation's deliveries granted in the current lag
   * window and in the one before (ms): a backlogged organisation's deliveries come from its
   * parked backlog and, between them, fresh ones that just arrived; the latest alone would swing
   * between the two, and an alert on it would never hold.
   */
  lagInWindowMs: number;
  lagInPreviousWindowMs: number;
  lagWindowStartedAt: number;
  lastGrantAt: number;
  /** Whether the organisation is in the round (it has, or had, waiters). */
  inRound: boolean;
}

/** One organisation's share of the process, as metrics show it. */
export interface OrganisationLoad {
  readonly organisationId: string;
  readonly inFlight: number;
  /** Deliveries waiting in this process: for their endpoint, its pace or a process slot. */
  readonly waiting: number;
  /**
   * How late the organisation's deliveries are being sent: the publish-to-slot age of its latest
   * one to get a slot, or of its oldest waiting one if that is older (seconds).
   */
  readonly lagSeconds: number;
}

/** Above this many skipped-over entries at the head, a queue array is compacted. */
const COMPACT_AFTER = 1_024;
/** An organisation's lag is the largest of its grants over one or two windows of this length. */
const LAG_WINDOW_MS = 5_000;
/** An organisation with nothing in flight or waiting is forgotten this long after its last slot. */
const IDLE_ORGANISATION_KEPT_MS = 60_000;

/**
 * The process's delivery slots, shared fairly between organisations. Under capacity a delivery
 * gets a slot at once; beyond it, deliveries wait in one FIFO queue per organisation and freed
 * slots go to the waiting organisations in turn (round robin), so an organisation with a burst of
 * ten thousand waits behind itself while one with a single delivery waits for one turn at most.
 * Waiting, granting and giving up are O(1).
 */
export class OrganisationFairShare {
  private inUse = 0;
  private totalWaiting = 0;
  private readonly organisations = new Map<string, OrganisationTurn>();
  /** Organisations with waiters, in the order they get their next turn. */
  private round: string[] = [];
  private roundHead = 0;

  constructor(private readonly capacity: () => number) {}

  get active(): number {
    return this.inUse;
  }

  get waiting(): number {
    return this.totalWaiting;
  }

  /** The organisation's deliveries waiting anywhere in the gate (`hold` to `unhold`). */
  heldOf(organisationId: string): number {
    return this.organisations.get(organisationId)?.held ?? 0;
  }

  /** How late the organisation's deliveries are being sent now (ms): `OrganisationLoad.lagSeconds`. */
  lagMsOf(organisationId: string, now = Date.now()): number {
    const turn = this.organisations.get(organisationId);
    return turn === undefined ? 0 : this.recentLagMs(turn, now);
  }

  /** A delivery of the organisation starts waiting in the gate (for its endpoint, first). */
  hold(organisationId: string): void {
    this.turnOf(organisationId).held += 1;
  }

  /** It stopped waiting: it got its slots, or gave up. */
  unhold(organisationId: string): void {
    const turn = this.organisations.get(organisationId);
    if (turn !== undefined) turn.held -= 1;
  }

  acquire(organisationId: string, publishedAt: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(new GateAbortedError());
    const turn = this.turnOf(organisationId);
    if (this.inUse < this.capacity() && this.totalWaiting === 0) {
      this.grantTo(turn, publishedAt);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const stopListening =
        signal === undefined
          ? () => undefined
          : onAbort(signal, () => {
              if (waiter.cancelled) return;
              waiter.cancelled = true;
              turn.waiting -= 1;
              this.totalWaiting -= 1;
              reject(new GateAbortedError());
            });
      const waiter: FairWaiter = {
        grant: () => {
          stopListening();
          resolve();
        },
        publishedAt,
        cancelled: false,
      };
      turn.queue.push(waiter);
      turn.waiting += 1;
      this.totalWaiting += 1;
      if (!turn.inRound) {
        turn.inRound = true;
        this.round.push(organisationId);
      }
    });
  }

  release(organisationId: string): void {
    this.inUse -= 1;
    const turn = this.organisations.get(organisationId);
    if (turn !== undefined) turn.inFlight -= 1;
    this.grantWhileRoom();
  }

  /** Grants waiters, one organisation's turn after another, while slots are free. */
  grantWhileRoom(): void {
    while (this.totalWaiting > 0 && this.inUse < this.capacity() && this.roundHead < this.round.length) {
      const organisationId = this.round[this.roundHead] as string;
      this.roundHead += 1;
      const turn = this.organisations.get(organisationId) as OrganisationTurn;
      const waiter = this.nextWaiterOf(turn);
      if (waiter !== undefined) {
        this.grantTo(turn, waiter.publishedAt);
        turn.waiting -= 1;
        this.totalWaiting -= 1;
        waiter.grant();
      }
      if (turn.waiting > 0) this.round.push(organisationId);
      else turn.inRound = false;
      this.compactRound();
    }
  }

  /** Organisations in flight, waiting or recently served; forgets those idle for a minute. */
  loads(now = Date.now()): OrganisationLoad[] {
    const loads: OrganisationLoad[] = [];
    for (const [organisationId, turn] of this.organisations) {
      const idle = turn.inFlight === 0 && turn.held === 0 && turn.waiting === 0;
      if (idle && now - turn.lastGrantAt > IDLE_ORGANISATION_KEPT_MS) {
        if (!turn.inRound) this.organisations.delete(organisationId);
        continue;
      }
      const oldestWaiting = this.nextWaiterOf(turn, false);
      const waitingLagMs = oldestWaiting === undefined ? 0 : now - oldestWaiting.publishedAt;
      loads.push({
        organisationId,
        inFlight: turn.inFlight,
        waiting: Math.max(turn.held, turn.waiting),
        lagSeconds: Math.max(0, this.recentLagMs(turn, now), waitingLagMs) / 1_000,
      });
    }
    return loads;
  }

  private turnOf(organisationId: string): OrganisationTurn {
    let turn = this.organisations.get(organisationId);
    if (turn === undefined) {
      turn = {
        inFlight: 0,
        waiting: 0,
        held: 0,
        queue: [],
        head: 0,
        lagInWindowMs: 0,
        lagInPreviousWindowMs: 0,
        lagWindowStartedAt: 0,
        lastGrantAt: 0,
        inRound: false,
      };
      this.organisations.set(organisationId, turn);
    }
    return turn;
  }

  private grantTo(turn: OrganisationTurn, publishedAt: number): void {
    const now = Date.now();
    this.inUse += 1;
    turn.inFlight += 1;
    turn.lastGrantAt = now;
    this.rollLagWindow(turn, now);
    turn.lagInWindowMs = Math.max(turn.lagInWindowMs, now - publishedAt);
  }

  /** The largest lag of the last one or two windows (nothing granted for two windows: 0). */
  private recentLagMs(turn: OrganisationTurn, now: number): number {
    this.rollLagWindow(turn, now);
    return Math.max(turn.lagInWindowMs, turn.lagInPreviousWindowMs);
  }

  private rollLagWindow(turn: OrganisationTurn, now: number): void {
    const elapsed = now - turn.lagWindowStartedAt;
    if (elapsed < LAG_WINDOW_MS) return;
    turn.lagInPreviousWindowMs = elapsed < 2 * LAG_WINDOW_MS ? turn.lagInWindowMs : 0;
    turn.lagInWindowMs = 0;
    turn.lagWindowStartedAt = now;
  }

  /** The organisation's oldest waiter still waiting; `take` removes it (and those given up). */
  private nextWaiterOf(turn: OrganisationTurn, take = true): FairWaiter | undefined {
    let head = turn.head;
    while (head < turn.queue.length) {
      const waiter = turn.queue[head] as FairWaiter;
      if (!waiter.cancelled) {
        if (take) {
          turn.head = head + 1;
          this.compactQueue(turn);
        }
        return waiter;
      }
      head += 1;
      if (take) turn.head = head;
    }
    if (take) {
      turn.queue = [];
      turn.head = 0;
    }
    return undefined;
  }

  private compactQueue(turn: OrganisationTurn): void {
    if (turn.head >= COMPACT_AFTER && turn.head * 2 >= turn.queue.length) {
      turn.queue = turn.queue.slice(turn.head);
      turn.head = 0;
    }
  }

  private compactRound(): void {
    if (this.roundHead >= COMPACT_AFTER && this.roundHead * 2 >= this.round.length) {
      this.round = this.round.slice(this.roundHead);
      this.roundHead = 0;
    }
    if (this.roundHead === this.round.length) {
      this.round = [];
      this.roundHead = 0;
    }
  }
}

/**
 * How many deliveries the process has in flight at most, adapted to how busy its event loop is.
 * Past saturation, more requests in flight do not send more: they only make every one of them
 * slower, the quiet organisation's with the bursting one's. So while the loop is saturated the
 * capacity shrinks towards what is in flight (×0.8 a sample, never under `min`), and the rest
 * waits where the fair share decides who goes next; once the loop has room it grows back by a
 * quarter a sample up to `max`.
 */
export class ProcessCapacity {
  private value: number;
  private readonly min: number;

  constructor(
    private readonly max: number,
    min: number,
  ) {
    this.value = max;
    this.min = Math.min(min, max);
  }

  get current(): number {
    return Math.floor(this.value);
  }

  adjust(saturated: boolean, inFlight: number): void {
    this.value = saturated
      ? Math.max(this.min, Math.min(this.value, inFlight) * 0.8)
      : Math.min(this.max, this.value * 1.25 + 1);
  }
}
