import { Webhook } from 'standardwebhooks';
import { deliveryIdOf } from '@skyhook/contracts';
import {
  pollUntil,
  type ServiceProcess,
  startService,
  startWebhookReceiver,
  TEST_CA_CERT_PATH,
  testKafkaBrokers,
  type WebhookReceiver,
} from '@skyhook/testing';
import { type ApiTestApp, createOrganisation, startApiTestApp } from '../test/api-test-app';

/**
 * The whole product path: an event published over the REST API goes through fan-out and the
 * dispatcher (real service processes) to a real HTTPS receiver, which verifies the signature
 * with the Standard Webhooks library; a failing endpoint is disabled by its breaker through
 * the api and comes back when the partner enables it.
 */
describe('end to end: POST /v1/events to a signed webhook', () => {
  let api: ApiTestApp;
  let receiver: WebhookReceiver;
  let services: ServiceProcess[] = [];
  let apiKey: string;
  let organisationId: string;

  beforeAll(async () => {
    api = await startApiTestApp();
    receiver = await startWebhookReceiver();
    const environment = {
      KAFKA_BROKERS: testKafkaBrokers(),
      KAFKA_TOPIC_PREFIX: api.config.kafka.topicPrefix,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      LOG_LEVEL: 'warn',
    };
    services = await Promise.all([
      startService('fanout', environment),
      startService('dispatcher', {
        ...environment,
        SECRETS_MASTER_KEY: api.config.SECRETS_MASTER_KEY,
        SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
        NODE_EXTRA_CA_CERTS: TEST_CA_CERT_PATH,
      }),
    ]);
    ({ apiKey, organisationId } = await createOrganisation(api));
  });

  afterAll(async () => {
    await receiver.close();
    await Promise.all(services.map((service) => service.stop()));
    await api.close();
  });

  async function subscribe(path: string, body: Record<string, unknown> = {}) {
    const created = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: apiKey,
      body: { url: receiver.url(path), eventTypes: ['booking.*'], ...body },
    });
    expect(created.status).toBe(201);
    return { id: created.body['id'] as string, secret: created.body['signingSecret'] as string };
  }

  const publish = (data: Record<string, unknown>, type = 'booking.created') =>
    api.request({ method: 'POST', url: '/v1/events', key: apiKey, body: { type, data } });

  it('delivers a published event, signed so that the Standard Webhooks verifier accepts it', async () => {
    const subscription = await subscribe('/bookings');
    const published = await publish({ bookingId: 'bk_1', status: 'confirmed' });
    expect(published.status).toBe(202);
    const eventId = published.body['id'] as string;

    const [hook] = await receiver.waitForCount('/bookings', 1, 30_000);
    const payload = new Webhook(subscription.secret).verify(hook!.rawBody.toString(), hook!.headers);
    expect(payload).toMatchObject({
      id: eventId,
      type: 'booking.created',
      organisationId,
      data: { bookingId: 'bk_1', status: 'confirmed' },
    });
    expect(hook!.headers['webhook-id']).toBe(deliveryIdOf(organisationId, eventId, subscription.id));
  });

  it('disables a failing endpoint through the api after five failed attempts; enabling it resumes delivery', async () => {
    receiver.setBehaviour((request) => (request.path === '/failing' ? { status: 500 } : { status: 200 }));
    const failing = await subscribe('/failing', {
      eventTypes: ['booking.cancelled'],
      policy: { retry: { delaysMs: [] } },
    });
    for (let i = 0; i < 5; i += 1) {
      expect((await publish({ bookingId: `bk_f${i}` }, 'booking.cancelled')).status).toBe(202);
    }
    await receiver.waitForCount('/failing', 5, 30_000);
    const disabled = await pollUntil(
      async () => {
        const current = await api.request({
          method: 'GET',
          url: `/v1/subscriptions/${failing.id}`,
          key: apiKey,
        });
        return current.body['status'] === 'disabled' ? current.body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'the subscription disabled by its breaker' },
    );
    expect(disabled['disabledReason']).toBe('circuit-breaker');

    receiver.setBehaviour(() => ({ status: 200 }));
    const enabled = await api.request({
      method: 'POST',
      url: `/v1/subscriptions/${failing.id}/enable`,
      key: apiKey,
    });
    expect(enabled.status).toBe(200);
    await pollUntil(
      async () => {
        await publish({ bookingId: 'bk_after' }, 'booking.cancelled');
        return receiver.receivedOn('/failing').length > 5;
      },
      { timeoutMs: 30_000, intervalMs: 1_000, description: 'a delivery after enabling' },
    );
  });
});
