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
  startLocalKafkaCluster,
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
  /** Node options for every service process (e.g. `--cpu-prof` in a benchmark). */
  readonly serviceNodeOptions?: readonly string[];
  /**
   * `single`: one broker (the default). `cluster`: three brokers, every topic replicated three
   * times with two in sync to write, as production runs it.
   */
  readonly kafka?: 'single' | 'cluster';
  /** Instances per service (default one each); every instance is its own process and group member. */
  readonly instances?: Readonly<Partial<Record<ServiceName, number>>>;
  readonly log?: (line: string) => void;
}

/** The stack's Kafka: one node, or a cluster's three; each can be stopped, killed and restarted. */
export interface ChaosKafka {
  readonly bootstrapServers: string;
  readonly nodes: readonly LocalKafkaBroker[];
  /** Every partition led and every replica in sync (a single node: every partition led). */
  waitUntilFullyReplicated(): Promise<void>;
}

/**
 * The whole product on its own Kafka broker (a real single-node KRaft broker from the Maven jars,
 * on a data directory of its own, so that killing it harms nobody else), its own database, the
 * four services as real processes from the build output and a real HTTP receiver; an
 * organisation with an API key and subscriptions created through the REST API. Services and the
 * broker can be SIGKILLed and started again on the same ports and data.
 */
export interface ChaosStack {
  readonly kafka: ChaosKafka;
  readonly receiver: WebhookReceiver;
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly organisationId: string;
  readonly subscriptions: readonly ChaosSubscription[];
  readonly databaseUrl: string;
  /** How many instances of the service run. */
  instancesOf(name: ServiceName): number;
  /** An instance of the service (the first by default). */
  service(name: ServiceName, instance?: number): ServiceProcess;
  /** SIGKILL (or the given signal) to one instance; resolves once the process has gone. */
  killService(name: ServiceName, instance?: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts the instance again on its port; resolves once it answers its liveness probe. */
  startService(name: ServiceName, instance?: number): Promise<void>;
  /** Every instance's stderr and stdout so far, for a failure message. */
  serviceOutput(name: ServiceName): string;
  close(): Promise<void>;
}

interface RunningService {
  readonly name: ServiceName;
  /** The service's name, with the instance number after the first. */
  readonly label: string;
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
    const clustered = options.kafka === 'cluster';
    const [kafka, databaseUrl, receiver] = await Promise.all([
      startKafka(join(dataDir, 'kafka'), clustered, log),
      ensureDatabase(options.postgresAdminUrl, databaseName),
      startWebhookReceiver({ tls: false }),
    ]);
    cleanups.push(
      () => Promise.all(kafka.nodes.map((node) => node.stop())),
      () => dropDatabase(options.postgresAdminUrl, databaseName),
      () => receiver.close(),
    );

    const adminToken = randomBytes(ADMIN_TOKEN_BYTES).toString('base64url');
    const common = {
      KAFKA_BROKERS: kafka.bootstrapServers,
      KAFKA_TOPIC_PREFIX: `chaos-${suffix}.`,
      ...(clustered ? { KAFKA_REPLICATION_FACTOR: '3' } : {}),
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
    const services = new Map<ServiceName, RunningService[]>();
    const launch = async (running: RunningService): Promise<void> => {
      running.process = spawnService(
        running.name,
        { ...running.environment, PORT: String(running.port) },
        { nodeOptions: options.serviceNodeOptions ?? [] },
      );
      await waitUntilAnswering(running, '/health/live');
    };
    cleanups.push(() => Promise.all([...services.values()].flat().map((running) => running.process.stop())));
    const startInstance = async (name: ServiceName, instance: number): Promise<RunningService> => {
      const running: RunningService = {
        name,
        label: instance === 0 ? name : `${name} #${instance + 1}`,
        port: await findFreeLoopbackPort(),
        environment: { ...environments[name], HOST: '127.0.0.1' },
        process: undefined as unknown as ServiceProcess,
        earlierOutput: '',
      };
      await launch(running);
      await waitUntilAnswering(running, '/health/ready');
      return running;
    };
    // The first instance of each service provisions the topics; the others then join their groups.
    await Promise.all(
      SERVICE_NAMES.map(async (name) => {
        services.set(name, [await startInstance(name, 0)]);
      }),
    );
    await Promise.all(
      SERVICE_NAMES.map(async (name) => {
        for (let instance = 1; instance < (options.instances?.[name] ?? 1); instance += 1) {
          services.get(name)!.push(await startInstance(name, instance));
        }
      }),
    );
    const runningService = (name: ServiceName, instance = 0): RunningService => {
      const running = services.get(name)?.[instance];
      if (running === undefined) throw new Error(`${name} #${instance + 1} is not part of the stack`);
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
    log(`stack ready: api ${apiUrl}, Kafka ${kafka.bootstrapServers}, database ${databaseName}`);

    return {
      kafka,
      receiver,
      apiUrl,
      apiKey,
      organisationId,
      subscriptions,
      databaseUrl,
      instancesOf: (name) => services.get(name)?.length ?? 0,
      service: (name, instance) => runningService(name, instance).process,
      killService: async (name, instance, signal = 'SIGKILL') => {
        const running = runningService(name, instance);
        await running.process.stop(signal);
        running.earlierOutput += running.process.stderr() + running.process.stdout();
      },
      startService: (name, instance) => launch(runningService(name, instance)),
      serviceOutput: (name) =>
        (services.get(name) ?? [])
          .map((running) => running.earlierOutput + running.process.stderr() + running.process.stdout())
          .join(''),
      close: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

async function startKafka(
  dataDir: string,
  clustered: boolean,
  log: (line: string) => void,
): Promise<ChaosKafka> {
  if (clustered) {
    const cluster = await startLocalKafkaCluster({ dataDir, persistent: true, log });
    return {
      bootstrapServers: cluster.bootstrapServers,
      nodes: cluster.nodes,
      waitUntilFullyReplicated: () => cluster.waitUntilFullyReplicated(),
    };
  }
  const broker = await startLocalKafka({ dataDir, persistent: true, log });
  return {
    bootstrapServers: broker.bootstrapServers,
    nodes: [broker],
    waitUntilFullyReplicated: () => Promise.resolve(),
  };
}

async function waitUntilAnswering(running: RunningService, path: string): Promise<void> {
  const name = running.label;
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
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
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
