import { CoalescedCalls } from './coalesced-calls';

interface Deferred {
  readonly items: readonly string[];
  resolve(): void;
  reject(error: Error): void;
}

/** A run that waits until the test says it is done, and answers the items it had, upper-cased. */
function controlledRuns(options: { maxConcurrentRuns: number; maxItemsPerRun: number }) {
  const runs: Deferred[] = [];
  const calls = new CoalescedCalls<string, string[]>({
    run: (items) =>
      new Promise<string[]>((resolve, reject) => {
        runs.push({ items, resolve: () => resolve(items.map((item) => item.toUpperCase())), reject });
      }),
    share: (output, start, count) => output.slice(start, start + count),
    ...options,
  });
  return { calls, runs };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('coalesced calls (a group commit)', () => {
  it('runs a lone call at once, on its own', async () => {
    const { calls, runs } = controlledRuns({ maxConcurrentRuns: 1, maxItemsPerRun: 100 });
    const done = calls.call(['a', 'b']);
    expect(runs.map((run) => run.items)).toEqual([['a', 'b']]);
    runs[0]?.resolve();
    await expect(done).resolves.toEqual(['A', 'B']);
  });

  it('runs the calls that waited meanwhile together, each answered with its own share', async () => {
    const { calls, runs } = controlledRuns({ maxConcurrentRuns: 1, maxItemsPerRun: 100 });
    const first = calls.call(['a']);
    const second = calls.call(['b', 'c']);
    const third = calls.call(['d']);
    expect(runs).toHaveLength(1);
    runs[0]?.resolve();
    await first;
    await settle();
    expect(runs.map((run) => run.items)).toEqual([['a'], ['b', 'c', 'd']]);
    runs[1]?.resolve();
    await expect(second).resolves.toEqual(['B', 'C']);
    await expect(third).resolves.toEqual(['D']);
  });

  it('keeps up to maxConcurrentRuns in flight before calls wait', () => {
    const { calls, runs } = controlledRuns({ maxConcurrentRuns: 2, maxItemsPerRun: 100 });
    void calls.call(['a']);
    void calls.call(['b']);
    void calls.call(['c']);
    expect(runs.map((run) => run.items)).toEqual([['a'], ['b']]);
  });

  it('never puts more than maxItemsPerRun in a run, nor splits a call', async () => {
    const { calls, runs } = controlledRuns({ maxConcurrentRuns: 1, maxItemsPerRun: 3 });
    void calls.call(['a']);
    const waiting = [calls.call(['b', 'c']), calls.call(['d', 'e']), calls.call(['f', 'g', 'h', 'i'])];
    runs[0]?.resolve();
    await settle();
    expect(runs[1]?.items).toEqual(['b', 'c']);
    runs[1]?.resolve();
    await settle();
    expect(runs[2]?.items).toEqual(['d', 'e']);
    runs[2]?.resolve();
    await settle();
    // Larger than a run on its own: it still goes, alone.
    expect(runs[3]?.items).toEqual(['f', 'g', 'h', 'i']);
    runs[3]?.resolve();
    await expect(Promise.all(waiting)).resolves.toEqual([
      ['B', 'C'],
      ['D', 'E'],
      ['F', 'G', 'H', 'I'],
    ]);
  });

  it('fails every call of a failed run, and runs the next ones after it', async () => {
    const { calls, runs } = controlledRuns({ maxConcurrentRuns: 1, maxItemsPerRun: 100 });
    const first = calls.call(['a']);
    const second = calls.call(['b']);
    const third = calls.call(['c']);
    runs[0]?.resolve();
    await first;
    await settle();
    runs[1]?.reject(new Error('database down'));
    await expect(second).rejects.toThrow('database down');
    await expect(third).rejects.toThrow('database down');
    const later = calls.call(['d']);
    expect(runs[2]?.items).toEqual(['d']);
    runs[2]?.resolve();
    await expect(later).resolves.toEqual(['D']);
  });

  it('refuses settings that could never run anything', () => {
    const run = () => Promise.resolve([]);
    const share = (output: never[]) => output;
    expect(() => new CoalescedCalls({ run, share, maxConcurrentRuns: 0, maxItemsPerRun: 1 })).toThrow(
      RangeError,
    );
    expect(() => new CoalescedCalls({ run, share, maxConcurrentRuns: 1, maxItemsPerRun: 0 })).toThrow(
      RangeError,
    );
  });
});
