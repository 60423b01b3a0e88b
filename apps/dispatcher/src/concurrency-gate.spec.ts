import { ConcurrencyGate, EndpointBusyError, GateAbortedError } from './concurrency-gate';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyGate', () => {
  it('caps slots per key while other keys go ahead', async () => {
    const gate = new ConcurrencyGate(2, 10);
    const slow1 = await gate.acquire('slow');
    await gate.acquire('slow');
    let thirdSlow = false;
    void gate.acquire('slow').then(() => {
      thirdSlow = true;
    });
    const other = await gate.acquire('healthy');
    await tick();
    expect(thirdSlow).toBe(false);
    expect(gate.inFlight).toBe(3);
    other();
    slow1();
    await tick();
    expect(thirdSlow).toBe(true);
  });

  it('caps slots over the process and serves waiters first come, first served', async () => {
    const gate = new ConcurrencyGate(5, 2);
    const a = await gate.acquire('a');
    await gate.acquire('b');
    const order: string[] = [];
    void gate.acquire('c').then(() => order.push('c'));
    void gate.acquire('d').then(() => order.push('d'));
    await tick();
    expect(order).toEqual([]);
    a();
    await tick();
    expect(order).toEqual(['c']);
  });

  it('lets a waiter give up, and giving back twice is harmless', async () => {
    const gate = new ConcurrencyGate(1, 10);
    const held = await gate.acquire('a');
    const abort = new AbortController();
    const waiting = gate.acquire('a', abort.signal);
    abort.abort();
    await expect(waiting).rejects.toBeInstanceOf(GateAbortedError);
    held();
    held();
    expect(gate.inFlight).toBe(0);
    const again = await gate.acquire('a');
    expect(gate.inFlight).toBe(1);
    again();
  });

  it('keeps first come, first served over thousands of waiters, skipping those that gave up', async () => {
    const gate = new ConcurrencyGate(1, 10);
    const first = await gate.acquire('busy');
    const order: number[] = [];
    const quitters = new Map<number, AbortController>();
    const waits: Promise<void>[] = [];
    for (let n = 0; n < 5_000; n += 1) {
      const abort = new AbortController();
      if (n % 7 === 3) quitters.set(n, abort);
      waits.push(
        gate.acquire('busy', abort.signal).then(
          (release) => {
            order.push(n);
            release();
          },
          () => undefined,
        ),
      );
    }
    for (const abort of quitters.values()) abort.abort();
    first();
    await Promise.all(waits);
    const expected = [...Array(5_000).keys()].filter((n) => !quitters.has(n));
    expect(order).toEqual(expected);
    expect(gate.inFlight).toBe(0);
  });

  it('turns every waiter away when their shared signal aborts', async () => {
    const gate = new ConcurrencyGate(1, 1);
    const held = await gate.acquire('a');
    const stopping = new AbortController();
    const waiting = [gate.acquire('a', stopping.signal), gate.acquire('b', stopping.signal)];
    stopping.abort();
    for (const wait of waiting) await expect(wait).rejects.toBeInstanceOf(GateAbortedError);
    held();
    expect(gate.inFlight).toBe(0);
    await expect(gate.acquire('b', stopping.signal)).rejects.toBeInstanceOf(GateAbortedError);
  });
});

describe('ConcurrencyGate with queue bounds', () => {
  const bounds = { maxQueued: 2, maxWaitMs: 60_000 };

  it('turns a delivery away at once when its throttled endpoint already has the most queued, and no other endpoint', async () => {
    const gate = new ConcurrencyGate(2, 10);
    // One timeout: held to one request at a time.
    (await gate.acquire('slow', undefined, bounds))('congested');
    const held = await gate.acquire('slow', undefined, bounds);
    const queued = [gate.acquire('slow', undefined, bounds), gate.acquire('slow', undefined, bounds)];
    await expect(gate.acquire('slow', undefined, bounds)).rejects.toMatchObject({
      name: 'EndpointBusyError',
      endpoint: 'slow',
      reason: 'queue-full',
    });
    expect(gate.queuedFor('slow')).toBe(2);
    const healthy = await gate.acquire('healthy', undefined, bounds);
    healthy();
    held();
    (await queued[0]!)();
    (await queued[1]!)();
    expect(gate.inFlight).toBe(0);
  });

  it('queues a burst beyond the depth bound for an endpoint at full concurrency: only the wait bounds it', async () => {
    const gate = new ConcurrencyGate(2, 10);
    const held = await Promise.all([
      gate.acquire('fast', undefined, bounds),
      gate.acquire('fast', undefined, bounds),
    ]);
    const burst = [1, 2, 3, 4, 5].map(() => gate.acquire('fast', undefined, bounds));
    expect(gate.queuedFor('fast')).toBe(5);
    for (const release of held) release('fast');
    for (const waiting of burst) (await waiting)('fast');
    expect(gate.inFlight).toBe(0);
  });

  describe('with the clock faked', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('turns a delivery away once it has waited the longest allowed, and serves the next in line', async () => {
      const gate = new ConcurrencyGate(1, 10);
      const held = await gate.acquire('slow', undefined, { maxQueued: 10, maxWaitMs: 5_000 });
      const waiting = gate.acquire('slow', undefined, { maxQueued: 10, maxWaitMs: 5_000 });
      const rejected = expect(waiting).rejects.toBeInstanceOf(EndpointBusyError);
      jest.advanceTimersByTime(4_999);
      expect(gate.queuedFor('slow')).toBe(1);
      jest.advanceTimersByTime(1);
      await rejected;
      expect(gate.queuedFor('slow')).toBe(0);
      const unbounded = gate.acquire('slow');
      held();
      (await unbounded)();
      expect(gate.inFlight).toBe(0);
    });

    it('lets a delivery for an endpoint at full concurrency wait on while the process says it is saturated, and parks it once it no longer is', async () => {
      let saturated = true;
      let asked = 0;
      const waitLonger = () => {
        asked += 1;
        return saturated;
      };
      const gate = new ConcurrencyGate(1, 10);
      const held = await gate.acquire('fast', undefined, { maxQueued: 10, maxWaitMs: 5_000, waitLonger });
      const waiting = gate.acquire('fast', undefined, { maxQueued: 10, maxWaitMs: 5_000, waitLonger });
      const rejected = expect(waiting).rejects.toMatchObject({ reason: 'queue-wait' });
      jest.advanceTimersByTime(15_000);
      expect(asked).toBe(3);
      expect(gate.queuedFor('fast')).toBe(1);
      saturated = false;
      jest.advanceTimersByTime(5_000);
      await rejected;
      expect(asked).toBe(4);
      held();
      expect(gate.inFlight).toBe(0);
    });

    it("parks a delivery for a throttled endpoint once it waited the longest allowed, saturated or not: the wait is the endpoint's", async () => {
      const waitLonger = jest.fn(() => true);
      const bounded = { maxQueued: 10, maxWaitMs: 5_000, waitLonger };
      const gate = new ConcurrencyGate(2, 10);
      (await gate.acquire('slow', undefined, bounded))('congested');
      const held = await gate.acquire('slow', undefined, bounded);
      const waiting = gate.acquire('slow', undefined, bounded);
      const rejected = expect(waiting).rejects.toMatchObject({ reason: 'queue-wait' });
      jest.advanceTimersByTime(5_000);
      await rejected;
      expect(waitLonger).not.toHaveBeenCalled();
      held();
    });
  });

  it('lets an endpoint that times out hold fewer slots, and gives them back as it answers fast again', async () => {
    const gate = new ConcurrencyGate(4, 10);
    const releases = await Promise.all([1, 2, 3, 4].map(() => gate.acquire('slow')));
    for (const release of releases) release('congested');
    expect(gate.throttledEndpoints()).toEqual([{ endpoint: 'slow', limit: 2, inFlight: 0, queued: 0 }]);

    const granted: number[] = [];
    const waits = [1, 2, 3].map((n) =>
      gate.acquire('slow').then((release) => {
        granted.push(n);
        return release;
      }),
    );
    await tick();
    expect(granted).toEqual([1, 2]);
    const [first, second] = await Promise.all(waits.slice(0, 2));
    first!('fast');
    second!('fast');
    const third = await waits[2]!;
    third('fast');
    for (let n = 0; n < 20; n += 1) (await gate.acquire('slow'))('fast');
    expect(gate.throttledEndpoints()).toEqual([]);
  });

  it('keeps what it learnt of an idle throttled endpoint until told to forget it', async () => {
    const gate = new ConcurrencyGate(4, 10);
    (await gate.acquire('slow'))('congested');
    expect(gate.throttledEndpoints()).toHaveLength(1);
    gate.forget('slow');
    expect(gate.throttledEndpoints()).toHaveLength(0);
  });
});

describe('ConcurrencyGate pacing', () => {
  const traits = (rateLimitPerSecond?: number) => ({
    organisationId: 'org_a',
    publishedAt: Date.now(),
    rateLimitPerSecond,
  });

  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('starts no more of a rate-limited endpoint’s requests in a second than its limit', async () => {
    const gate = new ConcurrencyGate(16, 100);
    const starts: number[] = [];
    const deliveries = Array.from({ length: 12 }, () =>
      gate.acquire('limited', undefined, undefined, traits(4)).then((release) => {
        starts.push(Date.now());
        release('fast');
      }),
    );
    await jest.advanceTimersByTimeAsync(5_000);
    await Promise.all(deliveries);
    expect(starts).toHaveLength(12);
    for (const start of starts) {
      expect(starts.filter((other) => other >= start && other < start + 1_000).length).toBeLessThanOrEqual(4);
    }
    // Other endpoints are not paced by it.
    const other = await gate.acquire('unlimited', undefined, undefined, traits());
    other('fast');
  });

  it('turns a delivery away rather than wait for its pace beyond the queue bound', async () => {
    const gate = new ConcurrencyGate(16, 100);
    const bounds = { maxQueued: 100, maxWaitMs: 1_500 };
    (await gate.acquire('limited', undefined, bounds, traits(1)))('fast');
    const second = gate.acquire('limited', undefined, bounds, traits(1));
    const third = gate.acquire('limited', undefined, bounds, traits(1)).catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(1_100);
    (await second)('fast');
    await jest.advanceTimersByTimeAsync(100);
    // Its turn would come a second after the second one's answer: past the 1.5 s it may wait.
    expect(await third).toBeInstanceOf(EndpointBusyError);
  });

  it('holds an endpoint that answered 429 with Retry-After back, and lowers then regains its concurrency', async () => {
    const gate = new ConcurrencyGate(8, 100);
    // A storm: every request in flight answers 429, Retry-After: 2.
    const storm = await Promise.all(Array.from({ length: 8 }, () => gate.acquire('busy')));
    for (const release of storm) release('congested', 2_000);
    expect(gate.throttledEndpoints()).toEqual([{ endpoint: 'busy', limit: 4, inFlight: 0, queued: 0 }]);
    let granted = false;
    const next = gate.acquire('busy').then((release) => {
      granted = true;
      return release;
    });
    await jest.advanceTimersByTimeAsync(1_900);
    expect(granted).toBe(false);
    await jest.advanceTimersByTimeAsync(200);
    (await next)('fast');
    // Answering fast again, it gets its eight back.
    for (let n = 0; n < 60; n += 1) (await gate.acquire('busy'))('fast');
    expect(gate.throttledEndpoints()).toEqual([]);
  });
});

describe('ConcurrencyGate organisation backlog', () => {
  it('turns away an organisation’s delivery once its backlog in the process is full, not another’s', async () => {
    const gate = new ConcurrencyGate(16, 1);
    const bounds = { maxQueued: 100, maxWaitMs: 60_000, maxWaitingPerOrganisation: 2 };
    const of = (organisationId: string) => ({ organisationId, publishedAt: Date.now() });
    const held = await gate.acquire('a1', undefined, bounds, of('org_burst'));
    const waiting = [
      gate.acquire('a2', undefined, bounds, of('org_burst')),
      gate.acquire('a3', undefined, bounds, of('org_burst')),
    ];
    await tick();
    await expect(gate.acquire('a4', undefined, bounds, of('org_burst'))).rejects.toMatchObject({
      reason: 'organisation-backlog',
    });
    // Without bounds (the parked consumer's own deliveries), it waits its turn like the others.
    const parkedOne = gate.acquire('a5', undefined, undefined, of('org_burst'));
    const quiet = gate.acquire('b1', undefined, bounds, of('org_quiet'));
    await tick();
    expect(gate.organisationLoads().find((load) => load.organisationId === 'org_burst')?.waiting).toBe(3);
    // Waiting for its endpoint counts too: a burst to one endpoint waits there, not for the process.
    const oneEndpoint = new ConcurrencyGate(1, 100);
    const first = await oneEndpoint.acquire('e', undefined, bounds, of('org_burst'));
    const queued = [1, 2].map(() => oneEndpoint.acquire('e', undefined, bounds, of('org_burst')));
    await expect(oneEndpoint.acquire('f', undefined, bounds, of('org_burst'))).rejects.toMatchObject({
      reason: 'organisation-backlog',
    });
    first();
    for (const next of queued) (await next)();
    held();
    (await waiting[0]!)();
    // The quiet organisation's turn comes before the burst's second waiter.
    (await quiet)();
    (await waiting[1]!)();
    (await parkedOne)();
    expect(gate.inFlight).toBe(0);
  });
});

describe('ConcurrencyGate organisation backlog, by lag', () => {
  it('parks an organisation’s backlog only once its deliveries go out late', async () => {
    const gate = new ConcurrencyGate(1, 100);
    const bounds = {
      maxQueued: 100,
      maxWaitMs: 60_000,
      maxWaitingPerOrganisation: 1,
      organisationLagBeforeParkingMs: 2_000,
    };
    const publishedAgo = (ms: number) => ({ organisationId: 'org_a', publishedAt: Date.now() - ms });
    // Served on time so far: a second one waits, and a third too, bound or not.
    const first = await gate.acquire('e', undefined, bounds, publishedAgo(10));
    const second = gate.acquire('e', undefined, bounds, publishedAgo(10));
    const third = gate.acquire('e', undefined, bounds, publishedAgo(10));
    first();
    (await second)();
    (await third)();
    // Once one went out five seconds late, the backlog beyond the bound is parked.
    const late = await gate.acquire('e', undefined, bounds, publishedAgo(5_000));
    const waiting = gate.acquire('e', undefined, bounds, publishedAgo(10));
    await tick();
    await expect(gate.acquire('e', undefined, bounds, publishedAgo(10))).rejects.toMatchObject({
      reason: 'organisation-backlog',
    });
    late();
    (await waiting)();
  });
});
