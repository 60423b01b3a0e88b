/**
 * `npm start`: brings up Kafka and PostgreSQL (see provisionInfrastructure for where they come
 * from), then the four services from the build output, each migrating what it owns at start,
 * and the partner portal. Unless SKYHOOK_DEMO=false, a demo organisation with a loopback receiver
 * and a steady trickle of events, and a portal link to see it in the browser (demo-organisation.ts).
 * Ctrl-C stops the services gracefully, then whatever infrastructure this command started.
 *
 * `npm run start:cluster` (`--cluster`): the production shape instead — three Kafka brokers
 * (replication 3, min ISR 2) and two instances of fan-out and of the dispatcher.
 */
import './workspace-paths';
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureDatabase } from '../postgres-provider';
import { provisionInfrastructure, type ProvisionedInfrastructure } from '../provision-infrastructure';
import { type RunningDemo, startDemo } from '../demo-organisation';
import { type AppName, SERVICE_NAMES, launchServiceProcess, type ServiceName } from '../service-launch';
import { workspaceRoot } from '../workspace-root';

const DEFAULT_PORTS: Record<AppName, number> = {
  api: 3000,
  fanout: 3001,
  dispatcher: 3002,
  history: 3003,
  portal: 3100,
};
const DEFAULT_DEMO_RECEIVER_PORT = 3199;
const READY_DEADLINE_MS = 90_000;
const CLUSTER = process.argv.includes('--cluster');
/** In the cluster shape, as the deploy manifests: the Kafka consumers that scale run twice. */
const CLUSTER_INSTANCES: Readonly<Record<ServiceName, number>> = {
  api: 1,
  fanout: 2,
  dispatcher: 2,
  history: 1,
};
/** A second instance listens this far above the first one's port. */
const INSTANCE_PORT_STEP = 100;

interface RunningService {
  readonly name: AppName;
  /** The name, with the instance number after the first. */
  readonly label: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

function say(message: string): void {
  process.stderr.write(`[skyhook] ${message}\n`);
}

function portOf(name: AppName): number {
  const configured = process.env[`SKYHOOK_${name.toUpperCase()}_PORT`];
  return configured === undefined ? DEFAULT_PORTS[name] : Number(configured);
}

function launch(name: AppName, instance: number, environment: Record<string, string>): RunningService {
  const port = portOf(name) + instance * INSTANCE_PORT_STEP;
  const label = instance === 0 ? name : `${name}#${instance + 1}`;
  const child = launchServiceProcess(
    name,
    { ...process.env, ...environment, PORT: String(port) },
    // Own process group: Ctrl-C reaches this runner only, which then stops services in order.
    { detached: true },
  );
  for (const stream of [child.stdout, child.stderr]) {
    if (stream !== null) {
      createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${label}] ${line}\n`));
    }
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, label, port, child, exited };
}

async function persistedSecret(stateDir: string, name: string, bytes: number): Promise<string> {
  const file = join(stateDir, name);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const value = randomBytes(bytes).toString('base64url');
    await mkdir(stateDir, { recursive: true });
    await writeFile(file, value, { mode: 0o600 });
    return value;
  }
}

async function waitUntilReady(service: RunningService): Promise<void> {
  const giveUpAt = Date.now() + READY_DEADLINE_MS;
  let exited = false;
  void service.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${service.label} exited during start-up (see its lines above)`);
    try {
      const response = await fetch(`http://127.0.0.1:${service.port}/health/ready`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > giveUpAt) throw new Error(`${service.label} not ready after ${READY_DEADLINE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function stopAll(
  services: RunningService[],
  infrastructure: ProvisionedInfrastructure | undefined,
  demo: RunningDemo | undefined,
): Promise<void> {
  await demo?.stop();
  for (const service of services) {
    if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGTERM');
  }
  await Promise.all(services.map((service) => service.exited));
  await infrastructure?.stop();
}

async function main(): Promise<void> {
  let infrastructure: ProvisionedInfrastructure | undefined;
  let demo: RunningDemo | undefined;
  const services: RunningService[] = [];
  let stopping = false;
  const stop = (exitCode: number): void => {
    if (stopping) return;
    stopping = true;
    say('stopping services, then infrastructure…');
    stopAll(services, infrastructure, demo).then(
      () => process.exit(exitCode),
      (error: unknown) => {
        say(`stop failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));

  try {
    infrastructure = await provisionInfrastructure({
      stateDir: join(workspaceRoot(), '.skyhook'),
      persistent: true,
      kafkaCluster: CLUSTER,
      log: say,
    });
    const databaseUrl =
      process.env['DATABASE_URL'] ?? (await ensureDatabase(infrastructure.postgresAdminUrl, 'skyhook'));
    const stateDir = join(workspaceRoot(), '.skyhook');
    const environment = {
      KAFKA_BROKERS: infrastructure.kafkaBrokers,
      ...(CLUSTER ? { KAFKA_REPLICATION_FACTOR: '3' } : {}),
      DATABASE_URL: databaseUrl,
      // Local use: generated once and kept in .skyhook/, so secrets stored earlier still decrypt.
      SECRETS_MASTER_KEY:
        process.env['SECRETS_MASTER_KEY'] ?? (await persistedSecret(stateDir, 'master-key', 32)),
      SKYHOOK_ADMIN_TOKEN:
        process.env['SKYHOOK_ADMIN_TOKEN'] ?? (await persistedSecret(stateDir, 'admin-token', 24)),
      // Receivers on this machine (http://localhost:…) are the common case when running locally.
      SKYHOOK_ALLOW_HTTP_LOOPBACK: process.env['SKYHOOK_ALLOW_HTTP_LOOPBACK'] ?? 'true',
      // The api mints portal links to the portal started below; the portal acts through the api.
      PORTAL_PUBLIC_URL: process.env['PORTAL_PUBLIC_URL'] ?? `http://127.0.0.1:${portOf('portal')}`,
      SKYHOOK_API_URL: process.env['SKYHOOK_API_URL'] ?? `http://127.0.0.1:${portOf('api')}`,
    };
    for (const name of [...SERVICE_NAMES, 'portal'] as const) {
      for (
        let instance = 0;
        instance < (CLUSTER && name !== 'portal' ? CLUSTER_INSTANCES[name] : 1);
        instance += 1
      ) {
        const service = launch(name, instance, environment);
        services.push(service);
        void service.exited.then((code) => {
          if (!stopping) {
            say(`${service.label} exited with code ${String(code)}; stopping the stack`);
            stop(1);
          }
        });
      }
    }
    await Promise.all(services.map((service) => waitUntilReady(service)));
    say('Skyhook is running (Ctrl-C stops it):');
    say(`  admin token (Authorization: Bearer …) ${environment.SKYHOOK_ADMIN_TOKEN}`);
    say(
      environment.SKYHOOK_ALLOW_HTTP_LOOPBACK === 'true'
        ? '  loopback endpoints allowed (SKYHOOK_ALLOW_HTTP_LOOPBACK=true): http://localhost receivers work; never in production'
        : '  loopback endpoints refused (SKYHOOK_ALLOW_HTTP_LOOPBACK=false)',
    );
    for (const service of services) {
      say(`  ${service.label.padEnd(12)} http://127.0.0.1:${service.port}  (/health/ready, /metrics)`);
    }
    if (process.env['SKYHOOK_DEMO'] !== 'false') {
      demo = await startDemo({
        apiUrl: environment.SKYHOOK_API_URL,
        adminToken: environment.SKYHOOK_ADMIN_TOKEN,
        receiverPort: Number(process.env['SKYHOOK_DEMO_RECEIVER_PORT'] ?? DEFAULT_DEMO_RECEIVER_PORT),
        log: say,
      });
      say(
        `  demo: organisation ${demo.organisationId}, receiver ${demo.receiverUrl} (every 4th webhook answered 503),`,
      );
      say('        an event every 5 s (SKYHOOK_DEMO=false turns the demo off). Open it in the portal:');
      say(`  ${await demo.portalLink()}   (opens once, within 15 minutes)`);
    }
  } catch (error) {
    say(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
    stop(1);
  }
}

void main();
