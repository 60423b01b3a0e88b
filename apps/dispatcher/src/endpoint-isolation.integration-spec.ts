import { type DeliveryRequest } from '@skyhook/contracts';
import { pollUntil, type ReceivedWebhook, startWebhookReceiver } from '@skyhook/testing';
import { DispatcherHarness } from './test/dispatcher-harness';

const WINDOW = 100;
const STALLED_DELIVERIES = 3 * WINDOW;
const HEALTHY_DELIVERIES = 200;
/** One partition shared by every endpoint, a small window, short endpoint queues. */
const ONE_SMALL_PARTITION = {
  KAFKA_PARTITIONS_DELIVERY_REQUESTS: '1',
  DISPATCH_MAX_PENDING_PER_PARTITION: String(WINDOW),
  DISPATCH_MAX_QUEUED_PER_ENDPOINT: '20',
  DISPATCH_MAX_QUEUE_WAIT_MS: '1000',
};

function metricValue(metrics: string, name: string): number {
  return metrics
    .split('\n')
    .filter((line) => line.startsWith(name) && !line.startsWith('#'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

function maxLatencyMs(hooks: ReceivedWebhook[], requests: DeliveryRequest[]): number {
  const publishedAt = new Map(
    requests.map((request) => [request.deliveryId, Date.parse(request.publishedAt)]),
  );
  return Math.max(
    ...hooks.map((hook) => hook.receivedAt - (publishedAt.get(hook.headers['webhook-id'] ?? '') ?? Infinity)),
  );
}

describe('a stalled endpoint beside a healthy one on the same partition', () => {
  it('never holds the healthy one back, however much of the stalled one waits, and loses none of either', async () => {
    // Both share the partition, and the stalled endpoint alone could fill its window.
    const harness = await DispatcherHarness.create(ONE_SMALL_PARTITION);
    // The stalled endpoint answers nothing inside its 1 s timeout until it recovers.
    let stalled = true;
    const receiver = await startWebhookReceiver({
      behaviour: (request) =>
        request.path === '/stalled' && stalled ? { status: 200, delayMs: 5_000 } : { status: 200 },
    });
    const dispatcher = await harness.startDispatcher();
    try {
      await harness.organisation('org_test');
      const stalledSubscription = await harness.subscription(receiver.url('/stalled'), {
        timeoutMs: 1_000,
        retry: {
          delaysMs: [500, 500, 500, 500, 500, 500, 500, 500],
          retryOn: 'transient',
          honourRetryAfter: true,
        },
        circuitBreaker: { consecutiveFailuresToDisable: 100 },
      });
      const healthySubscription = await harness.subscription(receiver.url('/healthy'));

      // Three windows of the stalled endpoint's work first, then the healthy one's behind it.
      const stalledRequests = await harness.publish(stalledSubscription, STALLED_DELIVERIES);
      const healthyRequests: DeliveryRequest[] = [];
      for (let batch = 0; batch < 4; batch += 1) {
        healthyRequests.push(...(await harness.publish(healthySubscription, HEALTHY_DELIVERIES / 4)));
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      const healthy = await receiver.waitForCount('/healthy', HEALTHY_DELIVERIES, 30_000);
      const worstMs = maxLatencyMs(healthy, healthyRequests);
      process.stdout.write(`healthy beside the stalled endpoint: slowest delivery ${worstMs} ms\n`);
      // Generous (the figures belong to bench:isolation): held behind the stalled endpoint, the
      // healthy deliveries would wait for its 300 one-second timeouts, a few at a time.
      expect(worstMs).toBeLessThan(5_000);

      // The stalled endpoint was throttled and its overflow parked, as the process tells.
      const scrape = async () => (await fetch(`${dispatcher.baseUrl}/metrics`)).text();
      await pollUntil(
        async () => metricValue(await scrape(), 'skyhook_dispatcher_throttled_endpoints') === 1,
        {
          timeoutMs: 10_000,
          description: 'the stalled endpoint throttled',
        },
      );
      const metrics = await scrape();
      expect(metricValue(metrics, 'skyhook_dispatcher_deliveries_parked_total')).toBeGreaterThan(0);
      expect(metricValue(metrics, 'skyhook_dispatcher_endpoint_concurrency_limit')).toBeLessThan(16);
      const readiness = (await (await fetch(`${dispatcher.baseUrl}/health/ready`)).json()) as {
        details: Record<string, { status: string; throttledEndpoints?: number }>;
      };
      expect(readiness.details['endpoint-isolation']).toMatchObject({ status: 'up', throttledEndpoints: 1 });
      // Its concurrency shrinks to one, halving once per round of timeouts: then, over two seconds
      // of one-second timeouts, it gets a request or two, where its full sixteen would take 32.
      await pollUntil(
        async () => metricValue(await scrape(), 'skyhook_dispatcher_endpoint_concurrency_limit') === 1,
        { timeoutMs: 20_000, description: 'the stalled endpoint held to one request at a time' },
      );
      const before = receiver.receivedOn('/stalled').length;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const duringTwoSeconds = receiver.receivedOn('/stalled').length - before;
      process.stdout.write(`requests to the stalled endpoint over two seconds: ${duringTwoSeconds}\n`);
      expect(duringTwoSeconds).toBeLessThanOrEqual(4);

      // Once it answers again, every one of its deliveries arrives: parked work is not lost.
      stalled = false;
      const expected = new Set(stalledRequests.map((request) => request.deliveryId));
      await pollUntil(
        () => {
          const answered = receiver
            .receivedOn('/stalled')
            .filter((hook) => hook.answer?.delaySeconds === 0)
            .map((hook) => hook.headers['webhook-id'] ?? '');
          return new Set(answered).size === expected.size;
        },
        { timeoutMs: 90_000, description: 'every delivery of the stalled endpoint after it recovered' },
      );
      const answered = new Set(receiver.receivedOn('/stalled').map((hook) => hook.headers['webhook-id']));
      expect(answered).toEqual(expected);
    } finally {
      await receiver.close();
      await dispatcher.stop();
      await harness.close();
    }
  }, 180_000);
  it('loses no parked delivery when the dispatcher is SIGKILLed with parked work in hand', async () => {
    const harness = await DispatcherHarness.create(ONE_SMALL_PARTITION);
    let stalled = true;
    const receiver = await startWebhookReceiver({
      behaviour: () => (stalled ? { status: 200, delayMs: 5_000 } : { status: 200 }),
    });
    let dispatcher = await harness.startDispatcher();
    try {
      await harness.organisation('org_test');
      const subscription = await harness.subscription(receiver.url('/stalled'), {
        timeoutMs: 1_000,
        retry: { delaysMs: [500, 500, 500, 500, 500], retryOn: 'transient', honourRetryAfter: true },
        circuitBreaker: { consecutiveFailuresToDisable: 100 },
      });
      const requests = await harness.publish(subscription, STALLED_DELIVERIES);
      const scrape = async () => (await fetch(`${dispatcher.baseUrl}/metrics`)).text();
      await pollUntil(
        async () => metricValue(await scrape(), 'skyhook_dispatcher_deliveries_parked_total') > WINDOW,
        { timeoutMs: 20_000, description: 'a window of deliveries parked' },
      );
      // Parked records written, parked consumer waiting on the endpoint, requests in flight.
      await dispatcher.stop('SIGKILL');
      stalled = false;
      dispatcher = await harness.startDispatcher();

      const expected = new Set(requests.map((request) => request.deliveryId));
      await pollUntil(
        () =>
          new Set(
            receiver
              .receivedOn('/stalled')
              .filter((hook) => hook.answer?.delaySeconds === 0)
              .map((hook) => hook.headers['webhook-id'] ?? ''),
          ).size === expected.size,
        { timeoutMs: 90_000, description: 'every delivery answered after the restart' },
      );
      const ids = new Set(receiver.receivedOn('/stalled').map((hook) => hook.headers['webhook-id']));
      expect(ids).toEqual(expected);
    } finally {
      await receiver.close();
      await dispatcher.stop();
      await harness.close();
    }
  }, 180_000);
});
