import { onAbort } from '@skyhook/messaging';

/** Raised to a waiter whose signal aborted before it got a slot. */
export class GateAbortedError extends Error {
  constructor() {
    super('gave up waiting for a delivery slot');
  }
}

interface Waiter {
  readonly grant: () => void;
  /** Set when the waiter gave up; it stays in the queue and is skipped when reached. */
  cancelled: boolean;
}

/** Above this many skipped-over entries at the head, the queue array is compacted. */
const COMPACT_AFTER = 1_024;

/**
 * A counting semaphore with a FIFO queue of waiters that can give up (abort). Waiting, granting
 * and giving up are O(1): the queue is an array read from a moving head, a waiter that gives up
 * is only marked, and aborts are heard through one listener per signal (`onAbort`), not one
 * per waiter.
 */
class Semaphore {
  private inUse = 0;
  private queue: Waiter[] = [];
  private head = 0;
  private waiting = 0;

  constructor(private readonly capacity: number) {}

  get active(): number {
    return this.inUse;
  }

  get idle(): boolean {
    return this.inUse === 0 && this.waiting === 0;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(new GateAbortedError());
    if (this.inUse < this.capacity && this.waiting === 0) {
      this.inUse += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const stopListening =
        signal === undefined
          ? () => undefined
          : onAbort(signal, () => {
              waiter.cancelled = true;
              this.waiting -= 1;
              reject(new GateAbortedError());
            });
      const waiter: Waiter = {
        grant: () => {
          stopListening();
          resolve();
        },
        cancelled: false,
      };
      this.queue.push(waiter);
      this.waiting += 1;
    });
  }

  release(): void {
    const next = this.nextWaiter();
    if (next === undefined) this.inUse -= 1;
    else next.grant();
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

/**
 * Bounds concurrent deliveries per endpoint and per process. A slow or dead endpoint can hold
 * at most its own `perKey` slots; the deliveries queued behind it wait for those, not for a
 * process slot, so every other endpoint keeps going (no head-of-line blocking).
 */
export class ConcurrencyGate {
  private readonly perKey = new Map<string, Semaphore>();
  private readonly total: Semaphore;

  constructor(
    private readonly perKeyLimit: number,
    totalLimit: number,
  ) {
    this.total = new Semaphore(totalLimit);
  }

  /** Slots in use over all keys. */
  get inFlight(): number {
    return this.total.active;
  }

  /** Waits for a slot for `key` and then a process slot; call the returned function to give both back. */
  async acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    let keyed = this.perKey.get(key);
    if (keyed === undefined) {
      keyed = new Semaphore(this.perKeyLimit);
      this.perKey.set(key, keyed);
    }
    const slot = keyed;
    await slot.acquire(signal);
    try {
      await this.total.acquire(signal);
    } catch (error) {
      this.releaseKeyed(key, slot);
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total.release();
      this.releaseKeyed(key, slot);
    };
  }

  private releaseKeyed(key: string, slot: Semaphore): void {
    slot.release();
    if (slot.idle) this.perKey.delete(key);
  }
}
