import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { type ServiceProcess, startWebhookReceiver, type WebhookReceiver } from '@skyhook/testing';
import { attemptsOf, DispatcherHarness } from './test/dispatcher-harness';

/** Independent receiver-side checks, written from each scheme's description, sharing no code with the signer. */
function hmac(secret: string, content: string, encoding: 'hex' | 'base64'): string {
  return createHmac('sha256', secret).update(content).digest(encoding);
}

function sameText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

const fastRetries = (delaysMs: number[], extra: Record<string, unknown> = {}) => ({
  retry: { delaysMs, retryOn: 'transient', honourRetryAfter: true, ...extra },
});

describe('dispatcher: signed deliveries to a real HTTPS receiver', () => {
  let harness: DispatcherHarness;
  let receiver: WebhookReceiver;
  let dispatcher: ServiceProcess;

  beforeAll(async () => {
    harness = await DispatcherHarness.create();
    receiver = await startWebhookReceiver();
    await harness.organisation('org_test');
    dispatcher = await harness.startDispatcher();
  });

  afterAll(async () => {
    await dispatcher.stop();
    await receiver.close();
    await harness.close();
  });

  it('signs with each scheme so that independent verifiers accept it, with the configured headers', async () => {
    const standard = await harness.subscription(receiver.url('/standard'));
    const flightline = await harness.subscription(receiver.url('/timestamped'), {
      signature: { scheme: 'timestamped-hmac-hex', header: 'X-Flightline-Signature' },
      payload: { shape: 'thin' },
    });
    const hex = await harness.subscription(receiver.url('/hex'), {
      signature: { scheme: 'hmac-hex', header: 'X-AviationAlley-Signature' },
      headers: { eventType: 'X-AviationAlley-Event', deliveryId: 'X-AviationAlley-Delivery', extra: {} },
    });
    const base64 = await harness.subscription(receiver.url('/base64'), {
      signature: { scheme: 'hmac-base64', header: 'X-Flintn-Signature' },
    });
    const [standardRequest] = await harness.publish(standard);
    const [flightlineRequest] = await harness.publish(flightline);
    const [hexRequest] = await harness.publish(hex);
    await harness.publish(base64);

    const [standardHook] = await receiver.waitForCount('/standard', 1, 20_000);
    const payload = new Webhook(standard.secret).verify(
      standardHook!.rawBody.toString(),
      standardHook!.headers,
    );
    expect(payload).toMatchObject({
      id: standardRequest!.event.id,
      type: 'booking.created',
      data: { seats: 2 },
    });
    expect(standardHook!.headers['webhook-id']).toBe(standardRequest!.deliveryId);
    expect(standardHook!.headers['user-agent']).toMatch(/^Skyhook/);
    expect(standardHook!.headers['content-type']).toBe('application/json');
    expect(() =>
      new Webhook(standard.secret).verify(`${standardHook!.rawBody.toString()} `, standardHook!.headers),
    ).toThrow();

    const [flightlineHook] = await receiver.waitForCount('/timestamped', 1, 20_000);
    const parts = Object.fromEntries(
      flightlineHook!.headers['x-flightline-signature']!.split(',').map((part) => part.split('=', 2)),
    ) as Record<string, string>;
    expect(Math.abs(Number(parts['t']) - Date.now() / 1_000)).toBeLessThan(60);
    const signed = `${parts['t']}.${flightlineHook!.rawBody.toString()}`;
    expect(sameText(hmac(flightline.secret, signed, 'hex'), parts['v1']!)).toBe(true);
    expect(sameText(hmac('wrong-secret-wrong-secret', signed, 'hex'), parts['v1']!)).toBe(false);
    // Thin payloads carry identifiers and status only.
    expect(JSON.parse(flightlineHook!.rawBody.toString())).toEqual({
      id: flightlineRequest!.event.id,
      type: 'booking.created',
      createdAt: flightlineRequest!.event.occurredAt,
      data: { bookingId: flightlineRequest!.event.data['bookingId'], status: 'confirmed' },
    });

    const [hexHook] = await receiver.waitForCount('/hex', 1, 20_000);
    expect(
      sameText(
        hmac(hex.secret, hexHook!.rawBody.toString(), 'hex'),
        hexHook!.headers['x-aviationalley-signature']!,
      ),
    ).toBe(true);
    expect(hexHook!.headers['x-aviationalley-event']).toBe('booking.created');
    expect(hexHook!.headers['x-aviationalley-delivery']).toBe(hexRequest!.deliveryId);

    const [base64Hook] = await receiver.waitForCount('/base64', 1, 20_000);
    expect(
      sameText(
        hmac(base64.secret, base64Hook!.rawBody.toString(), 'base64'),
        base64Hook!.headers['x-flintn-signature']!,
      ),
    ).toBe(true);

    const events = await harness.waitForDeliveryEvents(
      (all) => attemptsOf(all, standardRequest!.deliveryId).length === 1,
      'attempt event of the standard delivery',
    );
    expect(attemptsOf(events, standardRequest!.deliveryId)[0]).toMatchObject({
      attemptNumber: 1,
      outcome: 'success',
      responseStatus: 200,
      result: 'delivered',
      nextAttemptAt: null,
      request: standardRequest,
    });
  });

  it('retries a 500 and then delivers, with the same delivery id; a 400 is not retried', async () => {
    receiver.setBehaviour((request, nth) =>
      request.path === '/flaky'
        ? { status: nth === 1 ? 500 : 200, body: 'busy' }
        : request.path === '/bad'
          ? { status: 400 }
          : { status: 200 },
    );
    const flaky = await harness.subscription(receiver.url('/flaky'), fastRetries([300, 300]));
    const bad = await harness.subscription(receiver.url('/bad'), fastRetries([300, 300]));
    const [flakyRequest] = await harness.publish(flaky);
    const [badRequest] = await harness.publish(bad);

    const hooks = await receiver.waitForCount('/flaky', 2, 20_000);
    expect(hooks.map((hook) => hook.headers['webhook-id'])).toEqual([
      flakyRequest!.deliveryId,
      flakyRequest!.deliveryId,
    ]);
    expect(hooks[1]!.receivedAt - hooks[0]!.receivedAt).toBeGreaterThanOrEqual(250);

    const events = await harness.waitForDeliveryEvents(
      (all) =>
        attemptsOf(all, flakyRequest!.deliveryId).length === 2 &&
        attemptsOf(all, badRequest!.deliveryId).length === 1,
      'attempts of the flaky and the bad delivery',
    );
    const [first, second] = attemptsOf(events, flakyRequest!.deliveryId);
    expect(first).toMatchObject({
      outcome: 'http-error',
      responseStatus: 500,
      responseBody: 'busy',
      result: 'retry-scheduled',
    });
    expect(first!.nextAttemptAt).not.toBeNull();
    expect(second).toMatchObject({
      attemptNumber: 2,
      outcome: 'success',
      result: 'delivered',
      request: null,
    });
    expect(attemptsOf(events, badRequest!.deliveryId)[0]).toMatchObject({
      responseStatus: 400,
      result: 'failed',
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.receivedOn('/bad')).toHaveLength(1);
  });

  it('waits at least Retry-After on a 429, within the schedule; times out a stalled response and retries it', async () => {
    receiver.setBehaviour((request, nth) => {
      if (request.path === '/limited')
        return nth === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 };
      if (request.path === '/stalling') return nth === 1 ? { status: 200, delayMs: 5_000 } : { status: 200 };
      return { status: 200 };
    });
    const limited = await harness.subscription(receiver.url('/limited'), fastRetries([100, 3_000]));
    const stalling = await harness.subscription(receiver.url('/stalling'), {
      ...fastRetries([200]),
      timeoutMs: 1_000,
    });
    const [limitedRequest] = await harness.publish(limited);
    const [stallingRequest] = await harness.publish(stalling);

    const limitedHooks = await receiver.waitForCount('/limited', 2, 20_000);
    expect(limitedHooks[1]!.receivedAt - limitedHooks[0]!.receivedAt).toBeGreaterThanOrEqual(950);
    await receiver.waitForCount('/stalling', 2, 20_000);

    const events = await harness.waitForDeliveryEvents(
      (all) =>
        attemptsOf(all, limitedRequest!.deliveryId).length === 2 &&
        attemptsOf(all, stallingRequest!.deliveryId).length === 2,
      'attempts of the rate-limited and the stalling delivery',
    );
    expect(attemptsOf(events, limitedRequest!.deliveryId).map((attempt) => attempt.result)).toEqual([
      'retry-scheduled',
      'delivered',
    ]);
    const [timedOut, delivered] = attemptsOf(events, stallingRequest!.deliveryId);
    expect(timedOut).toMatchObject({ outcome: 'timeout', responseStatus: null, result: 'retry-scheduled' });
    expect(timedOut!.durationMs).toBeGreaterThanOrEqual(900);
    expect(timedOut!.durationMs).toBeLessThan(4_000);
    expect(delivered).toMatchObject({ outcome: 'success' });
  });

  it('does not follow a redirect', async () => {
    receiver.setBehaviour((request) =>
      request.path === '/moved'
        ? { status: 302, headers: { location: receiver.url('/elsewhere') } }
        : { status: 200 },
    );
    const moved = await harness.subscription(receiver.url('/moved'), fastRetries([]));
    const [request] = await harness.publish(moved);
    const events = await harness.waitForDeliveryEvents(
      (all) => attemptsOf(all, request!.deliveryId).length === 1,
      'attempt of the redirected delivery',
    );
    expect(attemptsOf(events, request!.deliveryId)[0]).toMatchObject({
      responseStatus: 302,
      result: 'failed',
    });
    expect(receiver.receivedOn('/elsewhere')).toHaveLength(0);
  });

  it('disables an endpoint after five consecutive failures, drops what comes while disabled, and resumes once enabled', async () => {
    receiver.setBehaviour((request) => (request.path === '/down' ? { status: 503 } : { status: 200 }));
    const down = await harness.subscription(receiver.url('/down'), fastRetries([]));
    const failing = await harness.publish(down, 5);
    await receiver.waitForCount('/down', 5, 20_000);
    const commands = await harnessCommands(harness, down.id);
    expect(commands[0]).toMatchObject({
      type: 'DisableSubscription',
      subscriptionId: down.id,
      organisationId: down.organisationId,
      reason: 'circuit-breaker',
    });
    await harness.waitForDeliveryEvents(
      (all) => failing.every((request) => attemptsOf(all, request.deliveryId).length === 1),
      'the five failed attempts',
    );

    // Nothing more is sent while the breaker is open.
    const whileOpen = await harness.publish(down, 2);
    const events = await harness.waitForDeliveryEvents(
      (all) => whileOpen.every((request) => all.some((event) => event.deliveryId === request.deliveryId)),
      'skips of the deliveries made while open',
    );
    for (const request of whileOpen) {
      expect(events.find((event) => event.deliveryId === request.deliveryId)).toMatchObject({
        type: 'DeliverySkipped',
        reason: 'subscription-disabled',
        disposition: 'dropped',
      });
    }
    expect(receiver.receivedOn('/down')).toHaveLength(5);

    // The api applies the command (here written to the log as it would) and the partner re-enables.
    await harness.disable(down);
    await harness.lifecycle(down, 'SubscriptionEnabled');
    receiver.setBehaviour(() => ({ status: 200 }));
    await pollUntil(async () => {
      await harness.publish(down, 1);
      return receiver.receivedOn('/down').length > 5;
    }, 'a delivery after re-enabling');
  });
});

describe('dispatcher: a receiver switching to a rotated secret', () => {
  it('retries the 401s it answers meanwhile, whatever the retry rule says of 4xx, and never counts them towards disabling', async () => {
    const harness = await DispatcherHarness.create();
    const receiver = await startWebhookReceiver();
    // The receiver holds one secret and answers 401 to a signature it does not verify, as a
    // receiver built from a single-signature seed does.
    let held = '';
    receiver.setBehaviour((request) => {
      const signature = request.headers['x-sig'] ?? '';
      return sameText(signature, hmac(held, request.rawBody.toString(), 'hex'))
        ? { status: 200 }
        : { status: 401 };
    });
    await harness.organisation('org_test', { signature: { scheme: 'hmac-hex', header: 'X-Sig' } });
    const dispatcher = await harness.startDispatcher();
    try {
      // Like Flintn: a 4xx is not retried, and three failures in a row disable the endpoint.
      const subscription = await harness.subscription(receiver.url('/switching'), {
        retry: { delaysMs: [1_000, 1_000, 1_000], retryOn: '5xx-and-429' },
        circuitBreaker: { consecutiveFailuresToDisable: 3 },
      });
      held = subscription.secret;
      const [first] = await harness.publish(subscription, 1);
      await receiver.waitForCount('/switching', 1, 20_000);
      expect(receiver.receivedOn('/switching')[0]?.answer?.status).toBe(200);

      const newSecret = await harness.rotateSecret(subscription);
      // Deliveries signed with the new secret until six have been turned away: twice the breaker's threshold.
      const afterRotation: string[] = [];
      await pollUntil(async () => {
        afterRotation.push(...(await harness.publish(subscription, 1)).map((request) => request.deliveryId));
        await new Promise((resolve) => setTimeout(resolve, 100));
        return (
          receiver.receivedOn('/switching').filter((request) => request.answer?.status === 401).length >= 6
        );
      }, 'six deliveries turned away after the rotation');
      // The partner deploys the new secret: every delivery gets through on a retry.
      held = newSecret;
      const events = await harness.waitForDeliveryEvents(
        (all) =>
          afterRotation.every((deliveryId) =>
            attemptsOf(all, deliveryId).some((attempt) => attempt.responseStatus === 200),
          ),
        'every delivery accepted once the receiver switched',
      );
      const turnedAway = events.filter(
        (event) => event.type === 'DeliveryAttempted' && event.responseStatus === 401,
      );
      expect(turnedAway.length).toBeGreaterThanOrEqual(6);
      expect(
        turnedAway.every((event) => event.type === 'DeliveryAttempted' && event.result === 'retry-scheduled'),
      ).toBe(true);
      expect(first?.deliveryId).toBeDefined();
      // No disable command, though more than three attempts in a row failed.
      expect(harness.commands().filter((command) => command.subscriptionId === subscription.id)).toEqual([]);
      const metrics = await (await fetch(`${dispatcher.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(
        /^skyhook_dispatcher_auth_failures_while_switching_secret_total\S* ([6-9]|\d\d+)$/m,
      );
    } finally {
      await dispatcher.stop();
      await receiver.close();
      await harness.close();
    }
  });
});

async function harnessCommands(harness: DispatcherHarness, subscriptionId: string) {
  return pollUntil(() => {
    const commands = harness.commands().filter((command) => command.subscriptionId === subscriptionId);
    return Promise.resolve(commands.length > 0 ? commands : undefined);
  }, 'the disable command');
}

async function pollUntil<T>(probe: () => Promise<T | undefined | false>, description: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const result = await probe();
    if (result !== undefined && result !== false) return result;
    if (Date.now() > deadline) throw new Error(`${description} did not happen within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
