import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dropDatabase,
  ensureDatabase,
  findFreeLoopbackPort,
  type LocalKafkaBroker,
  SERVICE_NAMES,
  type ServiceName,
  startLocalKafka,
} from '@skyhook/local-infrastructure';
import { pollUntil } from '../poll-until';
import { type ServiceProcess, spawnService } from '../service-process';
import { uniqueSuffix } from '../unique-names';
import { startWebhookReceiver, type WebhookReceiver } from '../webhook-receiver';

/** The event type every chaos event has, registered in the organisation's catalogue. */
export const CHAOS_EVENT_TYPE = 'booking.created';
/** What the stack publishes to learn that fan-out knows the subscriptions; no audit counts it. */
export const PROBE_EVENT_TYPE = 'booking.probe';

export interface ChaosSubscription {
  readonly id: string;
  readonly path: string;
}

export interface ChaosStackOptions {
  /** A PostgreSQL URL allowed to create databases: the stack makes (and drops) one of its own. */
  readonly postgresAdminUrl: string;
  /** Names the database and the data directory, for whoever finds them left behind. */
  readonly label: string;
  /** How many subscriptions (each its own receiver path) match every event. */
  readonly subscriptions?: number;
  /** Settings for every service over the stack's, e.g. `KAFKA_SESSION_TIMEOUT_MS`. */
  readonly serviceEnvironment?: Readonly<Record<string, string>>;
  readonly log?: (line: string) => void;
}

/**
 * The whole product on its own Kafka broker (a real single-node KRaft broker from the Maven jars,
 * on a data directory of its own, so that killing it harms nobody else), its own database, the
 * four services as real processes from the build output and a real HTTP receiver; an
 * organisation with an API key and subscriptions created through the REST API. Services and the
 * broker can be SIGKILLed and started again on the same ports and data.
 */
export interface ChaosStack {
  readonly broker: LocalKafkaBroker;
  readonly receiver: WebhookReceiver;
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly organisationId: string;
  readonly subscriptions: readonly ChaosSubscription[];
  readonly databaseUrl: string;
  service(name: ServiceName): ServiceProcess;
  /** SIGKILL; resolves once the process has gone. */
  killService(name: ServiceName): Promise<void>;
  /** Starts the service again on its port; resolves once it answers its liveness probe. */
  startService(name: ServiceName): Promise<void>;
  /** Every service's stderr and stdout so far, for a failure message. */
  serviceOutput(name: ServiceName): string;
  close(): Promise<void>;
}

interface RunningService {
  readonly port: number;
  readonly environment: Record<string, string>;
  process: ServiceProcess;
  /** Output of the instances killed before this one. */
  earlierOutput: string;
}

const ADMIN_TOKEN_BYTES = 24;

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const log = options.log ?? (() => undefined);
  const suffix = uniqueSuffix();
  const dataDir = await mkdtemp(join(tmpdir(), `skyhook-${options.label}-`));
  const databaseName = `skyhook_${options.label.replace(/[^a-z0-9]/g, '_').slice(0, 30)}_${suffix}`;
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dataDir, { recursive: true, force: true })];
  const cleanUp = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };

  try {
    const [broker, databaseUrl, receiver] = await Promise.all([
      startLocalKafka({ dataDir: join(dataDir, 'kafka'), persistent: true, log }),
      ensureDatabase(options.postgresAdminUrl, databaseName),
      startWebhookReceiver({ tls: false }),
    ]);
    cleanups.push(
      () => broker.stop(),
      () => dropDatabase(options.postgresAdminUrl, databaseName),
      () => receiver.close(),
    );

    const adminToken = randomBytes(ADMIN_TOKEN_BYTES).toString('base64url');
    const common = {
      KAFKA_BROKERS: broker.bootstrapServers,
      KAFKA_TOPIC_PREFIX: `chaos-${suffix}.`,
      LOG_LEVEL: 'warn',
      ...options.serviceEnvironment,
    };
    const secrets = {
      SECRETS_MASTER_KEY: randomBytes(32).toString('base64'),
      SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
    };
    const environments: Record<ServiceName, Record<string, string>> = {
      api: { ...common, ...secrets, DATABASE_URL: databaseUrl, SKYHOOK_ADMIN_TOKEN: adminToken },
      fanout: common,
      dispatcher: { ...common, ...secrets },
      history: { ...common, DATABASE_URL: databaseUrl },
    };
    const services = new Map<ServiceName, RunningService>();
    const launch = async (name: ServiceName, running: RunningService): Promise<void> => {
      running.process = spawnService(name, { ...running.environment, PORT: String(running.port) });
      await waitUntilAnswering(name, running, '/health/live');
    };
    cleanups.push(() => Promise.all([...services.values()].map((running) => running.process.stop())));
    await Promise.all(
      SERVICE_NAMES.map(async (name) => {
        const running: RunningService = {
          port: await findFreeLoopbackPort(),
          environment: { ...environments[name], HOST: '127.0.0.1' },
          process: undefined as unknown as ServiceProcess,
          earlierOutput: '',
        };
        services.set(name, running);
        await launch(name, running);
        await waitUntilAnswering(name, running, '/health/ready');
      }),
    );
    const runningService = (name: ServiceName): RunningService => {
      const running = services.get(name);
      if (running === undefined) throw new Error(`${name} is not part of the stack`);
      return running;
    };

    const apiUrl = runningService('api').process.baseUrl;
    const { organisationId, apiKey } = await createOrganisation(apiUrl, adminToken);
    const subscriptions: ChaosSubscription[] = [];
    for (let i = 0; i < (options.subscriptions ?? 2); i += 1) {
      const path = `/partner-${i + 1}`;
      const created = await apiRequest(apiUrl, apiKey, 'POST', '/v1/subscriptions', {
        url: receiver.url(path),
        eventTypes: ['booking.*'],
      });
      if (created.status !== 201) throw new Error(`subscription refused: ${JSON.stringify(created.body)}`);
      subscriptions.push({ id: created.body['id'] as string, path });
    }
    await waitUntilSubscriptionsMatch(apiUrl, apiKey, receiver, subscriptions);
    log(`stack ready: api ${apiUrl}, Kafka ${broker.bootstrapServers}, database ${databaseName}`);

    return {
      broker,
      receiver,
      apiUrl,
      apiKey,
      organisationId,
      subscriptions,
      databaseUrl,
      service: (name) => runningService(name).process,
      killService: async (name) => {
        const running = runningService(name);
        await running.process.stop('SIGKILL');
        running.earlierOutput += running.process.stderr() + running.process.stdout();
      },
      startService: (name) => launch(name, runningService(name)),
      serviceOutput: (name) => {
        const running = runningService(name);
        return running.earlierOutput + running.process.stderr() + running.process.stdout();
      },
      close: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

async function waitUntilAnswering(name: ServiceName, running: RunningService, path: string): Promise<void> {
  let exitCode: number | null | undefined;
  const instance = running.process;
  void instance.exited.then((code) => (exitCode = code));
  try {
    await pollUntil(
      async () => {
        if (exitCode !== undefined) throw new Error(`${name} exited with ${String(exitCode)}`);
        return (await fetch(`${instance.baseUrl}${path}`, { signal: AbortSignal.timeout(5_000) })).ok;
      },
      { timeoutMs: 90_000, intervalMs: 200, description: `${name} answering ${path}` },
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\nstderr:\n${instance.stderr().slice(-4_000)}\nstdout:\n${instance.stdout().slice(-4_000)}`,
    );
  }
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

export async function apiRequest(
  apiUrl: string,
  bearer: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  options: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ApiAnswer> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

async function createOrganisation(
  apiUrl: string,
  adminToken: string,
): Promise<{ organisationId: string; apiKey: string }> {
  const created = await apiRequest(apiUrl, adminToken, 'POST', '/admin/v1/organisations', {
    name: 'Chaos Aviation',
  });
  if (created.status !== 201) throw new Error(`organisation not created: ${JSON.stringify(created.body)}`);
  const apiKey = created.body['apiKey'] as string;
  const organisationId = (created.body['organisation'] as { id: string }).id;
  const registered = await apiRequest(apiUrl, apiKey, 'POST', '/v1/event-types', {
    eventTypes: [{ name: CHAOS_EVENT_TYPE }, { name: PROBE_EVENT_TYPE }],
  });
  if (registered.status !== 200) {
    throw new Error(`catalogue not registered: ${JSON.stringify(registered.body)}`);
  }
  return { organisationId, apiKey };
}

/**
 * Fan-out learns of subscriptions through Kafka: an event published before it has would match
 * nothing. One probe event per try, until one reaches every subscription's path.
 */
async function waitUntilSubscriptionsMatch(
  apiUrl: string,
  apiKey: string,
  receiver: WebhookReceiver,
  subscriptions: readonly ChaosSubscription[],
): Promise<void> {
  await pollUntil(
    async () => {
      await apiRequest(apiUrl, apiKey, 'POST', '/v1/events', {
        type: PROBE_EVENT_TYPE,
        data: { probe: true },
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return subscriptions.every((subscription) => receiver.receivedOn(subscription.path).length > 0);
    },
    { timeoutMs: 60_000, intervalMs: 0, description: 'a probe event delivered to every subscription' },
  );
}
