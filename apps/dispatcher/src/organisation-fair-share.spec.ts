import { GateAbortedError, OrganisationFairShare, ProcessCapacity } from './organisation-fair-share';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('OrganisationFairShare', () => {
  it('grants at once under capacity', async () => {
    const share = new OrganisationFairShare(() => 2);
    await share.acquire('org_a', Date.now(), undefined);
    await share.acquire('org_b', Date.now(), undefined);
    expect(share.active).toBe(2);
    expect(share.waiting).toBe(0);
  });

  it('serves a quiet organisation within one turn while a bursting one waits behind itself', async () => {
    const share = new OrganisationFairShare(() => 4);
    const granted: string[] = [];
    const ask = (organisationId: string) =>
      share.acquire(organisationId, Date.now(), undefined).then(() => granted.push(organisationId));
    // The burst takes every slot and queues a thousand more before anyone else asks.
    for (let n = 0; n < 1_004; n += 1) void ask('org_burst');
    await tick();
    expect(granted).toHaveLength(4);
    // Nine quiet organisations arrive behind the burst's thousand.
    const quiet = Array.from({ length: 9 }, (_, n) => `org_quiet${n}`);
    for (const organisationId of quiet) void ask(organisationId);
    granted.length = 0;
    // Each freed slot goes to the next organisation in turn: the nine are all served within
    // eighteen releases, not after the burst's thousand.
    for (let n = 0; n < 18; n += 1) {
      share.release(granted.length === 0 ? 'org_burst' : (granted.at(-1) as string));
      await tick();
    }
    expect(granted.filter((organisationId) => organisationId.startsWith('org_quiet')).sort()).toEqual(
      quiet.sort(),
    );
    expect(granted.filter((organisationId) => organisationId === 'org_burst').length).toBeLessThanOrEqual(9);
  });

  it('gives backlogged organisations equal turns under a skewed load, whatever their backlog', async () => {
    const share = new OrganisationFairShare(() => 1);
    const backlog = { org_big: 500, org_mid: 50, org_small: 5 };
    const granted: string[] = [];
    let holder = 'org_big';
    await share.acquire(holder, Date.now(), undefined);
    for (const [organisationId, count] of Object.entries(backlog)) {
      for (let n = 0; n < count; n += 1) {
        void share.acquire(organisationId, Date.now(), undefined).then(() => {
          granted.push(organisationId);
          holder = organisationId;
        });
      }
    }
    for (let n = 0; n < 30; n += 1) {
      share.release(holder);
      await tick();
    }
    const count = (organisationId: string) => granted.filter((o) => o === organisationId).length;
    // Thirty turns: five for the smallest (all it had), the rest split between the other two.
    expect(count('org_small')).toBe(5);
    expect(count('org_big') + count('org_mid')).toBe(25);
    expect(Math.abs(count('org_big') - count('org_mid'))).toBeLessThanOrEqual(1);
    expect(share.waiting).toBe(555 - 30);
  });

  it('skips waiters that gave up and reports each organisation’s load and lag', async () => {
    const share = new OrganisationFairShare(() => 1);
    const publishedAt = Date.now() - 3_000;
    await share.acquire('org_a', publishedAt, undefined);
    const giveUp = new AbortController();
    const abandoned = share.acquire('org_b', publishedAt, giveUp.signal);
    const kept = share.acquire('org_c', publishedAt, undefined);
    giveUp.abort();
    await expect(abandoned).rejects.toBeInstanceOf(GateAbortedError);
    const loads = share.loads();
    expect(loads.find((load) => load.organisationId === 'org_a')).toMatchObject({ inFlight: 1, waiting: 0 });
    expect(loads.find((load) => load.organisationId === 'org_c')).toMatchObject({ inFlight: 0, waiting: 1 });
    expect(loads.find((load) => load.organisationId === 'org_c')!.lagSeconds).toBeGreaterThanOrEqual(3);
    share.release('org_a');
    await kept;
    expect(share.active).toBe(1);
    expect(share.waiting).toBe(0);
  });

  it('forgets an organisation a minute after its last slot', async () => {
    const share = new OrganisationFairShare(() => 1);
    await share.acquire('org_a', Date.now(), undefined);
    share.release('org_a');
    expect(share.loads().map((load) => load.organisationId)).toEqual(['org_a']);
    expect(share.loads(Date.now() + 61_000)).toEqual([]);
    expect(share.loads()).toEqual([]);
  });
});

describe('ProcessCapacity', () => {
  it('shrinks towards what is in flight while saturated, never under its floor, and grows back', () => {
    const capacity = new ProcessCapacity(1_000, 32);
    capacity.adjust(true, 600);
    expect(capacity.current).toBe(480);
    for (let n = 0; n < 30; n += 1) capacity.adjust(true, 600);
    expect(capacity.current).toBe(32);
    let samples = 0;
    while (capacity.current < 1_000) {
      capacity.adjust(false, 10);
      samples += 1;
    }
    expect(samples).toBeLessThanOrEqual(16);
  });

  it('keeps a floor above its maximum at the maximum', () => {
    const capacity = new ProcessCapacity(4, 32);
    capacity.adjust(true, 4);
    expect(capacity.current).toBe(4);
  });
});

describe('OrganisationFairShare lag', () => {
  afterEach(() => jest.useRealTimers());

  it('reports the largest lag granted over the last windows, not the latest, and lets it fall once served', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const share = new OrganisationFairShare(() => 10);
    const grant = async (lagMs: number) => {
      await share.acquire('org_a', Date.now() - lagMs, undefined);
      share.release('org_a');
    };
    await grant(30_000);
    await grant(10);
    expect(share.loads()[0]!.lagSeconds).toBe(30);
    jest.advanceTimersByTime(6_000);
    await grant(10);
    expect(share.loads()[0]!.lagSeconds).toBe(30);
    jest.advanceTimersByTime(5_000);
    await grant(10);
    expect(share.loads()[0]!.lagSeconds).toBeCloseTo(0.01);
  });
});
