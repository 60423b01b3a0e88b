import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeliveryProfileName } from '@skyhook/delivery-policy';
import {
  pollUntil,
  type PublishedEventRecord,
  type ReceivedWebhook,
  runSeedVerifier,
  type SeedVerifierReport,
  type ServiceProcess,
  startService,
  startWebhookReceiver,
  TEST_CA_CERT_PATH,
  testKafkaBrokers,
  type WebhookReceiver,
  writeSeedCapture,
} from '@skyhook/testing';
import { type ApiTestApp, createOrganisation, startApiTestApp } from './api-test-app';

/**
 * One seed contract's whole product path: the api in-process on the system clock, fan-out,
 * dispatcher (and history, when asked) as real processes, all at one SKYHOOK_TIME_SCALE, an
 * HTTPS receiver, and an organisation created through the admin API with the seed's profile.
 * Every request the receiver gets is checked by the seed's Python verifier, which shares no
 * code with the TypeScript signer.
 */
export interface SeedStack {
  readonly api: ApiTestApp;
  readonly receiver: WebhookReceiver;
  readonly apiKey: string;
  readonly organisationId: string;
  readonly timeScale: number;
  /** Creates a subscription through the REST API; `body` adds to `{ url, eventTypes }`. */
  subscribe(path: string, body: Record<string, unknown>): Promise<{ id: string; secret: string }>;
  /** Publishes over POST /v1/events and remembers the event for the verifier. */
  publish(type: string, data: Record<string, unknown>, scope?: Record<string, string>): Promise<string>;
  /** Adds an event published some other way (a test event) to what the verifier matches against. */
  remember(event: PublishedEventRecord): void;
  /**
   * Gives a catalogue type an example, sends the subscription a test event (which then carries
   * it) and remembers it for the verifier; resolves with the api's answer.
   */
  sendTestEvent(
    subscriptionId: string,
    type: string,
    example: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  subscription(id: string): Promise<Record<string, unknown>>;
  /** Waits until the subscription has the status (the breaker's disable goes through Kafka). */
  waitForStatus(id: string, status: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Runs the seed's verifier over the requests; fails the test with the verifier's failures. */
  verify(secret: string, requests: readonly ReceivedWebhook[]): Promise<SeedVerifierReport>;
  close(): Promise<void>;
}

export async function startSeedStack(options: {
  seed: DeliveryProfileName;
  timeScale: number;
  eventTypes: string[];
  withHistory?: boolean;
}): Promise<SeedStack> {
  const timeScale = String(options.timeScale);
  const api = await startApiTestApp({ systemClock: true, environment: { SKYHOOK_TIME_SCALE: timeScale } });
  const receiver = await startWebhookReceiver();
  // SEED_CAPTURE_DIR keeps the captures (e.g. to show a real delivery in docs/profiles).
  const keptCaptures = process.env['SEED_CAPTURE_DIR'];
  const captureDirectory =
    keptCaptures === undefined
      ? await mkdtemp(join(tmpdir(), `skyhook-${options.seed}-`))
      : join(keptCaptures, options.seed);
  const environment = {
    KAFKA_BROKERS: testKafkaBrokers(),
    KAFKA_TOPIC_PREFIX: api.config.kafka.topicPrefix,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    LOG_LEVEL: 'warn',
    SKYHOOK_TIME_SCALE: timeScale,
  };
  const services: ServiceProcess[] = await Promise.all([
    startService('fanout', environment),
    startService('dispatcher', {
      ...environment,
      SECRETS_MASTER_KEY: api.config.SECRETS_MASTER_KEY,
      SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
      NODE_EXTRA_CA_CERTS: TEST_CA_CERT_PATH,
    }),
    ...(options.withHistory === true
      ? [startService('history', { ...environment, DATABASE_URL: api.database.url })]
      : []),
  ]);
  const { apiKey, organisationId } = await createOrganisation(
    api,
    { name: `${options.seed} conformance`, profile: options.seed },
    options.eventTypes,
  );
  const published: PublishedEventRecord[] = [];
  let captures = 0;
  let subscriptionsCreated = 0;
  const fanout = services[0]!;
  // Fan-out learns of subscriptions through Kafka, apart from the events it matches: an event
  // published right after a 201 can reach it first and match nothing. What a seed test checks is
  // delivery, not that race, so a subscription counts as made once fan-out's index holds it.
  const fanoutKnows = (count: number): Promise<unknown> =>
    pollUntil(
      async () => {
        const metrics = await (await fetch(`${fanout.baseUrl}/metrics`)).text();
        const indexed = /^skyhook_fanout_index_subscriptions(?:\{[^}]*\})? (\d+)$/m.exec(metrics)?.[1];
        return indexed !== undefined && Number(indexed) >= count;
      },
      { timeoutMs: 30_000, intervalMs: 50, description: `fan-out indexing ${count} subscriptions` },
    );

  const subscription = async (id: string) =>
    (await api.request({ method: 'GET', url: `/v1/subscriptions/${id}`, key: apiKey })).body;

  return {
    api,
    receiver,
    apiKey,
    organisationId,
    timeScale: options.timeScale,
    subscribe: async (path, body) => {
      const created = await api.request({
        method: 'POST',
        url: '/v1/subscriptions',
        key: apiKey,
        body: { url: receiver.url(path), eventTypes: ['*'], ...body },
      });
      if (created.status !== 201) throw new Error(`subscription refused: ${JSON.stringify(created.body)}`);
      subscriptionsCreated += 1;
      await fanoutKnows(subscriptionsCreated);
      return { id: created.body['id'] as string, secret: created.body['signingSecret'] as string };
    },
    publish: async (type, data, scope = {}) => {
      const occurredAt = new Date().toISOString();
      const answer = await api.request({
        method: 'POST',
        url: '/v1/events',
        key: apiKey,
        body: { type, data, scope, occurredAt },
      });
      if (answer.status !== 202) throw new Error(`event refused: ${JSON.stringify(answer.body)}`);
      const id = answer.body['id'] as string;
      published.push({ id, type, scope, occurredAt, data });
      return id;
    },
    remember: (event) => {
      published.push(event);
    },
    sendTestEvent: async (subscriptionId, type, example) => {
      const registered = await api.request({
        method: 'POST',
        url: '/v1/event-types',
        key: apiKey,
        body: { eventTypes: [{ name: type, example }] },
      });
      if (registered.status !== 200) throw new Error(`example refused: ${JSON.stringify(registered.body)}`);
      const sent = await api.request({
        method: 'POST',
        url: `/v1/subscriptions/${subscriptionId}/test`,
        key: apiKey,
      });
      if (sent.status !== 202) throw new Error(`test event refused: ${JSON.stringify(sent.body)}`);
      published.push({
        id: sent.body['eventId'] as string,
        type: sent.body['type'] as string,
        scope: sent.body['scope'] as Record<string, string>,
        occurredAt: sent.body['occurredAt'] as string,
        data: sent.body['data'] as Record<string, unknown>,
      });
      return sent.body;
    },
    subscription,
    waitForStatus: (id, status, timeoutMs = 30_000) =>
      pollUntil(
        async () => {
          const current = await subscription(id);
          return current['status'] === status ? current : undefined;
        },
        { timeoutMs, intervalMs: 100, description: `subscription ${id} ${status}` },
      ),
    verify: async (secret, requests) => {
      captures += 1;
      const file = join(captureDirectory, `capture-${captures}.json`);
      await writeSeedCapture(file, {
        seed: options.seed,
        secret,
        timeScale: options.timeScale,
        published,
        requests,
      });
      const { exitCode, report, stderr } = await runSeedVerifier(file);
      if (exitCode !== 0 || !report.ok) {
        throw new Error(
          `the ${options.seed} verifier refused the deliveries (exit ${exitCode}):\n${report.failures.join('\n')}\n${stderr}`,
        );
      }
      return report;
    },
    close: async () => {
      await receiver.close();
      await Promise.all(services.map((service) => service.stop()));
      await api.close();
      if (keptCaptures === undefined) await rm(captureDirectory, { recursive: true, force: true });
    },
  };
}
