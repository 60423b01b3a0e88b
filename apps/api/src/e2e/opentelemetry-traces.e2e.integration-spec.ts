import { randomBytes } from 'node:crypto';
import {
  apiRequest,
  type ApiAnswer,
  createTestDatabase,
  type ExportedSpan,
  type OtlpReceiver,
  startOtlpReceiver,
  pollUntil,
  type ServiceProcess,
  startService,
  startWebhookReceiver,
  TEST_CA_CERT_PATH,
  type TestDatabase,
  testKafkaBrokers,
  uniqueTopicPrefix,
  type WebhookReceiver,
} from '@skyhook/testing';

/**
 * OpenTelemetry across the four services (ADR 0035): each a process of its own exporting to an
 * OTLP receiver on loopback, one event published, and the one trace it leaves checked span by
 * span: the api's request, fan-out's handling of the inbound record, the dispatcher's handling of
 * the delivery request and its webhook attempt, history's handling of the attempt's event.
 */
describe('end to end: one trace from POST /v1/events to the history write', () => {
  const adminToken = randomBytes(24).toString('hex');
  let database: TestDatabase;
  let receiver: WebhookReceiver;
  let otlp: OtlpReceiver;
  const services: ServiceProcess[] = [];
  let api: ServiceProcess;

  const call = (path: string, token: string, body: unknown): Promise<ApiAnswer> =>
    apiRequest(api.baseUrl, token, 'POST', path, body);

  beforeAll(async () => {
    database = await createTestDatabase('opentelemetry');
    receiver = await startWebhookReceiver();
    otlp = await startOtlpReceiver();
    const environment = {
      KAFKA_BROKERS: testKafkaBrokers(),
      KAFKA_TOPIC_PREFIX: uniqueTopicPrefix(),
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      SECRETS_MASTER_KEY: randomBytes(32).toString('base64'),
      SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
      // The standard variables, and nothing else, switch tracing on and point it at the receiver.
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    api = await startService('api', { ...environment, SKYHOOK_ADMIN_TOKEN: adminToken });
    services.push(api);
    services.push(
      ...(await Promise.all([
        startService('fanout', environment),
        startService('dispatcher', { ...environment, NODE_EXTRA_CA_CERTS: TEST_CA_CERT_PATH }),
        startService('history', environment),
      ])),
    );
    for (const service of services) {
      await pollUntil(async () => (await fetch(`${service.baseUrl}/health/ready`)).ok, {
        timeoutMs: 30_000,
        intervalMs: 200,
        description: 'services ready',
      });
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await receiver?.close();
    await otlp?.close();
    await database?.drop();
  });

  it('links the api request, fan-out, the dispatcher and its webhook attempt, and the history write in one trace', async () => {
    const organisation = await call('/admin/v1/organisations', adminToken, { name: 'Traced Aviation' });
    expect(organisation.status).toBe(201);
    const apiKey = organisation.body['apiKey'] as string;
    expect(
      (await call('/v1/event-types', apiKey, { eventTypes: [{ name: 'booking.created' }] })).status,
    ).toBe(200);
    const subscription = await call('/v1/subscriptions', apiKey, {
      url: receiver.url('/traced?token=partner-secret'),
      eventTypes: ['booking.created'],
    });
    expect(subscription.status).toBe(201);
    // The subscription reaches fan-out through its log: publish until one delivery arrives.
    await pollUntil(
      async () => {
        const published = await call('/v1/events', apiKey, {
          id: `evt_${randomBytes(6).toString('hex')}`,
          type: 'booking.created',
          data: { bookingId: 'bk_1' },
        });
        expect(published.status).toBe(202);
        return receiver.receivedOn('/traced?token=partner-secret').length > 0;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, description: 'a traced event delivered' },
    );
    const [delivered] = receiver.receivedOn('/traced?token=partner-secret');
    // A trace's ids stay inside Skyhook: the partner gets no trace context.
    expect(delivered?.headers['traceparent']).toBeUndefined();
    const deliveryId = delivered?.headers['webhook-id'];

    const trace = await pollUntil(
      () => {
        const attempt = otlp.spans.find(
          (span) =>
            span.service === 'skyhook-dispatcher' &&
            span.kind === 3 &&
            span.attributes['skyhook.delivery.id'] === deliveryId,
        );
        if (attempt === undefined) return undefined;
        const inTrace = otlp.spans.filter((span) => span.traceId === attempt.traceId);
        const history = inTrace.find(
          (span) => span.service === 'skyhook-history' && span.name.includes('deliveries.events'),
        );
        return history === undefined ? undefined : { attempt, inTrace, history };
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'the delivery’s spans exported' },
    );
    const byId = new Map(trace.inTrace.map((span) => [span.spanId, span]));
    const parentOf = (span: ExportedSpan): ExportedSpan | undefined => byId.get(span.parentSpanId);

    // history ← dispatcher's handling of the request ← fan-out's handling of the event ← the api's request.
    const dispatched = parentOf(trace.history);
    expect(dispatched).toMatchObject({ service: 'skyhook-dispatcher', kind: 5 });
    expect(dispatched?.name).toContain('deliveries.requests');
    expect(parentOf(trace.attempt)).toBe(dispatched);
    expect(trace.attempt.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'skyhook.attempt.number': 1,
    });
    // The URL without its query: a token a partner put there stays out of traces.
    expect(trace.attempt.attributes['url.full']).toBe(receiver.url('/traced'));
    const fannedOut = parentOf(dispatched!);
    expect(fannedOut).toMatchObject({ service: 'skyhook-fanout', kind: 5 });
    expect(fannedOut?.name).toContain('events.in');
    let root = fannedOut;
    while (root !== undefined && root.service === 'skyhook-fanout') root = parentOf(root);
    while (root !== undefined && parentOf(root) !== undefined) root = parentOf(root);
    expect(root).toMatchObject({ service: 'skyhook-api', kind: 2 });
    expect(root?.attributes['url.path'] ?? root?.attributes['http.target']).toBe('/v1/events');
  }, 120_000);
});
