import { setTimeout as sleep } from 'node:timers/promises';
import { deliveryIdOf } from '@skyhook/contracts';
import { pollUntil } from '@skyhook/testing';
import { type SeedStack, startSeedStack } from '../../test/seed-conformance-stack';

/**
 * Flintn's contract, served by the `flintn` profile and checked by a receiver written from
 * Flintn's documentation (Python). Time runs 7200× faster: 5 min, 30 min, 2 h and 24 h become
 * about 0.04 s, 0.25 s, 1 s and 12 s; the 30 s timeout is real.
 */
describe('seed contract: Flintn, end to end', () => {
  let stack: SeedStack;
  let endpointRecovered = false;

  beforeAll(async () => {
    stack = await startSeedStack({
      seed: 'flintn',
      timeScale: 7_200,
      eventTypes: ['order.created', 'order.updated', 'order.cancelled'],
      withHistory: true,
    });
    stack.receiver.setBehaviour((request, nth) => {
      switch (request.path) {
        case '/fl/down':
          return endpointRecovered ? { status: 200 } : { status: 500 };
        case '/fl/bad-request':
          return { status: 400 };
        case '/fl/request-timeout':
          return { status: 408 };
        case '/fl/too-many':
          return nth === 1 ? { status: 429 } : { status: 200 };
        case '/fl/slow':
          return nth === 1 ? { status: 200, delayMs: 31_000 } : { status: 200 };
        default:
          return { status: 200 };
      }
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('signs every delivery, tests included, with a base64 HMAC in X-Signature-Primary; a test shows in history as a test', async () => {
    const path = '/fl/orders';
    const subscription = await stack.subscribe(path, { eventTypes: ['order.*'] });
    await stack.publish('order.created', { orderId: 'ord_1', total: 1250.5 });
    await stack.publish('order.updated', { orderId: 'ord_1', status: 'paid' });
    const sent = await stack.api.request({
      method: 'POST',
      url: `/v1/subscriptions/${subscription.id}/test`,
      key: stack.apiKey,
    });
    expect(sent.status).toBe(202);
    stack.remember({
      id: sent.body['eventId'] as string,
      type: 'webhook.test',
      scope: sent.body['scope'] as Record<string, string>,
      occurredAt: sent.body['occurredAt'] as string,
      data: sent.body['data'] as Record<string, unknown>,
    });

    const received = await stack.receiver.waitForCount(path, 3, 30_000);
    const report = await stack.verify(subscription.secret, received);
    expect(report.verified).toBe(3);
    expect(report.deliveries.map((delivery) => delivery.type).sort()).toEqual([
      'order.created',
      'order.updated',
      'webhook.test',
    ]);

    const testDeliveryId = deliveryIdOf(
      stack.organisationId,
      sent.body['eventId'] as string,
      subscription.id,
    );
    const recorded = await pollUntil(
      async () => {
        const found = await stack.api.request({
          method: 'GET',
          url: `/v1/deliveries/${testDeliveryId}`,
          key: stack.apiKey,
        });
        return found.status === 200 && found.body['status'] === 'delivered' ? found.body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'the test delivery in history' },
    );
    expect(recorded).toMatchObject({ test: true, eventType: 'webhook.test' });
  });

  it(
    'retries 5xx, 429 and timeouts on 5m, 30m, 2h, 24h; 4xx (408 too) is final; five failed attempts disable the endpoint',
    async () => {
      const subscriptions = Object.fromEntries(
        await Promise.all(
          ['/fl/down', '/fl/bad-request', '/fl/request-timeout', '/fl/too-many', '/fl/slow'].map(
            async (path) => [path, await stack.subscribe(path, { eventTypes: ['order.cancelled'] })] as const,
          ),
        ),
      );
      await stack.publish('order.cancelled', { orderId: 'ord_9', reason: 'weather' });

      await Promise.all([
        stack.receiver.waitForCount('/fl/down', 5, 60_000),
        stack.receiver.waitForCount('/fl/too-many', 2, 60_000),
        stack.receiver.waitForCount('/fl/slow', 2, 60_000),
      ]);
      await sleep(2_000); // Long enough for a wrong retry of the final 4xx answers to arrive.

      const expectations: Record<string, { attempts: number; outcome: string }> = {
        '/fl/down': { attempts: 5, outcome: 'failed' },
        '/fl/bad-request': { attempts: 1, outcome: 'failed' },
        '/fl/request-timeout': { attempts: 1, outcome: 'failed' },
        '/fl/too-many': { attempts: 2, outcome: 'delivered' },
        '/fl/slow': { attempts: 2, outcome: 'delivered' },
      };
      for (const [path, expected] of Object.entries(expectations)) {
        const report = await stack.verify(subscriptions[path]!.secret, stack.receiver.receivedOn(path));
        expect({ path, ...report.deliveries[0] }).toMatchObject({ path, ...expected });
      }
      expect(stack.receiver.receivedOn('/fl/slow')[0]!.clientClosedAt).toBeDefined();

      const disabled = await stack.waitForStatus(subscriptions['/fl/down']!.id, 'disabled');
      expect(disabled['disabledReason']).toBe('circuit-breaker');
      for (const path of ['/fl/bad-request', '/fl/request-timeout', '/fl/too-many', '/fl/slow']) {
        expect((await stack.subscription(subscriptions[path]!.id))['status']).toBe('active');
      }
    },
    // At least 30 s by the clock (the timeout is real) plus the stack's own work, and the waits
    // above allow 60 s: the suite's default of 60 s for a whole test left no room for them.
    120_000,
  );

  it('does not queue events while disabled: they are simply not delivered, even after reactivation', async () => {
    const down = (
      (
        await stack.api.request({
          method: 'GET',
          url: '/v1/subscriptions?status=disabled',
          key: stack.apiKey,
        })
      ).body['data'] as { id: string; url: string }[]
    ).find((subscription) => subscription.url.endsWith('/fl/down'));
    expect(down).toBeDefined();
    const whileDisabled = await stack.publish('order.cancelled', { orderId: 'ord_while_disabled' });
    await sleep(1_500);

    endpointRecovered = true;
    const enabled = await stack.api.request({
      method: 'POST',
      url: `/v1/subscriptions/${down!.id}/enable`,
      key: stack.apiKey,
    });
    expect(enabled.status).toBe(200);
    await pollUntil(
      async () => {
        await stack.publish('order.cancelled', { orderId: 'ord_after_enable' });
        return stack.receiver
          .receivedOn('/fl/down')
          .some((request) => request.rawBody.toString().includes('ord_after_enable'));
      },
      { timeoutMs: 30_000, intervalMs: 1_000, description: 'a delivery after reactivation' },
    );
    expect(
      stack.receiver
        .receivedOn('/fl/down')
        .filter((request) => request.rawBody.toString().includes(whileDisabled)),
    ).toEqual([]);
  });

  it('rotates the secret as docs/profiles/flintn.md says, with a receiver holding one secret: nothing lost, never disabled', async () => {
    // The receiver checks signatures as the seed's sample does; the seed's verifier checks the
    // deliveries before and after the activation, each with the one secret held then.
    await stack.checkRotation('/fl/rotation', { eventTypes: ['order.*'] }, (n) =>
      stack.publish('order.updated', { orderId: `ord_rot_${n}`, status: 'paid' }),
    );
  });
});
