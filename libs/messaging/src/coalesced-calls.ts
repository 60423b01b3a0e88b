/**
 * Concurrent calls of a batch handler, made into fewer, larger calls: a group commit. A consumer
 * hands each partition's batch to its handler on its own, so at ordinary rates a fetch of twelve
 * partitions becomes twelve handler calls of a few records each, and a handler whose cost is
 * mostly per call (a database transaction: BEGIN, COPY, COMMIT, each a round trip) pays it twelve
 * times. Here a call starts at once while fewer than `maxConcurrentRuns` are in flight, so a lone
 * call waits for nothing; calls that arrive while the runs are busy wait together and go in one
 * run, up to `maxItemsPerRun` items (a call is never split). Each call resolves with its own share
 * of the run's output once the run is done, or rejects with the run's error: a caller learns its
 * items are done only when they are.
 */
export interface CoalescedCallsOptions<Item, Output> {
  /** Handles the items of every call in the run, in call order. */
  readonly run: (items: readonly Item[]) => Promise<Output>;
  /** One call's share of a run's output: its items are `items.slice(start, start + count)`. */
  readonly share: (output: Output, start: number, count: number) => Output;
  readonly maxConcurrentRuns: number;
  readonly maxItemsPerRun: number;
}

interface WaitingCall<Item, Output> {
  readonly items: readonly Item[];
  readonly resolve: (output: Output) => void;
  readonly reject: (error: unknown) => void;
}

export class CoalescedCalls<Item, Output> {
  private readonly waiting: WaitingCall<Item, Output>[] = [];
  private runsInFlight = 0;

  constructor(private readonly options: CoalescedCallsOptions<Item, Output>) {
    if (options.maxConcurrentRuns < 1 || options.maxItemsPerRun < 1) {
      throw new RangeError('coalesced calls need at least one run in flight and one item a run');
    }
  }

  /** Handles `items` alone or together with other calls'; resolves with this call's share. */
  call(items: readonly Item[]): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
      this.startRuns();
    });
  }

  private startRuns(): void {
    while (this.runsInFlight < this.options.maxConcurrentRuns && this.waiting.length > 0) {
      this.runsInFlight += 1;
      void this.runTogether(this.takeRun()).finally(() => {
        this.runsInFlight -= 1;
        this.startRuns();
      });
    }
  }

  /** The waiting calls, oldest first, whose items fit in one run (always at least one call). */
  private takeRun(): WaitingCall<Item, Output>[] {
    const calls = [this.waiting.shift() as WaitingCall<Item, Output>];
    let items = calls[0]?.items.length ?? 0;
    while (this.waiting.length > 0) {
      const next = this.waiting[0] as WaitingCall<Item, Output>;
      if (items + next.items.length > this.options.maxItemsPerRun) break;
      calls.push(next);
      items += next.items.length;
      this.waiting.shift();
    }
    return calls;
  }

  private async runTogether(calls: readonly WaitingCall<Item, Output>[]): Promise<void> {
    const items = calls.length === 1 ? (calls[0]?.items ?? []) : calls.flatMap((call) => call.items);
    let output: Output;
    try {
      output = await this.options.run(items);
    } catch (error) {
      for (const call of calls) call.reject(error);
      return;
    }
    let start = 0;
    for (const call of calls) {
      try {
        call.resolve(calls.length === 1 ? output : this.options.share(output, start, call.items.length));
      } catch (error) {
        call.reject(error);
      }
      start += call.items.length;
    }
  }
}
