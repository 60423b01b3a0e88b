import {
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

/** The most requests that arrived within any one second (each request opening a window). */
function mostInAnySecond(hooks: readonly ReceivedWebhook[]): number {
  const times = hooks.map((hook) => hook.receivedAt).sort((a, b) => a - b);
  let most = 0;
  for (const [index, start] of times.entries()) {
    let count = 0;
    for (let next = index; next < times.length && (times[next] as number) < start + 1_000; next += 1)
      count += 1;
    most = Math.max(most, count);
  }
  return most;
}

/**
 * Per-endpoint rate limits and Retry-After (ADR 0032) through the whole pipeline: the api in
 * process, fan-out, dispatcher and history as their own processes, a real HTTPS receiver counting
 * what arrives per second.
 */
describe('end to end: endpoint rate limits and Retry-After', () => {
  let api: ApiTestApp;
  let receiver: WebhookReceiver;
  let services: ServiceProcess[] = [];
  let dispatcherEnvironment: Record<string, string>;
  let apiKey: string;
  /** Until when the /busy path answers 429 with Retry-After: 2. */
  let busyUntil = 0;

  beforeAll(async () => {
    api = await startApiTestApp({ systemClock: true });
    receiver = await startWebhookReceiver({
      behaviour: (request) =>
        request.path === '/busy' && Date.now() < busyUntil
          ? { status: 429, headers: { 'retry-after': '2' }, body: 'slow down' }
          : { status: 200 },
    });
    ({ services, dispatcherEnvironment } = await startDeliveryPipeline(api));
    ({ apiKey } = await createOrganisation(api));
  });

  afterAll(async () => {
    await receiver?.close();
    await Promise.all(services.map((service) => service.stop()));
    await api?.close();
  });

  async function subscribe(path: string, body: Record<string, unknown> = {}): Promise<string> {
    const created = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: apiKey,
      body: {
        url: receiver.url(path),
        eventTypes: ['booking.created'],
        scopeFilter: { desk: path.slice(1) },
        ...body,
      },
    });
    expect(created.status).toBe(201);
    return created.body['id'] as string;
  }

  /** Publishes `count` events for one desk (one subscription), all at once. */
  async function publishBurst(desk: string, count: number): Promise<void> {
    const answers = await Promise.all(
      Array.from({ length: count }, (_, n) =>
        api.request({
          method: 'POST',
          url: '/v1/events',
          key: apiKey,
          body: { id: `evt_${desk}_${n}`, type: 'booking.created', scope: { desk }, data: { n } },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 202));
  }

  it('refuses a rate limit that is not a whole number of requests per second from 1 to 10,000', async () => {
    for (const rateLimit of [
      { perSecond: 0 },
      { perSecond: 2.5 },
      { perSecond: 10_001 },
      { perMinute: 5 },
      5,
    ]) {
      const answer = await api.request({
        method: 'POST',
        url: '/v1/subscriptions',
        key: apiKey,
        body: { url: receiver.url('/refused'), eventTypes: ['booking.created'], rateLimit },
      });
      expect(answer.status).toBe(400);
    }
  });

  it('never sends a rate-limited endpoint more than its limit in any second, and loses nothing', async () => {
    const limitedId = await subscribe('/limited', { rateLimit: { perSecond: 5 } });
    await subscribe('/unlimited');
    const read = await api.request({ method: 'GET', url: `/v1/subscriptions/${limitedId}`, key: apiKey });
    expect(read.body['rateLimit']).toEqual({ perSecond: 5 });

    await Promise.all([publishBurst('limited', 40), publishBurst('unlimited', 40)]);
    // The unlimited neighbour is not paced by it: all of its 40 arrive while the limited one is
    // still going (it needs at least seven seconds).
    await receiver.waitForCount('/unlimited', 40, 30_000);
    expect(receiver.receivedOn('/limited').length).toBeLessThan(40);
    const limited = await receiver.waitForCount('/limited', 40, 60_000);

    expect(mostInAnySecond(limited)).toBeLessThanOrEqual(5);
    const ids = new Set(limited.map((hook) => hook.headers['webhook-id']));
    expect(ids.size).toBe(40);
    expect(mostInAnySecond(receiver.receivedOn('/unlimited'))).toBeGreaterThan(5);

    // The limit can be removed.
    const removed = await api.request({
      method: 'PATCH',
      url: `/v1/subscriptions/${limitedId}`,
      key: apiKey,
      body: { rateLimit: null },
    });
    expect(removed.status).toBe(200);
    expect(removed.body['rateLimit']).toBeNull();
  }, 120_000);

  it('holds the limit with two dispatchers, parked deliveries and all: one process sends to an endpoint', async () => {
    services.push(await startService('dispatcher', dispatcherEnvironment));
    const parkedBefore = await parkedSoFar();
    await subscribe('/limited-two', { rateLimit: { perSecond: 4 } });
    // Forty at four a second take ten seconds: those waiting past 5 s are parked, and read back
    // by the parked group, whose partition of this endpoint the same process owns.
    await publishBurst('limited-two', 40);
    const limited = await receiver.waitForCount('/limited-two', 40, 90_000);
    expect(mostInAnySecond(limited)).toBeLessThanOrEqual(4);
    expect(new Set(limited.map((hook) => hook.headers['webhook-id'])).size).toBe(40);
    expect((await parkedSoFar()) - parkedBefore).toBeGreaterThan(0);
  }, 150_000);

  /** Deliveries parked so far, over every dispatcher running (the pipeline's, and those added). */
  async function parkedSoFar(): Promise<number> {
    let parked = 0;
    const [, pipelineDispatcher, , ...addedDispatchers] = services;
    for (const service of [pipelineDispatcher!, ...addedDispatchers]) {
      const metrics = await fetch(`${service.baseUrl}/metrics`).then((response) => response.text());
      for (const match of metrics.matchAll(/^skyhook_dispatcher_deliveries_parked_total\{[^}]*\} (\d+)/gm)) {
        parked += Number(match[1]);
      }
    }
    return parked;
  }

  it('holds an endpoint that answered 429 with Retry-After back for as long, then delivers everything', async () => {
    // 429s are failures to the breaker like any other: this endpoint may fail twenty in a row.
    await subscribe('/busy', { policy: { circuitBreaker: { consecutiveFailuresToDisable: 100 } } });
    busyUntil = Date.now() + 2_500;
    await publishBurst('busy', 20);
    const delivered = await pollDelivered('/busy', 20);
    const busy = receiver.receivedOn('/busy');
    const first429 = busy.find((hook) => hook.answer?.status === 429);
    expect(first429).toBeDefined();
    // After the first 429 said "2 seconds", what was already on its way may still arrive, but no
    // request starts until the two seconds are over: at most the endpoint's in-flight window
    // (16) lands inside them.
    const inPause = busy.filter(
      (hook) =>
        hook.receivedAt > first429!.receivedAt + 200 && hook.receivedAt < first429!.receivedAt + 1_900,
    );
    expect(inPause).toEqual([]);
    expect(delivered).toBe(20);
  }, 120_000);

  async function pollDelivered(path: string, count: number): Promise<number> {
    const giveUpAt = Date.now() + 90_000;
    for (;;) {
      const ok = new Set(
        receiver
          .receivedOn(path)
          .filter((hook) => hook.answer !== undefined && hook.answer.status < 300)
          .map((hook) => hook.headers['webhook-id']),
      );
      if (ok.size >= count || Date.now() > giveUpAt) return ok.size;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
});
