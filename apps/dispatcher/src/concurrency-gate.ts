/** Raised to a waiter whose signal aborted before it got a slot. */
export class GateAbortedError extends Error {
  constructor() {
    super('gave up waiting for a delivery slot');
  }
}

interface Waiter {
  readonly grant: () => void;
  readonly signal: AbortSignal | undefined;
}

/** A counting semaphore with a FIFO queue of waiters that can give up (abort). */
class Semaphore {
  private inUse = 0;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly capacity: number) {}

  get active(): number {
    return this.inUse;
  }

  get idle(): boolean {
    return this.inUse === 0 && this.waiters.length === 0;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (this.inUse < this.capacity && this.waiters.length === 0) {
      this.inUse += 1;
      return Promise.resolve();
    }
    if (signal?.aborted === true) return Promise.reject(new GateAbortedError());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        signal,
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new GateAbortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next === undefined) this.inUse -= 1;
    else next.grant();
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
