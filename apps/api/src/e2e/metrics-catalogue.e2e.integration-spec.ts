import { randomBytes } from 'node:crypto';
import {
  type CatalogueSection,
  createTestDatabase,
  type ExposedMetricFamily,
  type ExposedSample,
  loadMetricsCatalogue,
  parsePrometheusExposition,
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

const SERVICES = ['api', 'fanout', 'dispatcher', 'history'] as const;
type ServiceName = (typeof SERVICES)[number];
const SHARED_SECTION = 'Shared by every service';

type Scrape = Map<string, ExposedMetricFamily>;

/** The consumer groups (without the environment's prefix) and topics each service measures the lag of. */
const EXPECTED_LAG_SERIES: Record<ServiceName, string[]> = {
  api: ['subscriptions-read-model/subscriptionEvents', 'api-subscription-commands/subscriptionCommands'],
  fanout: ['fanout/inboundEvents'],
  dispatcher: ['dispatcher/deliveryRequests', 'dispatcher-retries/deliveryRetries1s'],
  history: ['history/deliveryEvents'],
};

function lagSeriesOf(scrape: Scrape): string[] {
  return (scrape.get('skyhook_kafka_consumer_lag')?.samples ?? []).map(
    (sample: ExposedSample) =>
      `${sample.labels['group']?.replace(/^.*skyhook\./, '')}/${sample.labels['topic']}`,
  );
}

/** The sum of the samples of a series with at least the given labels. */
function valueOf(scrape: Scrape, series: string, labels: Record<string, string> = {}): number {
  const family = scrape.get(series.replace(/_(bucket|sum|count)$/, '')) ?? scrape.get(series);
  return (family?.samples ?? [])
    .filter(
      (sample) =>
        sample.name === series &&
        Object.entries(labels).every(([name, value]) => sample.labels[name] === value),
    )
    .reduce((total, sample) => total + sample.value, 0);
}

/**
 * Every metric of docs/metrics.md, read from the document itself, against the four real service
 * processes after real traffic (successes, a 500 retried then delivered, a 400 that fails for
 * good): each is exported by the services its table names, with exactly the documented label
 * names and values from the documented closed sets; nothing is exported that the document does
 * not list; and the delivery figures add up to the traffic sent.
 */
describe('end to end: every service exports exactly the metrics catalogued in docs/metrics.md', () => {
  const catalogue: CatalogueSection[] = loadMetricsCatalogue();
  const adminToken = randomBytes(24).toString('hex');
  let database: TestDatabase;
  let receiver: WebhookReceiver;
  const services = new Map<ServiceName, ServiceProcess>();
  const scrapes = new Map<ServiceName, Scrape>();

  async function call(
    method: string,
    path: string,
    token: string,
    body: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${services.get('api')!.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function scrape(service: ServiceName): Promise<Scrape> {
    const response = await fetch(`${services.get(service)!.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    return parsePrometheusExposition(await response.text());
  }

  beforeAll(async () => {
    database = await createTestDatabase('metrics_catalogue');
    receiver = await startWebhookReceiver({
      behaviour: (request, nthForPath) => {
        if (request.path === '/rejecting') return { status: 400 };
        if (request.path === '/flaky' && nthForPath === 1) return { status: 500 };
        return { status: 200 };
      },
    });
    const environment = {
      KAFKA_BROKERS: testKafkaBrokers(),
      KAFKA_TOPIC_PREFIX: uniqueTopicPrefix(),
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      SECRETS_MASTER_KEY: randomBytes(32).toString('base64'),
      SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
    };
    // The api first: it runs the migrations the history service writes into.
    services.set('api', await startService('api', { ...environment, SKYHOOK_ADMIN_TOKEN: adminToken }));
    const [fanout, dispatcher, history] = await Promise.all([
      startService('fanout', environment),
      startService('dispatcher', { ...environment, NODE_EXTRA_CA_CERTS: TEST_CA_CERT_PATH }),
      startService('history', environment),
    ]);
    services.set('fanout', fanout).set('dispatcher', dispatcher).set('history', history);
    for (const [name, service] of services) {
      await pollUntil(async () => (await fetch(`${service.baseUrl}/health/ready`)).ok, {
        timeoutMs: 30_000,
        intervalMs: 200,
        description: `${name} ready`,
      });
    }

    const organisation = await call('POST', '/admin/v1/organisations', adminToken, {
      name: 'Metrics Aviation',
    });
    expect(organisation.status).toBe(201);
    const apiKey = organisation.body['apiKey'] as string;
    const eventTypes = [
      'booking.created',
      'booking.cancelled',
      'mel.deferral.expiring',
      'FLIGHT_TIME_UPDATE',
    ];
    const registered = await call('POST', '/v1/event-types', apiKey, {
      eventTypes: eventTypes.map((name) => ({ name })),
    });
    expect(registered.status).toBe(200);
    const subscriptions: [string, string, Record<string, unknown>][] = [
      ['/ok', 'booking.created', {}],
      ['/flaky', 'booking.cancelled', { retry: { delaysMs: [500] } }],
      ['/rejecting', 'mel.deferral.expiring', {}],
    ];
    for (const [path, eventType, policy] of subscriptions) {
      const created = await call('POST', '/v1/subscriptions', apiKey, {
        url: receiver.url(path),
        eventTypes: [eventType],
        policy,
      });
      expect(created.status).toBe(201);
    }
    // Fan-out must know the subscriptions before the events arrive, or they match nothing.
    await pollUntil(async () => valueOf(await scrape('fanout'), 'skyhook_fanout_index_subscriptions') === 3, {
      timeoutMs: 20_000,
      intervalMs: 200,
      description: 'fan-out indexing the three subscriptions',
    });
    const published = [
      ...[1, 2, 3].map((n) => ({ type: 'booking.created', data: { bookingId: `bk_${n}` } })),
      { type: 'booking.cancelled', data: { bookingId: 'bk_4' } },
      { type: 'mel.deferral.expiring', data: { itemId: 'mel_1' } },
      { type: 'FLIGHT_TIME_UPDATE', data: { flight: 'SK101' } },
    ];
    for (const event of published) expect((await call('POST', '/v1/events', apiKey, event)).status).toBe(202);

    await receiver.waitForCount('/ok', 3, 30_000);
    await receiver.waitForCount('/flaky', 2, 30_000);
    await receiver.waitForCount('/rejecting', 1, 30_000);
    // Counters move once the attempt is handed on; history and the lag monitors follow.
    await pollUntil(
      async () => {
        for (const service of SERVICES) scrapes.set(service, await scrape(service));
        const dispatcher = scrapes.get('dispatcher')!;
        const attempts = (labels: Record<string, string>) =>
          valueOf(dispatcher, 'skyhook_dispatcher_attempts_total', labels);
        return (
          attempts({ outcome: 'success', result: 'delivered' }) >= 4 &&
          attempts({ outcome: 'http-error', result: 'retry-scheduled' }) >= 1 &&
          attempts({ outcome: 'http-error', result: 'failed' }) >= 1 &&
          valueOf(scrapes.get('history')!, 'skyhook_history_attempt_rows_total', { outcome: 'inserted' }) >=
            6 &&
          // The 400's final failure is notified (skyhook.delivery.failed): a seventh inbound event,
          // which no subscription of this organisation names.
          valueOf(scrapes.get('fanout')!, 'skyhook_fanout_events_total', { outcome: 'no_match' }) >= 2 &&
          SERVICES.every((service) =>
            EXPECTED_LAG_SERIES[service].every((series) =>
              lagSeriesOf(scrapes.get(service)!).includes(series),
            ),
          )
        );
      },
      {
        timeoutMs: 45_000,
        intervalMs: 500,
        description: 'every attempt counted, projected and lag measured',
      },
    );
  }, 150_000);

  afterAll(async () => {
    await receiver?.close();
    await Promise.all([...services.values()].map((service) => service.stop()));
    await database?.drop();
  });

  const servicesOf = (section: CatalogueSection): readonly ServiceName[] =>
    section.heading === SHARED_SECTION ? SERVICES : SERVICES.filter((service) => service === section.heading);

  it('catalogues the shared metrics and one table per service', () => {
    expect(catalogue.map((section) => section.heading).sort()).toEqual([SHARED_SECTION, ...SERVICES].sort());
  });

  it('exports every catalogued metric from its services, with its type and exactly its label names and values', () => {
    const problems: string[] = [];
    for (const section of catalogue) {
      for (const service of servicesOf(section)) {
        const exported = scrapes.get(service)!;
        for (const metric of section.metrics) {
          const family = exported.get(metric.name);
          if (family === undefined) {
            problems.push(`${service}: ${metric.name} is not exported`);
            continue;
          }
          if (family.type !== metric.type) problems.push(`${service}: ${metric.name} is a ${family.type}`);
          const documented = [...metric.labels.map((label) => label.name), 'service'].sort();
          for (const sample of family.samples) {
            const names = Object.keys(sample.labels).filter(
              (name) => !(name === 'le' && sample.name.endsWith('_bucket')),
            );
            if (names.sort().join(',') !== documented.join(',')) {
              problems.push(
                `${service}: ${sample.name} has labels ${names.join(',')}, documented ${documented.join(',')}`,
              );
            }
            if (sample.labels['service'] !== service) {
              problems.push(`${service}: ${sample.name} has service="${sample.labels['service']}"`);
            }
            for (const label of metric.labels) {
              const value = sample.labels[label.name];
              if (label.values !== undefined && value !== undefined && !label.values.includes(value)) {
                problems.push(
                  `${service}: ${sample.name} has ${label.name}="${value}", not in the catalogue`,
                );
              }
            }
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('exports nothing the catalogue does not list', () => {
    const uncatalogued = SERVICES.flatMap((service) => {
      const catalogued = new Set(
        catalogue
          .filter((section) => servicesOf(section).includes(service))
          .flatMap((section) => section.metrics.map((metric) => metric.name)),
      );
      return [...scrapes.get(service)!.keys()]
        .filter((name) => !catalogued.has(name))
        .map((name) => `${service}: ${name}`);
    });
    expect(uncatalogued).toEqual([]);
  });

  it('counts the traffic: three successes, a 500 retried then delivered, a 400 that failed for good', () => {
    const dispatcher = scrapes.get('dispatcher')!;
    const attempts = (labels: Record<string, string>) =>
      valueOf(dispatcher, 'skyhook_dispatcher_attempts_total', labels);
    expect(attempts({ outcome: 'success', result: 'delivered' })).toBe(4);
    expect(attempts({ outcome: 'http-error', result: 'retry-scheduled' })).toBe(1);
    expect(attempts({ outcome: 'http-error', result: 'failed' })).toBe(1);
    expect(
      valueOf(dispatcher, 'skyhook_dispatcher_retries_scheduled_total', { tier: 'deliveryRetries1s' }),
    ).toBe(1);
    expect(
      valueOf(dispatcher, 'skyhook_dispatcher_attempt_duration_seconds_count', { outcome: 'success' }),
    ).toBe(4);
    expect(
      valueOf(dispatcher, 'skyhook_dispatcher_attempt_duration_seconds_count', { outcome: 'http-error' }),
    ).toBe(2);
    expect(valueOf(dispatcher, 'skyhook_dispatcher_publish_to_delivery_seconds_count')).toBe(4);
    // The retried delivery waited at least its 500 ms delay.
    expect(valueOf(dispatcher, 'skyhook_dispatcher_publish_to_delivery_seconds_sum')).toBeGreaterThan(0.5);
    expect(valueOf(dispatcher, 'skyhook_dispatcher_breakers', { state: 'closed' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(dispatcher, 'skyhook_dispatcher_breakers', { state: 'open' })).toBe(0);
    expect(valueOf(dispatcher, 'skyhook_dispatcher_endpoints_disabled_total')).toBe(0);
    expect(valueOf(dispatcher, 'skyhook_kafka_records_produced_total', { topic: 'deliveryEvents' })).toBe(6);
  });

  it('counts fan-out: five events matched one subscription each; one, and the failure notice, matched none; three subscriptions active', () => {
    const fanout = scrapes.get('fanout')!;
    expect(valueOf(fanout, 'skyhook_fanout_events_total', { outcome: 'matched' })).toBe(5);
    expect(valueOf(fanout, 'skyhook_fanout_events_total', { outcome: 'no_match' })).toBe(2);
    expect(valueOf(fanout, 'skyhook_fanout_matches_per_event_count')).toBe(7);
    expect(valueOf(fanout, 'skyhook_fanout_matches_per_event_sum')).toBe(5);
    expect(valueOf(fanout, 'skyhook_fanout_delivery_requests_total', { kind: 'send' })).toBe(5);
    expect(valueOf(fanout, 'skyhook_fanout_subscriptions_by_status', { status: 'active' })).toBe(3);
    expect(valueOf(fanout, 'skyhook_fanout_subscriptions_by_status', { status: 'disabled' })).toBe(0);
    expect(valueOf(fanout, 'skyhook_fanout_index_organisations')).toBeGreaterThanOrEqual(1);
  });

  it('counts history: six attempts projected once each, with a projection delay', () => {
    const history = scrapes.get('history')!;
    expect(valueOf(history, 'skyhook_history_events_projected_total', { type: 'attempted' })).toBe(6);
    expect(valueOf(history, 'skyhook_history_attempt_rows_total', { outcome: 'inserted' })).toBe(6);
    expect(valueOf(history, 'skyhook_history_projection_delay_seconds_count')).toBe(6);
    expect(valueOf(history, 'skyhook_history_batch_failures_total')).toBe(0);
  });

  it('measures consumer lag for each service’s own groups, and the process of every service', () => {
    for (const service of SERVICES) {
      expect(lagSeriesOf(scrapes.get(service)!)).toEqual(
        expect.arrayContaining(EXPECTED_LAG_SERIES[service]),
      );
    }
    expect(
      valueOf(scrapes.get('api')!, 'skyhook_kafka_records_produced_total', { topic: 'inboundEvents' }),
    ).toBe(7);
    for (const service of SERVICES) {
      const scrape = scrapes.get(service)!;
      expect(valueOf(scrape, 'process_cpu_seconds_total')).toBeGreaterThan(0);
      expect(valueOf(scrape, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
      expect(valueOf(scrape, 'nodejs_version_info')).toBe(1);
      expect(valueOf(scrape, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    }
  });
});
