import { setTimeout as sleep } from 'node:timers/promises';
import { type SeedStack, startSeedStack } from '../../test/seed-conformance-stack';

/**
 * Flightline's contract, served by the `flightline` profile and checked by a receiver written
 * from Flightline's documentation (Python, its `verify` sample). Real time: the ~0.5 s and 1 s
 * backoff and the 10 s timeout are short enough to run as they are.
 */
describe('seed contract: Flightline, end to end', () => {
  let stack: SeedStack;

  beforeAll(async () => {
    stack = await startSeedStack({
      seed: 'flightline',
      timeScale: 1,
      eventTypes: ['review.completed', 'review.failed'],
    });
    stack.receiver.setBehaviour((request, nth) => {
      switch (request.path) {
        case '/flightline/down':
          return { status: 503 };
        case '/flightline/rejecting':
          return nth === 1 ? { status: 400 } : { status: 204 };
        case '/flightline/slow':
          return nth === 1 ? { status: 200, delayMs: 11_000 } : { status: 200 };
        default:
          return { status: 200 };
      }
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('sends t=<timestamp>,v1=<hex> over "<t>.<raw body>" and a body of identifiers and status only', async () => {
    const path = '/flightline/reviews';
    const subscription = await stack.subscribe(path, { eventTypes: ['review.*'] });
    await stack.publish('review.completed', {
      review_id: '9b1f5c2e',
      reference_id: 'LN-2026-0042',
      status: 'completed',
      findings: [{ severity: 'minor', text: 'never leaves Skyhook' }],
    });
    await stack.publish('review.failed', {
      review_id: '7d3a',
      reference_id: 'LN-2026-0043',
      status: 'failed',
    });

    const received = await stack.receiver.waitForCount(path, 2, 30_000);
    const report = await stack.verify(subscription.secret, received);
    expect(report.verified).toBe(2);
    expect(received.map((request) => request.rawBody.toString()).join()).not.toContain('findings');
  });

  it('sends a test event a Flightline receiver accepts: the catalogue example, through the profile template', async () => {
    // Without an example a test event carries no review_id or status, and this receiver answers 400.
    const example = { review_id: 'rv_test', reference_id: 'LN-TEST-0001', status: 'completed' };
    const registered = await stack.api.request({
      method: 'POST',
      url: '/v1/event-types',
      key: stack.apiKey,
      body: { eventTypes: [{ name: 'review.completed', example }] },
    });
    expect(registered.status).toBe(200);
    const path = '/flightline/test-events';
    const subscription = await stack.subscribe(path, { eventTypes: ['review.*'] });
    const sent = await stack.api.request({
      method: 'POST',
      url: `/v1/subscriptions/${subscription.id}/test`,
      key: stack.apiKey,
    });
    expect(sent).toMatchObject({ status: 202, body: { type: 'review.completed', data: example } });
    stack.remember({
      id: sent.body['eventId'] as string,
      type: 'review.completed',
      scope: sent.body['scope'] as Record<string, string>,
      occurredAt: sent.body['occurredAt'] as string,
      data: example,
    });

    const received = await stack.receiver.waitForCount(path, 1, 30_000);
    const report = await stack.verify(subscription.secret, received);
    expect(report.verified).toBe(1);
    expect(JSON.parse(received[0]!.rawBody.toString())).toEqual({
      event: 'review.completed',
      ...example,
      occurred_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as string,
    });
  });

  it('makes up to 3 attempts, ~0.5 s then 1 s apart, on any non-2xx or a timeout at 10 s', async () => {
    const subscriptions = {
      down: await stack.subscribe('/flightline/down', { eventTypes: ['review.failed'] }),
      rejecting: await stack.subscribe('/flightline/rejecting', { eventTypes: ['review.failed'] }),
      slow: await stack.subscribe('/flightline/slow', { eventTypes: ['review.failed'] }),
    };
    await stack.publish('review.failed', {
      review_id: 'rv_retry',
      reference_id: 'LN-2026-0099',
      status: 'failed',
    });

    await Promise.all([
      stack.receiver.waitForCount('/flightline/down', 3, 30_000),
      stack.receiver.waitForCount('/flightline/rejecting', 2, 30_000),
      stack.receiver.waitForCount('/flightline/slow', 2, 30_000),
    ]);
    await sleep(3_000); // A fourth attempt would have come by now.

    const down = await stack.verify(subscriptions.down.secret, stack.receiver.receivedOn('/flightline/down'));
    expect(down.deliveries).toEqual([
      expect.objectContaining({ attempts: 3, answers: [503, 503, 503], outcome: 'failed' }),
    ]);
    const rejecting = await stack.verify(
      subscriptions.rejecting.secret,
      stack.receiver.receivedOn('/flightline/rejecting'),
    );
    expect(rejecting.deliveries).toEqual([expect.objectContaining({ attempts: 2, outcome: 'delivered' })]);
    const slow = await stack.verify(subscriptions.slow.secret, stack.receiver.receivedOn('/flightline/slow'));
    expect(slow.deliveries).toEqual([expect.objectContaining({ attempts: 2, outcome: 'delivered' })]);
  });

  it('rotates the secret as docs/profiles/flightline.md says, with a receiver holding one secret: nothing lost, never disabled', async () => {
    // The receiver checks signatures as the seed's sample does; the seed's verifier checks the
    // deliveries before and after the activation, each with the one secret held then.
    await stack.checkRotation('/flightline/rotation', { eventTypes: ['review.*'] }, (n) =>
      stack.publish('review.completed', {
        review_id: `rot_${n}`,
        reference_id: 'LN-ROT',
        status: 'completed',
      }),
    );
  });
});
