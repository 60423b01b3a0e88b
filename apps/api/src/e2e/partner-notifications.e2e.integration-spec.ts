import { Webhook } from 'standardwebhooks';
import {
  PARTNER_NOTIFICATION_TYPES,
  partnerNotificationDataSchemas,
  type PartnerNotificationType,
} from '@skyhook/contracts';
import {
  pollUntil,
  type ReceivedWebhook,
  type ServiceProcess,
  startService,
  startWebhookReceiver,
  TEST_CA_CERT_PATH,
  testKafkaBrokers,
  type WebhookReceiver,
} from '@skyhook/testing';
import { type ApiTestApp, createOrganisation, startApiTestApp } from '../test/api-test-app';

const DAY_MS = 86_400_000;
const NOTICES = '/notices';
const FAILING = '/failing';

interface Notice {
  readonly id: string;
  readonly type: PartnerNotificationType;
  readonly organisationId: string;
  readonly data: Record<string, unknown>;
}

/**
 * Partner notifications through the whole pipeline: the api (in process, with a clock the test
 * moves for the expiry notices), fan-out, the dispatcher and history as their own processes,
 * and a real HTTPS receiver as the organisation's notification endpoint. Each notification type
 * is caused the way production causes it and must arrive signed, with data its published
 * schema accepts.
 */
describe('end to end: partner notifications reach the notification endpoint', () => {
  let api: ApiTestApp;
  let receiver: WebhookReceiver;
  let services: ServiceProcess[] = [];
  let apiKey: string;
  let organisationId: string;
  let notices: { id: string; secret: string };
  const startedAt = Date.now();

  beforeAll(async () => {
    api = await startApiTestApp({
      systemClock: true,
      environment: { EXPIRY_NOTICE_SCAN_INTERVAL_MS: '100', REPLAY_POLL_INTERVAL_MS: '100' },
    });
    receiver = await startWebhookReceiver({
      behaviour: (request) =>
        request.path === FAILING ? { status: 503, body: 'down for maintenance' } : { status: 200 },
    });
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
      startService('history', { ...environment, DATABASE_URL: api.database.url }),
    ]);
    ({ apiKey, organisationId } = await createOrganisation(api, {
      subscriptionLifetimeDays: 30,
      renewalWindowDays: 5,
    }));
    notices = await subscribe(NOTICES, { eventTypes: ['skyhook.*'] });
  });

  afterAll(async () => {
    await receiver?.close();
    await Promise.all(services.map((service) => service.stop()));
    await api?.close();
  });

  async function subscribe(path: string, body: Record<string, unknown>) {
    const created = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: apiKey,
      body: { url: receiver.url(path), ...body },
    });
    expect(created.status).toBe(201);
    return { id: created.body['id'] as string, secret: created.body['signingSecret'] as string };
  }

  function verifiedNotice(hook: ReceivedWebhook): Notice {
    return new Webhook(notices.secret).verify(hook.rawBody.toString(), hook.headers) as Notice;
  }

  /** The notices of `type` about `subscriptionId` received so far, verified and schema-checked. */
  function noticesOf(type: PartnerNotificationType, subscriptionId: string): Notice[] {
    return receiver
      .receivedOn(NOTICES)
      .map(verifiedNotice)
      .filter((notice) => notice.type === type && notice.data['subscriptionId'] === subscriptionId)
      .map((notice) => {
        expect(notice.organisationId).toBe(organisationId);
        partnerNotificationDataSchemas[type].parse(notice.data);
        return notice;
      });
  }

  function awaitNotice(type: PartnerNotificationType, subscriptionId: string, count = 1): Promise<Notice[]> {
    return pollUntil(
      () => {
        const found = noticesOf(type, subscriptionId);
        return found.length >= count ? found : undefined;
      },
      { timeoutMs: 60_000, description: `${count} × ${type} about ${subscriptionId}` },
    );
  }

  const publish = (data: Record<string, unknown>) =>
    api.request({ method: 'POST', url: '/v1/events', key: apiKey, body: { type: 'booking.created', data } });

  it('lists every notification type in the catalogue with its schema, and refuses publishing or registering one', async () => {
    const catalogue = await api.request({ method: 'GET', url: '/v1/event-types', key: apiKey });
    const reserved = (
      catalogue.body['data'] as { name: string; reserved: boolean; schema: unknown }[]
    ).filter((type) => type.reserved);
    expect(reserved.map((type) => type.name).sort()).toEqual([...PARTNER_NOTIFICATION_TYPES].sort());
    for (const type of reserved) expect(type.schema).toMatchObject({ type: 'object' });

    const published = await api.request({
      method: 'POST',
      url: '/v1/events',
      key: apiKey,
      body: { type: 'skyhook.subscription.disabled', data: {} },
    });
    expect(published.status).toBe(422);
    expect(JSON.stringify(published.body)).toContain('only Skyhook publishes the skyhook domain');
    const registered = await api.request({
      method: 'POST',
      url: '/v1/event-types',
      key: apiKey,
      body: { eventTypes: [{ name: 'skyhook.custom' }] },
    });
    expect(registered.status).toBe(400);
    expect(JSON.stringify(registered.body)).toContain(
      "the skyhook domain is reserved for Skyhook's own notifications",
    );
  });

  it('a delivery that fails for good is notified once per window, and the breaker that trips is notified with the failures', async () => {
    const everything = await subscribe('/everything', { eventTypes: ['*'] });
    const failing = await subscribe(FAILING, {
      eventTypes: ['booking.*'],
      policy: {
        retry: { delaysMs: [], retryOn: 'transient', honourRetryAfter: false },
        circuitBreaker: { consecutiveFailuresToDisable: 2 },
      },
    });
    expect((await publish({ bookingId: 'bk_fail_1' })).status).toBe(202);
    const [failed] = await awaitNotice('skyhook.delivery.failed', failing.id);
    expect(failed!.data).toMatchObject({
      eventType: 'booking.created',
      url: receiver.url(FAILING),
      failure: { attemptNumber: 1, responseStatus: 503, responseBodyExcerpt: 'down for maintenance' },
    });

    expect((await publish({ bookingId: 'bk_fail_2' })).status).toBe(202);
    const [disabled] = await awaitNotice('skyhook.subscription.disabled', failing.id);
    expect(disabled!.data).toMatchObject({ reason: 'circuit-breaker', url: receiver.url(FAILING) });
    const lastFailures = disabled!.data['lastFailures'] as { deliveryId: string; responseStatus: number }[];
    // The first delivery's failure was in history before the second was published.
    expect(lastFailures.map((failure) => failure.deliveryId)).toContain(
      (failed!.data as { deliveryId: string }).deliveryId,
    );
    expect(lastFailures.every((failure) => failure.responseStatus === 503)).toBe(true);

    // The second failure fell in the same 15-minute window: the delivery log has it, no second notice.
    await receiver.waitForCount(FAILING, 2, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(noticesOf('skyhook.delivery.failed', failing.id)).toHaveLength(1);
    // `*` is the organisation's own types: the catch-all endpoint got the bookings, no notification.
    const everythingTypes = receiver
      .receivedOn('/everything')
      .map(
        (hook) =>
          (new Webhook(everything.secret).verify(hook.rawBody.toString(), hook.headers) as Notice).type,
      );
    expect(everythingTypes).toEqual(['booking.created', 'booking.created']);

    // The portal's banner reads the same notifications.
    const listed = await api.request({
      method: 'GET',
      url: `/v1/partner-notifications?subscriptionId=${failing.id}`,
      key: apiKey,
    });
    expect(listed.status).toBe(200);
    expect((listed.body['data'] as { type: string }[]).map((notice) => notice.type).sort()).toEqual([
      'skyhook.delivery.failed',
      'skyhook.subscription.disabled',
    ]);
  });

  it('a replay that finishes is notified with what it queued', async () => {
    const replayed = await subscribe('/replayed', { eventTypes: ['booking.*'] });
    const deliveries = receiver.receivedOn('/replayed').length;
    expect((await publish({ bookingId: 'bk_replayed' })).status).toBe(202);
    await receiver.waitForCount('/replayed', deliveries + 1, 30_000);
    // Replays read history: wait for the history service to have the delivery.
    await pollUntil(
      async () => {
        const page = await api.request({
          method: 'GET',
          url: `/v1/subscriptions/${replayed.id}/deliveries`,
          key: apiKey,
        });
        return (page.body['data'] as unknown[] | undefined)?.length === 1 ? true : undefined;
      },
      { timeoutMs: 30_000, description: 'the delivery in history' },
    );
    const started = await api.request({
      method: 'POST',
      url: `/v1/subscriptions/${replayed.id}/replay`,
      key: apiKey,
      body: { since: new Date(startedAt - 60_000).toISOString(), statuses: ['delivered'] },
    });
    expect(started.status).toBe(202);
    const [completed] = await awaitNotice('skyhook.replay.completed', replayed.id);
    expect(completed!.data).toMatchObject({ replayId: started.body['id'], state: 'completed', enqueued: 1 });
  });

  it('a subscription is told 7 days and 1 day before it expires, when its renewal window opens, and when it expired', async () => {
    // Created an hour before the notification endpoint would be: the endpoint outlives it.
    api.clock.set(startedAt - 3_600_000);
    const expiring = await subscribe('/expiring', { eventTypes: ['booking.*'] });
    const expiresAt = Date.parse(
      (await api.request({ method: 'GET', url: `/v1/subscriptions/${expiring.id}`, key: apiKey })).body[
        'expiresAt'
      ] as string,
    );

    api.clock.set(expiresAt - 7 * DAY_MS + 1_000);
    const [weekBefore] = await awaitNotice('skyhook.subscription.expiring', expiring.id);
    expect(weekBefore!.data).toMatchObject({
      leadTimeHours: 168,
      expiresAt: new Date(expiresAt).toISOString(),
    });

    api.clock.set(expiresAt - 5 * DAY_MS + 1_000);
    const [opened] = await awaitNotice('skyhook.subscription.renewal_window_opened', expiring.id);
    expect(opened!.data).toMatchObject({ renewalOpensAt: new Date(expiresAt - 5 * DAY_MS).toISOString() });

    api.clock.set(expiresAt - DAY_MS + 1_000);
    const expiringNotices = await awaitNotice('skyhook.subscription.expiring', expiring.id, 2);
    expect(expiringNotices.map((notice) => notice.data['leadTimeHours'])).toEqual([168, 24]);

    api.clock.set(expiresAt + 1_000);
    await awaitNotice('skyhook.subscription.expired', expiring.id);

    // Each was sent once, however many scans ran meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(noticesOf('skyhook.subscription.expiring', expiring.id)).toHaveLength(2);
    expect(noticesOf('skyhook.subscription.renewal_window_opened', expiring.id)).toHaveLength(1);
    expect(noticesOf('skyhook.subscription.expired', expiring.id)).toHaveLength(1);
  });
});
