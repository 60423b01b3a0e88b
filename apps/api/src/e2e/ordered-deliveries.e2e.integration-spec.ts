import {
  pollUntil,
  type ReceivedWebhook,
  type ServiceProcess,
  startService,
  startWebhookReceiver,
  type WebhookReceiver,
} from '@skyhook/testing';
import {
  type ApiTestApp,
  createOrganisation,
  startApiTestApp,
  startDeliveryPipeline,
} from '../test/api-test-app';

interface Booking {
  readonly key: string;
  readonly seq: number;
}

/** What a receiver learns of a delivery: its key and its place in the key's sequence. */
function bookingOf(hook: ReceivedWebhook): Booking {
  const body = JSON.parse(hook.rawBody.toString()) as { data: { flightId: string; seq: number } };
  return { key: body.data.flightId, seq: body.data.seq };
}

/**
 * The check an ordering receiver makes: per key, no request for a later delivery arrives before
 * every earlier one was answered 2xx (or given up, listed in `givenUp`). Repeats of what was
 * delivered already are allowed (at-least-once); a request for the one after the next is not.
 */
function orderViolations(
  hooks: readonly ReceivedWebhook[],
  givenUp: ReadonlySet<string> = new Set(),
): string[] {
  const deliveredUpTo = new Map<string, number>();
  const violations: string[] = [];
  for (const hook of hooks) {
    const { key, seq } = bookingOf(hook);
    let done = deliveredUpTo.get(key) ?? 0;
    while (givenUp.has(`${key}#${done + 1}`)) done += 1;
    if (seq > done + 1) violations.push(`${key}#${seq} arrived while ${key}#${done + 1} was not delivered`);
    if (hook.answer !== undefined && hook.answer.status < 300) done = Math.max(done, seq);
    deliveredUpTo.set(key, done);
  }
  return violations;
}

/**
 * Per-key FIFO through the whole pipeline (ADR 0031): the api in process, fan-out, the
 * dispatcher and history as their own processes, real HTTPS receivers. Deliveries of one key
 * reach the endpoint one after another, in publish order, through retries; a failing key holds
 * up only itself; a held key goes on when its partner skips or resends the failed delivery.
 */
describe('end to end: ordered subscriptions deliver each key in publish order', () => {
  let api: ApiTestApp;
  let receiver: WebhookReceiver;
  let services: ServiceProcess[] = [];
  let apiKey: string;
  let dispatcherEnvironment: Record<string, string>;
  /** Per path: keys answered 503 until released. */
  const failingKeys = new Map<string, Set<string>>();
  /** Requests seen per path and delivery id, for failing a first attempt. */
  const seen = new Map<string, number>();

  beforeAll(async () => {
    api = await startApiTestApp({ systemClock: true });
    receiver = await startWebhookReceiver({
      behaviour: (request) => {
        const { key, seq } = bookingOf(request);
        const path = request.path;
        const id = `${path} ${key}#${seq}`;
        const times = (seen.get(id) ?? 0) + 1;
        seen.set(id, times);
        if (failingKeys.get(path)?.has(key) === true) return { status: 503, body: `key ${key} is down` };
        // Under retries: every third delivery fails its first attempt, every fifth its second too.
        if (
          (path === '/retries' || path === '/crash') &&
          ((seq % 3 === 0 && times === 1) || (seq % 5 === 0 && times <= 2))
        ) {
          return { status: 500, body: 'try again' };
        }
        return { status: 200 };
      },
    });
    ({ services, dispatcherEnvironment } = await startDeliveryPipeline(api));
    ({ apiKey } = await createOrganisation(api));
  });

  afterAll(async () => {
    await receiver?.close();
    await Promise.all(services.map((service) => service.stop()));
    await api?.close();
  });

  async function subscribe(path: string, body: Record<string, unknown>): Promise<string> {
    const created = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: apiKey,
      body: { url: receiver.url(path), eventTypes: [`booking.created`], ...body },
    });
    expect(created.status).toBe(201);
    return created.body['id'] as string;
  }

  /** Publishes one event per booking, one after another: publish order is this order. */
  async function publish(tag: string, bookings: readonly Booking[]): Promise<void> {
    for (const { key, seq } of bookings) {
      const published = await api.request({
        method: 'POST',
        url: '/v1/events',
        key: apiKey,
        body: {
          id: `evt_${tag}_${key}_${seq}`,
          type: 'booking.created',
          data: { flightId: key, seq },
        },
      });
      expect(published.status).toBe(202);
    }
  }

  function delivered(path: string): Booking[] {
    return receiver
      .receivedOn(path)
      .filter((hook) => hook.answer !== undefined && hook.answer.status < 300)
      .map(bookingOf);
  }

  function interleaved(keys: readonly string[], perKey: number): Booking[] {
    const bookings: Booking[] = [];
    for (let seq = 1; seq <= perKey; seq += 1) for (const key of keys) bookings.push({ key, seq });
    return bookings;
  }

  it('keeps each key in publish order through retries, and refuses an ordering key that is not a JSON Pointer', async () => {
    const refused = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: apiKey,
      body: { url: receiver.url('/x'), eventTypes: ['*'], ordering: { key: 'data.flightId' } },
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('JSON Pointer');

    const id = await subscribe('/retries', {
      ordering: { key: '/data/flightId' },
      policy: {
        retry: { delaysMs: [200, 200, 200], retryOn: 'transient', honourRetryAfter: false },
        // Three keys failing at once are consecutive failures of one endpoint: not a dead endpoint.
        circuitBreaker: { consecutiveFailuresToDisable: 50 },
      },
    });
    const shown = await api.request({ method: 'GET', url: `/v1/subscriptions/${id}`, key: apiKey });
    expect(shown.body['ordering']).toEqual({ key: '/data/flightId', afterFinalFailure: 'skip' });

    const bookings = interleaved(['SK1', 'SK2', 'SK3'], 15);
    await publish('retries', bookings);
    await pollUntil(() => new Set(delivered('/retries').map((b) => `${b.key}#${b.seq}`)).size === 45, {
      timeoutMs: 90_000,
      description: 'all 45 ordered deliveries delivered',
    });
    const hooks = receiver.receivedOn('/retries');
    // Failures happened (or this would prove nothing), and none let a later delivery overtake.
    expect(hooks.filter((hook) => hook.answer?.status === 500).length).toBeGreaterThanOrEqual(15);
    expect(orderViolations(hooks)).toEqual([]);
    for (const key of ['SK1', 'SK2', 'SK3']) {
      const firsts = [
        ...new Set(
          delivered('/retries')
            .filter((b) => b.key === key)
            .map((b) => b.seq),
        ),
      ];
      expect(firsts).toEqual(Array.from({ length: 15 }, (_, index) => index + 1));
    }
  }, 120_000);

  it('holds up only the failing key: other keys of the endpoint flow while its head retries', async () => {
    failingKeys.set('/stalled', new Set(['STUCK']));
    await subscribe('/stalled', {
      ordering: { key: '/data/flightId' },
      policy: { retry: { delaysMs: Array(10).fill(500), retryOn: 'transient', honourRetryAfter: false } },
    });
    await publish('stalled', [
      { key: 'STUCK', seq: 1 },
      ...interleaved(['FLOW1', 'FLOW2'], 10),
      { key: 'STUCK', seq: 2 },
    ]);
    await pollUntil(() => delivered('/stalled').length === 20, {
      timeoutMs: 30_000,
      description: 'the 20 deliveries of the flowing keys, beside a failing one',
    });
    const stuck = receiver.receivedOn('/stalled').filter((hook) => bookingOf(hook).key === 'STUCK');
    expect(stuck.length).toBeGreaterThanOrEqual(1);
    expect(stuck.every((hook) => bookingOf(hook).seq === 1)).toBe(true);

    failingKeys.get('/stalled')?.clear();
    await pollUntil(() => delivered('/stalled').filter((b) => b.key === 'STUCK').length === 2, {
      timeoutMs: 30_000,
      description: 'the stuck key delivered once its endpoint answers',
    });
    expect(
      delivered('/stalled')
        .filter((b) => b.key === 'STUCK')
        .map((b) => b.seq),
    ).toEqual([1, 2]);
    expect(orderViolations(receiver.receivedOn('/stalled'))).toEqual([]);
  }, 120_000);

  it('skips a key’s head after its last attempt by default, and holds the key under hold until the partner skips or resends', async () => {
    failingKeys.set('/skip', new Set(['BAD']));
    await subscribe('/skip', {
      ordering: { key: '/data/flightId', afterFinalFailure: 'skip' },
      policy: { retry: { delaysMs: [100], retryOn: 'transient', honourRetryAfter: false } },
    });
    await publish('skip', [
      { key: 'BAD', seq: 1 },
      { key: 'BAD', seq: 2 },
    ]);
    await pollUntil(() => receiver.receivedOn('/skip').length >= 4, {
      timeoutMs: 30_000,
      description: 'both deliveries of the failing key attempted, one after the other',
    });
    expect(receiver.receivedOn('/skip').map((hook) => bookingOf(hook).seq)).toEqual([1, 1, 2, 2]);

    failingKeys.set('/hold', new Set(['HELD']));
    const holding = await subscribe('/hold', {
      ordering: { key: '/data/flightId', afterFinalFailure: 'hold' },
      policy: { retry: { delaysMs: [], retryOn: 'transient', honourRetryAfter: false } },
    });
    await publish('hold', [
      { key: 'HELD', seq: 1 },
      { key: 'HELD', seq: 2 },
      { key: 'HELD', seq: 3 },
      { key: 'OTHER', seq: 1 },
    ]);
    await pollUntil(() => delivered('/hold').some((b) => b.key === 'OTHER'), {
      timeoutMs: 30_000,
      description: 'the other key delivered beside the held one',
    });
    const head = await pollUntil(
      async () => {
        const page = await api.request({
          method: 'GET',
          url: `/v1/subscriptions/${holding}/deliveries?status=failed`,
          key: apiKey,
        });
        return (page.body['data'] as { id: string }[])[0];
      },
      { timeoutMs: 30_000, description: 'the held head failed in history' },
    );
    // Held: nothing of the key after its head went out.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(
      receiver
        .receivedOn('/hold')
        .filter((hook) => bookingOf(hook).key === 'HELD')
        .map((h) => bookingOf(h).seq),
    ).toEqual([1]);
    // History shows why the key's others wait: #2 behind the held head, #3 behind #2.
    const waitingDeliveries = await pollUntil(
      async () => {
        const page = await api.request({
          method: 'GET',
          url: `/v1/subscriptions/${holding}/deliveries?status=waiting`,
          key: apiKey,
        });
        const waits = page.body['data'] as {
          id: string;
          waitingBehind: string | null;
          attemptCount: number;
        }[];
        return waits.length === 2 ? waits : undefined;
      },
      { timeoutMs: 30_000, description: 'the two deliveries behind the held head shown as waiting' },
    );
    const behindHead = waitingDeliveries.find((delivery) => delivery.waitingBehind === head.id);
    expect(behindHead).toBeDefined();
    expect(waitingDeliveries.find((delivery) => delivery !== behindHead)?.waitingBehind).toBe(behindHead?.id);
    expect(waitingDeliveries.map((delivery) => delivery.attemptCount)).toEqual([0, 0]);
    const shownWaiting = await api.request({
      method: 'GET',
      url: `/v1/deliveries/${behindHead?.id}`,
      key: apiKey,
    });
    expect(shownWaiting.body).toMatchObject({ status: 'waiting', waitingBehind: head.id, attempts: [] });

    const skipped = await api.request({ method: 'POST', url: `/v1/deliveries/${head.id}/skip`, key: apiKey });
    expect(skipped.status).toBe(202);
    expect(skipped.body).toMatchObject({ deliveryId: head.id, orderingKey: 'HELD', status: 'enqueued' });
    // Skipped: the key goes on with #2, which fails and holds the key in its turn; resent once the
    // endpoint answers, #2 is delivered and #3 follows.
    await pollUntil(
      () =>
        receiver
          .receivedOn('/hold')
          .filter((hook) => bookingOf(hook).key === 'HELD' && bookingOf(hook).seq === 2).length === 1,
      { timeoutMs: 30_000, description: 'the key going on after the skip' },
    );
    const second = await pollUntil(
      async () => {
        const page = await api.request({
          method: 'GET',
          url: `/v1/subscriptions/${holding}/deliveries?status=failed`,
          key: apiKey,
        });
        return (page.body['data'] as { id: string }[]).find((delivery) => delivery.id !== head.id);
      },
      { timeoutMs: 30_000, description: 'the second head failed in history' },
    );
    expect(second.id).toBe(behindHead?.id);
    failingKeys.get('/hold')?.clear();
    const resent = await api.request({
      method: 'POST',
      url: `/v1/deliveries/${second.id}/resend`,
      key: apiKey,
    });
    expect(resent.status).toBe(202);
    await pollUntil(() => delivered('/hold').filter((b) => b.key === 'HELD').length === 2, {
      timeoutMs: 30_000,
      description: 'the resent head and the one behind it delivered',
    });
    expect(
      delivered('/hold')
        .filter((b) => b.key === 'HELD')
        .map((b) => b.seq),
    ).toEqual([2, 3]);
    expect(orderViolations(receiver.receivedOn('/hold'), new Set(['HELD#1']))).toEqual([]);
    // Sent at last, none is shown as waiting any more.
    await pollUntil(
      async () => {
        const page = await api.request({
          method: 'GET',
          url: `/v1/subscriptions/${holding}/deliveries?status=waiting`,
          key: apiKey,
        });
        return (page.body['data'] as unknown[]).length === 0;
      },
      { timeoutMs: 30_000, description: 'no delivery of the key left waiting' },
    );
  }, 120_000);

  it('never reorders a key when the dispatcher is killed (kill -9) mid-sequence and another takes over', async () => {
    await subscribe('/crash', {
      ordering: { key: '/data/flightId' },
      policy: {
        retry: { delaysMs: [300, 300, 300], retryOn: 'transient', honourRetryAfter: false },
        circuitBreaker: { consecutiveFailuresToDisable: 50 },
      },
    });
    const bookings = interleaved(['K1', 'K2', 'K3', 'K4'], 25);
    const publishing = publish('crash', bookings);
    await pollUntil(() => delivered('/crash').length >= 20, {
      timeoutMs: 30_000,
      description: 'the sequence under way before the kill',
    });
    const dispatcher = services[1] as ServiceProcess;
    await dispatcher.stop('SIGKILL');
    const deliveredBeforeKill = new Set(delivered('/crash').map((b) => `${b.key}#${b.seq}`)).size;
    expect(deliveredBeforeKill).toBeLessThan(100);
    services[1] = await startService('dispatcher', dispatcherEnvironment);
    await publishing;
    await pollUntil(() => new Set(delivered('/crash').map((b) => `${b.key}#${b.seq}`)).size === 100, {
      timeoutMs: 90_000,
      description: 'all 100 ordered deliveries delivered after the restart',
    });
    expect(orderViolations(receiver.receivedOn('/crash'))).toEqual([]);
  }, 150_000);
});
