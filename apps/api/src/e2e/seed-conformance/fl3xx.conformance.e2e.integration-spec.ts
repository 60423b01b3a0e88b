import { setTimeout as sleep } from 'node:timers/promises';
import { type SeedStack, startSeedStack } from '../../test/seed-conformance-stack';

const TIME_SCALE = 524_288;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * FL3XX's contract, served by the `fl3xx` profile: per-operator subscriptions that expire after
 * one calendar month and may be renewed only in the 5 days before expiry, delivered with
 * Standard Webhooks signatures (the seed documents no signing of its own) and checked by a
 * receiver written from the Standard Webhooks specification (Python). Time runs 524288×
 * faster: a month passes in about 5 s and the renewal window opens 0.8 s before expiry.
 */
describe('seed contract: FL3XX, end to end', () => {
  let stack: SeedStack;

  beforeAll(async () => {
    stack = await startSeedStack({
      seed: 'fl3xx',
      timeScale: TIME_SCALE,
      eventTypes: ['FLIGHT_CREATE', 'FLIGHT_CANCEL', 'FLIGHT_TIME_UPDATE', 'FLIGHT_PAX_COUNT_UPDATE'],
    });
    stack.receiver.setBehaviour((request, nth) =>
      request.path === '/fl3xx/flaky' && nth <= 3 ? { status: 500 } : { status: 200 },
    );
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('refuses a subscription without an operatorId: FL3XX subscriptions are per operator', async () => {
    const refused = await stack.api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: stack.apiKey,
      body: { url: stack.receiver.url('/fl3xx/everyone'), eventTypes: ['FLIGHT_CREATE'] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: 'SCOPE_FILTER_REQUIRED' } });
  });

  it("delivers the operator's flight events only, signed with Standard Webhooks, retrying a 500 on the default schedule", async () => {
    const path = '/fl3xx/operator-1';
    const subscription = await stack.subscribe(path, {
      eventTypes: ['FLIGHT_CREATE', 'FLIGHT_TIME_UPDATE', 'FLIGHT_PAX_COUNT_UPDATE'],
      scopeFilter: { operatorId: 'op_1' },
    });
    const flaky = await stack.subscribe('/fl3xx/flaky', {
      eventTypes: ['FLIGHT_CANCEL'],
      scopeFilter: { operatorId: 'op_1' },
    });
    await stack.publish('FLIGHT_CREATE', { flightId: 4711, tail: 'HB-JFA' }, { operatorId: 'op_1' });
    await stack.publish(
      'FLIGHT_TIME_UPDATE',
      { flightId: 4711, std: '2026-06-01T08:00:00Z' },
      { operatorId: 'op_1' },
    );
    await stack.publish('FLIGHT_PAX_COUNT_UPDATE', { flightId: 4712, pax: 7 }, { operatorId: 'op_2' });
    await stack.publish('FLIGHT_CANCEL', { flightId: 4711 }, { operatorId: 'op_1' });

    const received = await stack.receiver.waitForCount(path, 2, 30_000);
    await stack.receiver.waitForCount('/fl3xx/flaky', 4, 30_000);
    await sleep(1_000);
    expect(stack.receiver.receivedOn(path)).toHaveLength(2);
    const report = await stack.verify(subscription.secret, received);
    expect(report.verified).toBe(2);
    const retried = await stack.verify(flaky.secret, stack.receiver.receivedOn('/fl3xx/flaky'));
    expect(retried.deliveries).toEqual([
      expect.objectContaining({ attempts: 4, answers: [500, 500, 500, 200], outcome: 'delivered' }),
    ]);
  });

  it("sends a test event an FL3XX receiver accepts: the catalogue example, in the subscription's operator", async () => {
    const path = '/fl3xx/test-events';
    const subscription = await stack.subscribe(path, {
      eventTypes: ['FLIGHT_CREATE'],
      scopeFilter: { operatorId: 'op_1' },
    });
    const example = { flightId: 1, tail: 'HB-TST' };
    expect(await stack.sendTestEvent(subscription.id, 'FLIGHT_CREATE', example)).toMatchObject({
      type: 'FLIGHT_CREATE',
      scope: { operatorId: 'op_1' },
    });
    const received = await stack.receiver.waitForCount(path, 1, 30_000);
    expect((await stack.verify(subscription.secret, received)).verified).toBe(1);
  });

  it('expires after one month; renewal is refused before the 5-day window, extends by one month inside it, and an expired subscription receives nothing', async () => {
    const path = '/fl3xx/expiring';
    const before = Date.now();
    const subscription = await stack.subscribe(path, {
      eventTypes: ['FLIGHT_CREATE'],
      scopeFilter: { operatorId: 'op_3' },
    });
    const created = await stack.subscription(subscription.id);
    const firstExpiry = Date.parse(created['expiresAt'] as string);
    // One calendar month is 28 to 31 days.
    expect(firstExpiry - before).toBeGreaterThanOrEqual(Math.floor((28 * DAY_MS) / TIME_SCALE) - 5);
    expect(firstExpiry - Date.now()).toBeLessThanOrEqual(Math.ceil((31 * DAY_MS) / TIME_SCALE) + 5);

    const early = await stack.api.request({
      method: 'POST',
      url: `/v1/subscriptions/${subscription.id}/renewals`,
      key: stack.apiKey,
    });
    expect(early.status).toBe(409);
    const opensAt = Date.parse((early.body['error'] as { details: { opensAt: string } }).details.opensAt);
    expect(firstExpiry - opensAt).toBe(Math.round((5 * DAY_MS) / TIME_SCALE));

    await sleep(opensAt - Date.now() + 50);
    const renewed = await stack.api.request({
      method: 'POST',
      url: `/v1/subscriptions/${subscription.id}/renewals`,
      key: stack.apiKey,
    });
    expect(renewed.status).toBe(200);
    const secondExpiry = Date.parse(renewed.body['expiresAt'] as string);
    expect(secondExpiry - firstExpiry).toBeGreaterThanOrEqual(Math.floor((28 * DAY_MS) / TIME_SCALE));
    expect(secondExpiry - firstExpiry).toBeLessThanOrEqual(Math.ceil((31 * DAY_MS) / TIME_SCALE));

    await stack.publish('FLIGHT_CREATE', { flightId: 5001 }, { operatorId: 'op_3' });
    await stack.receiver.waitForCount(path, 1, 30_000);

    await stack.waitForStatus(subscription.id, 'expired', 30_000);
    await sleep(1_000); // The expiry travels to fan-out through the subscription log.
    await stack.publish('FLIGHT_CREATE', { flightId: 5002 }, { operatorId: 'op_3' });
    await sleep(2_000);
    expect(stack.receiver.receivedOn(path)).toHaveLength(1);
    await stack.verify(subscription.secret, stack.receiver.receivedOn(path));
  });

  it('rotates the secret as docs/profiles/fl3xx.md says, with a receiver holding one secret: nothing lost, never disabled', async () => {
    // The receiver checks signatures as the seed's sample does; the seed's verifier checks the
    // deliveries before and after the activation, each with the one secret held then.
    await stack.checkRotation(
      '/fl3xx/rotation',
      { eventTypes: ['FLIGHT_CREATE'], scopeFilter: { operatorId: 'op_rot' } },
      (n) =>
        stack.publish('FLIGHT_CREATE', { flightId: 9_000 + n, tail: 'HB-ROT' }, { operatorId: 'op_rot' }),
    );
  });
});
