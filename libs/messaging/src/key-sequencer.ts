import { onAbort } from './abort-listeners';

/** Raised to work that gave up waiting for its turn (its signal aborted). */
export class SequenceAbandonedError extends Error {
  constructor() {
    super('gave up waiting for the work before it of the same key');
    this.name = 'SequenceAbandonedError';
  }
}

interface Turn {
  /** What the caller named the work, so later work of its key can say what it waits for. */
  readonly label: string | undefined;
  /** Settles once the work before this one of its key finished for good. */
  readonly after: Promise<void>;
  /** Resolves this turn: the next one of its key may run. */
  readonly finish: () => void;
  readonly done: Promise<void>;
}

/**
 * Runs work one at a time per key, in the order the work was first offered (the order a
 * partition's records are read in), across any number of keys at once. A piece of work whose
 * run fails keeps its place: the next one of its key waits until it is offered again (the same
 * `token`, e.g. the consumed record being retried in place) and succeeds. So a key never skips
 * ahead of a failure, and other keys are never held up by it.
 *
 * One sequencer serves one partition's assignment: when the partition is taken away, the work
 * still waiting gives up through its signal and the sequencer is dropped with it.
 */
export class KeySequencer {
  /** Per key, the latest turn offered: the next one waits for it. */
  private readonly tails = new Map<string, Turn>();
  private readonly turns = new WeakMap<object, Turn>();

  /** Keys with work running or waiting. */
  get activeKeys(): number {
    return this.tails.size;
  }

  /**
   * Runs `work` once every earlier work of `key` has finished; resolves or rejects as it does.
   * Offered again with the same `token` after a failure, it runs again in the same place.
   * `label` names the work for `latest`.
   */
  async run<T>(
    key: string,
    token: object,
    work: () => Promise<T>,
    signal: AbortSignal,
    label?: string,
  ): Promise<T> {
    let turn = this.turns.get(token);
    if (turn === undefined) {
      turn = this.nextTurn(key, label);
      this.turns.set(token, turn);
    }
    await untilSettledOrAborted(turn.after, signal);
    const result = await work();
    turn.finish();
    if (this.tails.get(key) === turn) this.tails.delete(key);
    return result;
  }

  /** Whether work of `key` is running or waiting. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  /** The label of the latest work of `key` still running or waiting: what new work would wait for. */
  latest(key: string): string | undefined {
    return this.tails.get(key)?.label;
  }

  /** Whether `token` was offered here already (it keeps its place when offered again). */
  offered(token: object): boolean {
    return this.turns.has(token);
  }

  private nextTurn(key: string, label: string | undefined): Turn {
    const previous = this.tails.get(key);
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const turn: Turn = { label, after: previous?.done ?? Promise.resolve(), finish, done };
    this.tails.set(key, turn);
    return turn;
  }
}

function untilSettledOrAborted(waitFor: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new SequenceAbandonedError());
  return new Promise<void>((resolve, reject) => {
    const stopListening = onAbort(signal, () => reject(new SequenceAbandonedError()));
    void waitFor.then(() => {
      stopListening();
      resolve();
    });
  });
}
