import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DELIVERY_PROFILES,
  type DeliveryProfileName,
  isStandardWebhooksScheme,
} from '@skyhook/delivery-policy';
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  pollUntil,
  type PublishedEventRecord,
  type ReceivedWebhook,
  type ReceiverBehaviour,
  type SeedCapture,
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
  verify(
    secret: string,
    requests: readonly ReceivedWebhook[],
    secretSwitch?: SeedCapture['secretSwitch'],
  ): Promise<SeedVerifierReport>;
  /**
   * Rotates the subscription's secret as docs/profiles tell a partner whose receiver holds exactly
   * one secret and checks signatures as the seed's sample does: rotate with a manual activation,
   * activate, switch the receiver. Meanwhile the receiver at `path` answers 401 to a request its
   * held secret does not verify. `publish` sends one event the subscription receives.
   */
  rotateAsDocumented(
    subscriptionId: string,
    path: string,
    secret: string,
    publish: () => Promise<unknown>,
  ): Promise<SecretRotationRun>;
  /**
   * A seed's whole rotation check: subscribes at `path` (`body` as for `subscribe`), rotates as
   * documented, publishing with `publish(n)` (n = 1, 2, …: each call one distinct event), and fails
   * unless the seed's verifier accepts each half with the one secret the receiver held then, every
   * event was accepted, and the subscription is still active.
   */
  checkRotation(
    path: string,
    body: Record<string, unknown>,
    publish: (n: number) => Promise<unknown>,
  ): Promise<SecretRotationRun>;
  close(): Promise<void>;
}

export interface SecretRotationRun {
  readonly newSecret: string;
  /** Requests signed before the activation (the old secret's) and from it on (the new one's). */
  readonly beforeActivation: ReceivedWebhook[];
  readonly fromActivation: ReceivedWebhook[];
  readonly secretSwitch: { from: number; until: number };
  /** The subscription as the api shows it at the end. */
  readonly subscription: Record<string, unknown>;
}

/** Skyhook's default SECRET_SWITCH_GRACE_SECONDS (wall-clock time, whatever the time scale). */
const SECRET_SWITCH_GRACE_MS = 3_600_000;

/**
 * Whether the seed's sample receiver would accept the request with `secret`: the signature
 * header as that sample reads it (Flightline's keeps the last `v1`), against an HMAC of what the
 * seed signs. Only what drives the receiver's live answers; the Python verifier checks the capture.
 */
function verifiesAsSeedSample(seed: DeliveryProfileName, request: ReceivedWebhook, secret: string): boolean {
  const signature = DELIVERY_PROFILES[seed].policy.signature;
  // No seed signs with ed25519: a Standard Webhooks seed is FL3XX's HMAC.
  if (signature === undefined || isStandardWebhooksScheme(signature)) {
    // Standard Webhooks (FL3XX): the library's verifier, which tries every signature.
    try {
      new Webhook(secret).verify(request.rawBody.toString(), request.headers);
      return true;
    } catch {
      return false;
    }
  }
  const header = request.headers[signature.header.toLowerCase()] ?? '';
  const hmac = createHmac('sha256', secret);
  if (signature.scheme === 'timestamped-hmac-hex') {
    const parts = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]));
    hmac.update(`${parts.get('t') ?? ''}.`);
    return hmac.update(request.rawBody).digest('hex') === parts.get('v1');
  }
  return hmac.update(request.rawBody).digest(signature.scheme === 'hmac-hex' ? 'hex' : 'base64') === header;
}

export async function startSeedStack(options: {
  seed: DeliveryProfileName;
  timeScale: number;
  eventTypes: string[];
  withHistory?: boolean;
}): Promise<SeedStack> {
  const timeScale = String(options.timeScale);
  const api = await startApiTestApp({ systemClock: true, environment: { SKYHOOK_TIME_SCALE: timeScale } });
  const realReceiver = await startWebhookReceiver();
  // A path whose receiver holds a secret answers 401 to what it does not verify; every other
  // request gets the behaviour the spec sets.
  const heldSecrets = new Map<string, string>();
  // The secret a receiver switches to once it has turned a delivery away (its partner's deploy).
  const switchingTo = new Map<string, string>();
  let specBehaviour: ReceiverBehaviour = () => ({ status: 200 });
  realReceiver.setBehaviour((request, nth) => {
    const held = heldSecrets.get(request.path);
    if (held !== undefined && !verifiesAsSeedSample(options.seed, request, held)) {
      const next = switchingTo.get(request.path);
      if (next !== undefined) {
        heldSecrets.set(request.path, next);
        switchingTo.delete(request.path);
      }
      return { status: 401 };
    }
    return specBehaviour(request, nth);
  });
  const receiver: WebhookReceiver = Object.assign(Object.create(realReceiver) as WebhookReceiver, {
    setBehaviour: (behaviour: ReceiverBehaviour) => {
      specBehaviour = behaviour;
    },
  });
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

  const stack: SeedStack = {
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
    verify: async (secret, requests, secretSwitch) => {
      captures += 1;
      const file = join(captureDirectory, `capture-${captures}.json`);
      await writeSeedCapture(file, {
        seed: options.seed,
        secret,
        timeScale: options.timeScale,
        published,
        requests,
        ...(secretSwitch === undefined ? {} : { secretSwitch }),
      });
      const { exitCode, report, stderr } = await runSeedVerifier(file);
      if (exitCode !== 0 || !report.ok) {
        throw new Error(
          `the ${options.seed} verifier refused the deliveries (exit ${exitCode}):\n${report.failures.join('\n')}\n${stderr}`,
        );
      }
      return report;
    },
    checkRotation: async (path, body, publish) => {
      const subscribed = await stack.subscribe(path, body);
      let sent = 0;
      const run = await stack.rotateAsDocumented(subscribed.id, path, subscribed.secret, () =>
        publish((sent += 1)),
      );
      await stack.verify(subscribed.secret, run.beforeActivation);
      await stack.verify(run.newSecret, run.fromActivation, run.secretSwitch);
      const accepted = new Set(
        realReceiver
          .receivedOn(path)
          .filter((request) => request.answer?.status === 200)
          .map((request) => request.rawBody.toString()),
      );
      if (accepted.size !== sent)
        throw new Error(`${accepted.size} of ${sent} events accepted through the rotation`);
      if (run.subscription['status'] !== 'active') {
        throw new Error(`the subscription is ${String(run.subscription['status'])} after the rotation`);
      }
      return run;
    },
    rotateAsDocumented: async (subscriptionId, path, secret, publish) => {
      const answeredOk = () =>
        realReceiver.receivedOn(path).filter((request) => request.answer?.status === 200);
      const deliveredOneMore = async () => {
        const before = answeredOk().length;
        await publish();
        await pollUntil(() => answeredOk().length > before, {
          timeoutMs: 60_000,
          intervalMs: 50,
          description: `one more delivery accepted on ${path}`,
        });
      };
      heldSecrets.set(path, secret);
      await deliveredOneMore();
      // 1. Rotate, activation manual: the new secret is pending and signs nothing yet. (Standard
      // Webhooks' steps rotate at once; a manual activation is the same with one more call.)
      const rotated = await api.request({
        method: 'POST',
        url: `/v1/subscriptions/${subscriptionId}/secret-rotations`,
        key: apiKey,
        body: { activation: 'manual' },
      });
      if (rotated.status !== 200) throw new Error(`rotation refused: ${JSON.stringify(rotated.body)}`);
      const newSecret = rotated.body['signingSecret'] as string;
      await deliveredOneMore();
      // 2. Activate: from now on the new secret signs.
      const activatedAt = Date.now();
      const activated = await api.request({
        method: 'POST',
        url: `/v1/subscriptions/${subscriptionId}/secrets/${rotated.body['secretId'] as string}/activation`,
        key: apiKey,
      });
      if (activated.status !== 200) throw new Error(`activation refused: ${JSON.stringify(activated.body)}`);
      // 3. Switch the receiver: as a deploy would, once it has turned a delivery away; where the
      // header carries both signatures (Standard Webhooks), nothing is turned away and it switches
      // once the new one signs. Events go until then (the dispatcher hears of the activation
      // through Kafka, a moment later).
      const severalSignatures =
        (DELIVERY_PROFILES[options.seed].policy.signature ?? { scheme: 'standard-webhooks' }).scheme ===
        'standard-webhooks';
      const signedWithNew = (request: ReceivedWebhook) =>
        severalSignatures
          ? verifiesAsSeedSample(options.seed, request, newSecret)
          : request.answer?.status === 401;
      switchingTo.set(path, newSecret);
      for (let tries = 0; !realReceiver.receivedOn(path).some(signedWithNew); tries += 1) {
        if (tries === 20) throw new Error('no delivery signed with the new secret after its activation');
        await deliveredOneMore();
      }
      if (severalSignatures) {
        heldSecrets.set(path, newSecret);
        switchingTo.delete(path);
      }
      await deliveredOneMore();
      const requests = realReceiver.receivedOn(path);
      const firstRejected = requests.findIndex(signedWithNew);
      return {
        newSecret,
        beforeActivation: requests.slice(0, firstRejected),
        fromActivation: requests.slice(firstRejected),
        secretSwitch: { from: activatedAt, until: activatedAt + SECRET_SWITCH_GRACE_MS },
        subscription: await subscription(subscriptionId),
      };
    },
    close: async () => {
      await receiver.close();
      await Promise.all(services.map((service) => service.stop()));
      await api.close();
      if (keptCaptures === undefined) await rm(captureDirectory, { recursive: true, force: true });
    },
  };
  return stack;
}
