import { EndpointBreakers, FailedAttemptError, runOutsideBreaker, tripsBreaker } from './endpoint-breakers';

/** How long a tripped breaker stays open before it lets one trial through. */
const HALF_OPEN_AFTER_MS = 60_000;
const THRESHOLD = 3;
const ENDPOINT = 'sub_breaker';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('EndpointBreakers', () => {
  let breakers: EndpointBreakers;

  beforeEach(() => {
    // opossum schedules the half-open transition with setTimeout: fake time moves it on.
    jest.useFakeTimers();
    breakers = new EndpointBreakers();
  });

  afterEach(() => {
    breakers.shutdown();
    jest.useRealTimers();
  });

  /** A failed attempt through the breaker; true when it tripped the breaker. */
  async function failedAttempt(): Promise<boolean> {
    const run = await breakers.run(ENDPOINT, THRESHOLD, () =>
      Promise.reject(new FailedAttemptError({ status: 500 })),
    );
    if (run.kind !== 'failed') throw new Error(`expected a failed attempt, got ${run.kind}`);
    expect(run.report).toEqual({ status: 500 });
    return run.tripped;
  }

  /** What `run` made of an attempt: the value it resolved with, or `refused`. */
  async function outcomeOf(endpointId: string, attempt: () => Promise<string>): Promise<string> {
    const run = await breakers.run(endpointId, THRESHOLD, attempt);
    return run.kind === 'succeeded' ? run.value : run.kind;
  }

  async function trip(): Promise<void> {
    expect(await failedAttempt()).toBe(false);
    expect(await failedAttempt()).toBe(false);
    expect(await failedAttempt()).toBe(true);
    expect(breakers.isOpen(ENDPOINT)).toBe(true);
  }

  /** Counts `run` calls that reached the attempt. */
  function countingAttempt(result: () => Promise<string>): {
    attempt: () => Promise<string>;
    calls: () => number;
  } {
    let calls = 0;
    return {
      attempt: () => {
        calls += 1;
        return result();
      },
      calls: () => calls,
    };
  }

  it('trips on the threshold-th consecutive failure, and an open breaker attempts nothing', async () => {
    await trip();
    expect(breakers.countsByState()).toEqual({ closed: 0, open: 1, 'half-open': 0 });

    const attempt = countingAttempt(() => Promise.resolve('sent'));
    await expect(outcomeOf(ENDPOINT, attempt.attempt)).resolves.toBe('refused');
    await expect(outcomeOf(ENDPOINT, attempt.attempt)).resolves.toBe('refused');
    expect(attempt.calls()).toBe(0);
  });

  it('stays open until the half-open delay has passed, then reports half-open', async () => {
    await trip();

    jest.advanceTimersByTime(HALF_OPEN_AFTER_MS - 1);
    expect(breakers.countsByState()).toEqual({ closed: 0, open: 1, 'half-open': 0 });
    const early = countingAttempt(() => Promise.resolve('sent'));
    await expect(outcomeOf(ENDPOINT, early.attempt)).resolves.toBe('refused');
    expect(early.calls()).toBe(0);

    jest.advanceTimersByTime(1);
    expect(breakers.countsByState()).toEqual({ closed: 0, open: 0, 'half-open': 1 });
  });

  it('lets exactly one trial through when half-open, and a successful trial closes the breaker', async () => {
    await trip();
    jest.advanceTimersByTime(HALF_OPEN_AFTER_MS);

    const trialOutcome = deferred<string>();
    const trial = countingAttempt(() => trialOutcome.promise);
    const trialRun = outcomeOf(ENDPOINT, trial.attempt);
    expect(trial.calls()).toBe(1);

    // While the trial is in flight, every other attempt is refused without being made.
    const others = countingAttempt(() => Promise.resolve('sent'));
    await expect(outcomeOf(ENDPOINT, others.attempt)).resolves.toBe('refused');
    await expect(outcomeOf(ENDPOINT, others.attempt)).resolves.toBe('refused');
    expect(others.calls()).toBe(0);
    expect(breakers.countsByState()).toEqual({ closed: 0, open: 0, 'half-open': 1 });

    trialOutcome.resolve('sent');
    await expect(trialRun).resolves.toBe('sent');

    expect(breakers.isOpen(ENDPOINT)).toBe(false);
    expect(breakers.countsByState()).toEqual({ closed: 1, open: 0, 'half-open': 0 });
    expect(breakers.consecutiveFailures(ENDPOINT)).toBe(0);
    await expect(outcomeOf(ENDPOINT, others.attempt)).resolves.toBe('sent');
    await expect(outcomeOf(ENDPOINT, others.attempt)).resolves.toBe('sent');
    expect(others.calls()).toBe(2);
  });

  it('opens again on a failed trial, without tripping (disabling the endpoint) a second time', async () => {
    await trip();
    jest.advanceTimersByTime(HALF_OPEN_AFTER_MS);
    expect(breakers.countsByState()).toEqual({ closed: 0, open: 0, 'half-open': 1 });

    // The trial goes out and fails; the breaker is already open again, so this is not a new trip.
    expect(await failedAttempt()).toBe(false);
    expect(breakers.isOpen(ENDPOINT)).toBe(true);
    expect(breakers.countsByState()).toEqual({ closed: 0, open: 1, 'half-open': 0 });

    const refused = countingAttempt(() => Promise.resolve('sent'));
    await expect(outcomeOf(ENDPOINT, refused.attempt)).resolves.toBe('refused');
    expect(refused.calls()).toBe(0);

    // ...and after another delay it lets the next trial through, which can close it.
    jest.advanceTimersByTime(HALF_OPEN_AFTER_MS);
    expect(breakers.countsByState()).toEqual({ closed: 0, open: 0, 'half-open': 1 });
    await expect(outcomeOf(ENDPOINT, refused.attempt)).resolves.toBe('sent');
    expect(refused.calls()).toBe(1);
    expect(breakers.countsByState()).toEqual({ closed: 1, open: 0, 'half-open': 0 });
  });

  it('keeps other endpoints closed while one is open', async () => {
    await trip();
    await expect(outcomeOf('sub_healthy', () => Promise.resolve('sent'))).resolves.toBe('sent');
    expect(breakers.countsByState()).toEqual({ closed: 1, open: 1, 'half-open': 0 });
  });

  it('counts each failure once, and a success ends the run of failures', async () => {
    expect(await failedAttempt()).toBe(false);
    expect(await failedAttempt()).toBe(false);
    expect(breakers.consecutiveFailures(ENDPOINT)).toBe(2);
    await expect(outcomeOf(ENDPOINT, () => Promise.resolve('sent'))).resolves.toBe('sent');
    expect(breakers.consecutiveFailures(ENDPOINT)).toBe(0);
    expect(await failedAttempt()).toBe(false);
    expect(await failedAttempt()).toBe(false);
    expect(await failedAttempt()).toBe(true);
  });

  it('trips on failures that end while other attempts are still in flight', async () => {
    const inFlight = deferred<string>();
    const pending = outcomeOf(ENDPOINT, () => inFlight.promise);
    expect(await failedAttempt()).toBe(false);
    expect(await failedAttempt()).toBe(false);
    expect(await failedAttempt()).toBe(true);
    inFlight.resolve('sent');
    await expect(pending).resolves.toBe('sent');
  });

  it('does not count an error raised before anything was sent, and rethrows it', async () => {
    expect(await failedAttempt()).toBe(false);
    const unrelated = new Error('the dispatch frontier could not be recorded');
    await expect(breakers.run(ENDPOINT, THRESHOLD, () => Promise.reject(unrelated))).rejects.toBe(unrelated);
    expect(breakers.consecutiveFailures(ENDPOINT)).toBe(1);
    expect(await failedAttempt()).toBe(false);
    expect(await failedAttempt()).toBe(true);
  });

  it('closes and restarts the count when the endpoint is enabled again', async () => {
    await trip();
    breakers.reset(ENDPOINT);
    expect(breakers.isOpen(ENDPOINT)).toBe(false);
    expect(breakers.consecutiveFailures(ENDPOINT)).toBe(0);
    expect(await failedAttempt()).toBe(false);
    expect(await failedAttempt()).toBe(false);
    expect(await failedAttempt()).toBe(true);
  });

  it('neither counts nor ends the run on an uncounted failure (a receiver switching secrets)', async () => {
    expect(await failedAttempt()).toBe(false);
    expect(await failedAttempt()).toBe(false);
    for (let i = 0; i < THRESHOLD + 1; i += 1) {
      const run = await breakers.run(ENDPOINT, THRESHOLD, () =>
        Promise.reject(new FailedAttemptError({ status: 401 }, false)),
      );
      expect(run).toEqual({ kind: 'failed', report: { status: 401 }, tripped: false });
    }
    expect(breakers.consecutiveFailures(ENDPOINT)).toBe(2);
    expect(breakers.isOpen(ENDPOINT)).toBe(false);
    expect(await failedAttempt()).toBe(true);
  });

  it('follows the threshold of the attempt that fails (a policy change applies at once)', async () => {
    expect(await failedAttempt()).toBe(false);
    const run = await breakers.run(ENDPOINT, 2, () =>
      Promise.reject(new FailedAttemptError({ status: 503 })),
    );
    expect(run).toEqual({ kind: 'failed', report: { status: 503 }, tripped: true });
  });
});

describe('tripsBreaker', () => {
  it.each([
    [2, 3, false, false],
    [3, 3, false, true],
    [4, 3, false, true],
    [3, 3, true, false],
    [1, 1, false, true],
  ])('%i failures, threshold %i, open already %s: trips %s', (failures, threshold, open, trips) => {
    expect(tripsBreaker(failures, threshold, open)).toBe(trips);
  });
});

describe('runOutsideBreaker', () => {
  it('reports a success and a failure in the shape of a breaker run, and never trips', async () => {
    await expect(runOutsideBreaker(() => Promise.resolve('sent'))).resolves.toEqual({
      kind: 'succeeded',
      value: 'sent',
    });
    await expect(
      runOutsideBreaker(() => Promise.reject(new FailedAttemptError({ status: 500 }))),
    ).resolves.toEqual({ kind: 'failed', report: { status: 500 }, tripped: false });
  });

  it('rethrows any other error', async () => {
    const broken = new Error('could not record the send');
    await expect(runOutsideBreaker(() => Promise.reject(broken))).rejects.toBe(broken);
  });
});
