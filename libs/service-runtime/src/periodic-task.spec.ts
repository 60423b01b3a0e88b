import { PeriodicTask } from './periodic-task';

describe('PeriodicTask', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs after the first delay, then every interval from the end of the previous run, and goes on after a failure', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const task = new PeriodicTask(
      () => {
        runs += 1;
        return runs === 2 ? Promise.reject(new Error('second run failed')) : Promise.resolve();
      },
      1_000,
      (error) => errors.push(error),
    );
    task.start(100);
    await jest.advanceTimersByTimeAsync(99);
    expect(runs).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(2);
    expect(errors).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(3);
    await task.stop();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(runs).toBe(3);
  });

  it('waits for a run in progress when stopped, and starts no other', async () => {
    let finish: (() => void) | undefined;
    let runs = 0;
    const task = new PeriodicTask(
      () => {
        runs += 1;
        return new Promise<void>((resolve) => (finish = resolve));
      },
      10,
      () => undefined,
    );
    task.start(0);
    await jest.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish?.();
    await stopping;
    await jest.advanceTimersByTimeAsync(100);
    expect(runs).toBe(1);
  });

  it('runs at once when nudged, and the interval starts again from the end of that run', async () => {
    let runs = 0;
    const task = new PeriodicTask(
      () => {
        runs += 1;
        return Promise.resolve();
      },
      1_000,
      () => undefined,
    );
    task.start();
    await jest.advanceTimersByTimeAsync(600);
    await task.nudge();
    expect(runs).toBe(1);
    // Not at the first tick (400 ms on), but a whole interval after the nudged run.
    await jest.advanceTimersByTimeAsync(999);
    expect(runs).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    await task.stop();
  });

  it('follows a run in progress with one more, shared by every nudge meanwhile, and resolves after it', async () => {
    const finishes: (() => void)[] = [];
    let runs = 0;
    const task = new PeriodicTask(
      () => {
        runs += 1;
        return new Promise<void>((resolve) => finishes.push(resolve));
      },
      60_000,
      () => undefined,
    );
    task.start();
    const first = task.nudge();
    expect(runs).toBe(1);
    let coveredEnded = false;
    const covering = [task.nudge(), task.nudge()];
    void Promise.all(covering).then(() => (coveredEnded = true));
    finishes[0]?.();
    await first;
    await jest.advanceTimersByTimeAsync(0);
    // The first run may have read its work before the nudges: one more run, not two.
    expect(runs).toBe(2);
    expect(coveredEnded).toBe(false);
    finishes[1]?.();
    await Promise.all(covering);
    expect(runs).toBe(2);
    await task.stop();
  });

  it('passes a failed nudged run to onError and never rejects', async () => {
    const errors: unknown[] = [];
    const task = new PeriodicTask(
      () => Promise.reject(new Error('nudged run failed')),
      1_000,
      (error) => errors.push(error),
    );
    await expect(task.nudge()).resolves.toBeUndefined();
    expect(errors).toEqual([new Error('nudged run failed')]);
    // Before start, a nudge runs once and schedules nothing.
    await jest.advanceTimersByTimeAsync(10_000);
    expect(errors).toHaveLength(1);
    await task.stop();
    await expect(task.nudge()).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });
});
