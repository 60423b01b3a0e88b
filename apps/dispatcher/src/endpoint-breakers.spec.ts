import { EndpointBreakers, FailedAttemptError } from './endpoint-breakers';

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

  /** What the dispatcher does with each outcome: a failed attempt is rethrown by `run`, then counted. */
  async function failedAttempt(): Promise<boolean> {
    await expect(
      breakers.run(ENDPOINT, () => Promise.reject(new FailedAttemptError({ status: 500 }))),
    ).rejects.toBeInstanceOf(FailedAttemptError);
    return breakers.recordFailure(ENDPOINT, THRESHOLD);
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
    await expect(breakers.run(ENDPOINT, attempt.attempt)).resolves.toBeUndefined();
    await expect(breakers.run(ENDPOINT, attempt.attempt)).resolves.toBeUndefined();
    expect(attempt.calls()).toBe(0);
  });

  it('stays open until the half-open delay has passed, then reports half-open', async () => {
    await trip();

    jest.advanceTimersByTime(HALF_OPEN_AFTER_MS - 1);
    expect(breakers.countsByState()).toEqual({ closed: 0, open: 1, 'half-open': 0 });
    const early = countingAttempt(() => Promise.resolve('sent'));
    await expect(breakers.run(ENDPOINT, early.attempt)).resolves.toBeUndefined();
    expect(early.calls()).toBe(0);

    jest.advanceTimersByTime(1);
    expect(breakers.countsByState()).toEqual({ closed: 0, open: 0, 'half-open': 1 });
  });

  it('lets exactly one trial through when half-open, and a successful trial closes the breaker', async () => {
    await trip();
    jest.advanceTimersByTime(HALF_OPEN_AFTER_MS);

    const trialOutcome = deferred<string>();
    const trial = countingAttempt(() => trialOutcome.promise);
    const trialRun = breakers.run(ENDPOINT, trial.attempt);
    expect(trial.calls()).toBe(1);

    // While the trial is in flight, every other attempt is refused without being made.
    const others = countingAttempt(() => Promise.resolve('sent'));
    await expect(breakers.run(ENDPOINT, others.attempt)).resolves.toBeUndefined();
    await expect(breakers.run(ENDPOINT, others.attempt)).resolves.toBeUndefined();
    expect(others.calls()).toBe(0);
    expect(breakers.countsByState()).toEqual({ closed: 0, open: 0, 'half-open': 1 });

    trialOutcome.resolve('sent');
    await expect(trialRun).resolves.toBe('sent');
    breakers.recordSuccess(ENDPOINT);

    expect(breakers.isOpen(ENDPOINT)).toBe(false);
    expect(breakers.countsByState()).toEqual({ closed: 1, open: 0, 'half-open': 0 });
    expect(breakers.consecutiveFailures(ENDPOINT)).toBe(0);
    await expect(breakers.run(ENDPOINT, others.attempt)).resolves.toBe('sent');
    await expect(breakers.run(ENDPOINT, others.attempt)).resolves.toBe('sent');
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
    await expect(breakers.run(ENDPOINT, refused.attempt)).resolves.toBeUndefined();
    expect(refused.calls()).toBe(0);

    // ...and after another delay it lets the next trial through, which can close it.
    jest.advanceTimersByTime(HALF_OPEN_AFTER_MS);
    expect(breakers.countsByState()).toEqual({ closed: 0, open: 0, 'half-open': 1 });
    await expect(breakers.run(ENDPOINT, refused.attempt)).resolves.toBe('sent');
    expect(refused.calls()).toBe(1);
    expect(breakers.countsByState()).toEqual({ closed: 1, open: 0, 'half-open': 0 });
  });

  it('keeps other endpoints closed while one is open', async () => {
    await trip();
    await expect(breakers.run('sub_healthy', () => Promise.resolve('sent'))).resolves.toBe('sent');
    expect(breakers.countsByState()).toEqual({ closed: 1, open: 1, 'half-open': 0 });
  });
});
