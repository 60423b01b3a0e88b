import { DataSource } from 'typeorm';
import { Webhook } from 'standardwebhooks';
import { type DeliveryEvent, type DeliveryRetry } from '@skyhook/contracts';
import { topicNameOf } from '@skyhook/messaging';
import {
  pollUntil,
  readTopic,
  type ReceivedWebhook,
  type ServiceProcess,
  startService,
  startWebhookReceiver,
  TEST_CA_CERT_PATH,
  testKafkaBrokers,
  type WebhookReceiver,
} from '@skyhook/testing';
import { REDELIVERY_TOPIC_KEY } from '@skyhook/delivery';
import { type ApiTestApp, createOrganisation, startApiTestApp } from '../test/api-test-app';
import { insertDeliveries, type SeedDelivery, seedDelivery } from '../test/delivery-history-seed';

const HOUR = 3_600_000;

/**
 * Resend and replay through the real dispatcher (its own process) to a real HTTPS receiver:
 * the history rows are seeded as the history service would have written them, with real
 * delivery requests for a subscription created through the api (so the dispatcher knows it
 * from the subscription log and holds its encrypted secret).
 */
describe('end to end: resend and replay reach the receiver, signed, with the same delivery ids', () => {
  let api: ApiTestApp;
  let dataSource: DataSource;
  let receiver: WebhookReceiver;
  let dispatcher: ServiceProcess;
  let apiKey: string;
  let organisationId: string;
  let retries: Awaited<ReturnType<typeof readTopic>>;
  let deliveryEvents: Awaited<ReturnType<typeof readTopic>>;
  const now = Date.now();

  beforeAll(async () => {
    api = await startApiTestApp({ environment: { REPLAY_PAGE_SIZE: '4', REPLAY_POLL_INTERVAL_MS: '100' } });
    api.clock.set(now);
    dataSource = api.app.get(DataSource);
    receiver = await startWebhookReceiver();
    dispatcher = await startService('dispatcher', {
      KAFKA_BROKERS: testKafkaBrokers(),
      KAFKA_TOPIC_PREFIX: api.config.kafka.topicPrefix,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      LOG_LEVEL: 'warn',
      SECRETS_MASTER_KEY: api.config.SECRETS_MASTER_KEY,
      SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
      NODE_EXTRA_CA_CERTS: TEST_CA_CERT_PATH,
    });
    // The dispatcher has provisioned its topics (the delivery events among them) once it is live.
    [retries, deliveryEvents] = await Promise.all([
      readTopic(api.config.kafka.brokers, topicNameOf(api.config.kafka, REDELIVERY_TOPIC_KEY)),
      readTopic(api.config.kafka.brokers, topicNameOf(api.config.kafka, 'deliveryEvents')),
    ]);
    ({ apiKey, organisationId } = await createOrganisation(api));
  });

  afterAll(async () => {
    // Whatever beforeAll got to start is stopped (the rest is still undefined), so a failed
    // start leaves nothing running to keep jest from exiting.
    await Promise.all([retries?.stop(), deliveryEvents?.stop()]);
    await receiver?.close();
    await dispatcher?.stop();
    await api?.close();
  });

  async function subscribe(path: string): Promise<{ id: string; secret: string }> {
    const created = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: apiKey,
      body: { url: receiver.url(path), eventTypes: ['booking.*'] },
    });
    expect(created.status).toBe(201);
    return { id: created.body['id'] as string, secret: created.body['signingSecret'] as string };
  }

  /** Verifies the Standard Webhooks signature and returns the payload. */
  function verified(hook: ReceivedWebhook, secret: string): Record<string, unknown> {
    return new Webhook(secret).verify(hook.rawBody.toString(), hook.headers) as Record<string, unknown>;
  }

  const retriesOn = (subscriptionId: string): DeliveryRetry[] =>
    retries.records
      .map((record) => JSON.parse(record.value) as DeliveryRetry)
      .filter((retry) => retry.request.subscriptionId === subscriptionId);

  it('resend: the receiver gets the delivery again, correctly signed, with the same id, as the next attempt', async () => {
    const subscription = await subscribe('/resent');
    const delivery = seedDelivery(organisationId, subscription.id, {
      status: 'failed',
      attemptCount: 2,
      publishedAt: new Date(now - HOUR).toISOString(),
      data: { bookingId: 'bk_resent', seats: 3 },
    });
    await insertDeliveries(dataSource, [delivery]);

    const response = await api.request({
      method: 'POST',
      url: `/v1/deliveries/${delivery.deliveryId}/resend`,
      key: apiKey,
    });
    expect(response).toMatchObject({
      status: 202,
      body: { deliveryId: delivery.deliveryId, attemptNumber: 3 },
    });

    const [hook] = await receiver.waitForCount('/resent', 1, 30_000);
    expect(hook!.headers['webhook-id']).toBe(delivery.deliveryId);
    expect(verified(hook!, subscription.secret)).toMatchObject({
      id: delivery.eventId,
      type: 'booking.created',
      organisationId,
      data: { bookingId: 'bk_resent', seats: 3 },
    });
    const attempted = await pollUntil(
      () =>
        deliveryEvents.records
          .map((record) => JSON.parse(record.value) as DeliveryEvent)
          .find((event) => event.deliveryId === delivery.deliveryId && event.type === 'DeliveryAttempted'),
      { timeoutMs: 10_000, description: 'the attempt recorded by the dispatcher' },
    );
    expect(attempted).toMatchObject({ attemptNumber: 3, outcome: 'success', result: 'delivered' });
  });

  it('replay: every matching delivery arrives once with its id, the job completes with matched = enqueued, and the same Idempotency-Key sends nothing again', async () => {
    const subscription = await subscribe('/replayed');
    const statuses: SeedDelivery['status'][] = ['failed', 'dropped', 'held', 'delivered'];
    const rows = Array.from({ length: 13 }, (_, i) =>
      seedDelivery(organisationId, subscription.id, {
        status: statuses[i % statuses.length],
        publishedAt: new Date(now - (13 - i) * 60_000).toISOString(),
        data: { n: i },
      }),
    );
    await insertDeliveries(dataSource, rows);
    const matching = rows.filter((row) => row.status !== 'delivered');
    const body = { since: new Date(now - HOUR).toISOString() };
    const headers = { 'idempotency-key': 'outage-2026-11-23' };

    const started = await api.request({
      method: 'POST',
      url: `/v1/subscriptions/${subscription.id}/replay`,
      key: apiKey,
      body,
      headers,
    });
    expect(started.status).toBe(202);
    const jobUrl = started.headers['location'] as string;
    const job = await pollUntil(
      async () => {
        const current = await api.request({ method: 'GET', url: jobUrl, key: apiKey });
        return current.body['state'] === 'running' ? undefined : current.body;
      },
      { timeoutMs: 20_000, description: 'the replay job finished' },
    );
    expect(job).toMatchObject({ id: started.body['id'], state: 'completed', matched: 10, enqueued: 10 });

    const hooks = await receiver.waitForCount('/replayed', matching.length, 30_000);
    expect(hooks.map((hook) => hook.headers['webhook-id']).sort()).toEqual(
      matching.map((row) => row.deliveryId).sort(),
    );
    for (const hook of hooks) {
      const row = matching.find((candidate) => candidate.deliveryId === hook.headers['webhook-id'])!;
      expect(verified(hook, subscription.secret)).toMatchObject({
        id: row.eventId,
        data: row.request?.event.data,
      });
    }

    const again = await api.request({
      method: 'POST',
      url: `/v1/subscriptions/${subscription.id}/replay`,
      key: apiKey,
      body,
      headers,
    });
    expect(again).toMatchObject({ status: 202, body: { id: started.body['id'], state: 'completed' } });

    // A marker behind anything the repeat could have produced: the same subscription's retries
    // share one partition, so once the marker is on the topic, nothing else is coming.
    const marker = rows.find((row) => row.status === 'delivered')!;
    expect(
      (await api.request({ method: 'POST', url: `/v1/deliveries/${marker.deliveryId}/resend`, key: apiKey }))
        .status,
    ).toBe(202);
    await pollUntil(
      () => retriesOn(subscription.id).some((retry) => retry.request.deliveryId === marker.deliveryId),
      {
        description: 'the marker on the retry topic',
      },
    );
    expect(retriesOn(subscription.id)).toHaveLength(matching.length + 1);
    await pollUntil(
      () => receiver.receivedOn('/replayed').some((hook) => hook.headers['webhook-id'] === marker.deliveryId),
      { timeoutMs: 20_000, description: 'the marker at the receiver' },
    );
    expect(receiver.receivedOn('/replayed')).toHaveLength(matching.length + 1);
  });
});
