import { setTimeout as sleep } from 'node:timers/promises';
import { type SeedStack, startSeedStack } from '../../test/seed-conformance-stack';

/**
 * AviationAlley's contract, served by the `aviationalley` profile and checked request by
 * request by a receiver written from AviationAlley's own documentation (Python). Time runs
 * 3600× faster, so the 5m, 30m, 2h, 8h schedule takes about 10.6 s; the 5 s timeout is real.
 */
describe('seed contract: AviationAlley, end to end', () => {
  let stack: SeedStack;

  beforeAll(async () => {
    stack = await startSeedStack({
      seed: 'aviationalley',
      timeScale: 3_600,
      eventTypes: ['booking.created', 'booking.cancelled', 'mel.deferral.expiring', 'fa_training.completed'],
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('refuses a subscription without a centerId: AviationAlley subscribes per center', async () => {
    const refused = await stack.api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: stack.apiKey,
      body: { url: stack.receiver.url('/aa/everyone'), eventTypes: ['*'] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: 'SCOPE_FILTER_REQUIRED' } });
  });

  it("delivers its center's events only, with the signature, event and delivery headers and the {id, type, centerId, createdAt, data} body", async () => {
    const path = '/aa/center-1';
    const subscription = await stack.subscribe(path, { scopeFilter: { centerId: 'ctr_1' } });
    const shown = await stack.subscription(subscription.id);
    expect(shown['effectivePolicy']).toMatchObject({ timeoutMs: 5_000, signature: { scheme: 'hmac-hex' } });

    await stack.publish('booking.created', { bookingId: 'bk_1', trainee: 'Zoë' }, { centerId: 'ctr_1' });
    await stack.publish('mel.deferral.expiring', { deferralId: 'mel_7', daysLeft: 2 }, { centerId: 'ctr_1' });
    await stack.publish('booking.created', { bookingId: 'bk_other' }, { centerId: 'ctr_2' });

    await stack.receiver.waitForCount(path, 2, 30_000);
    await sleep(1_000); // Room for a wrongly matched third delivery to show up.
    const received = stack.receiver.receivedOn(path);
    expect(received).toHaveLength(2);

    const report = await stack.verify(subscription.secret, received);
    expect(report.verified).toBe(2);
    expect(report.tamperRejected).toBe(4);
    expect(report.deliveries.map((delivery) => [delivery.type, delivery.outcome]).sort()).toEqual([
      ['booking.created', 'delivered'],
      ['mel.deferral.expiring', 'delivered'],
    ]);
  });

  it("sends a test event an AviationAlley receiver accepts: the catalogue example, in the subscription's center", async () => {
    const path = '/aa/test-events';
    const subscription = await stack.subscribe(path, {
      eventTypes: ['booking.*'],
      scopeFilter: { centerId: 'ctr_1' },
    });
    const example = { bookingId: 'bk_test', trainee: 'Test Trainee' };
    expect(await stack.sendTestEvent(subscription.id, 'booking.created', example)).toMatchObject({
      type: 'booking.created',
      scope: { centerId: 'ctr_1' },
    });
    const received = await stack.receiver.waitForCount(path, 1, 30_000);
    expect((await stack.verify(subscription.secret, received)).verified).toBe(1);
  });

  it('treats any non-2xx and a timeout as a failure and retries on 5m, 30m, 2h, 8h, up to 5 attempts', async () => {
    stack.receiver.setBehaviour((request, nth) => {
      if (request.path === '/aa/down') return { status: 500 };
      if (request.path === '/aa/client-error') return nth <= 2 ? { status: 404 } : { status: 200 };
      if (request.path === '/aa/slow') return nth === 1 ? { status: 200, delayMs: 6_000 } : { status: 200 };
      return { status: 200 };
    });
    const subscriptions = {
      down: await stack.subscribe('/aa/down', { scopeFilter: { centerId: 'ctr_r' } }),
      clientError: await stack.subscribe('/aa/client-error', { scopeFilter: { centerId: 'ctr_r' } }),
      slow: await stack.subscribe('/aa/slow', { scopeFilter: { centerId: 'ctr_r' } }),
    };
    await stack.publish('booking.cancelled', { bookingId: 'bk_r' }, { centerId: 'ctr_r' });

    await Promise.all([
      stack.receiver.waitForCount('/aa/down', 5, 60_000),
      stack.receiver.waitForCount('/aa/client-error', 3, 60_000),
      stack.receiver.waitForCount('/aa/slow', 2, 60_000),
    ]);
    await sleep(4_000); // A sixth attempt would be due by now.

    const down = await stack.verify(subscriptions.down.secret, stack.receiver.receivedOn('/aa/down'));
    expect(down.deliveries).toEqual([
      expect.objectContaining({ attempts: 5, answers: [500, 500, 500, 500, 500], outcome: 'failed' }),
    ]);
    const clientError = await stack.verify(
      subscriptions.clientError.secret,
      stack.receiver.receivedOn('/aa/client-error'),
    );
    expect(clientError.deliveries).toEqual([expect.objectContaining({ attempts: 3, outcome: 'delivered' })]);
    const slow = await stack.verify(subscriptions.slow.secret, stack.receiver.receivedOn('/aa/slow'));
    expect(slow.deliveries).toEqual([expect.objectContaining({ attempts: 2, outcome: 'delivered' })]);
    expect(stack.receiver.receivedOn('/aa/slow')[0]!.clientClosedAt).toBeDefined();

    // One failing delivery does not disable the endpoint: the seed never mentions disabling.
    expect((await stack.subscription(subscriptions.down.id))['status']).toBe('active');
  });

  it('rotates the secret as docs/profiles/aviationalley.md says, with a receiver holding one secret: nothing lost, never disabled', async () => {
    // The receiver checks signatures as the seed's sample does; the seed's verifier checks the
    // deliveries before and after the activation, each with the one secret held then.
    await stack.checkRotation(
      '/aa/rotation',
      { eventTypes: ['booking.created'], scopeFilter: { centerId: 'ctr_rot' } },
      (n) => stack.publish('booking.created', { bookingId: `bk_rot_${n}` }, { centerId: 'ctr_rot' }),
    );
  });
});
