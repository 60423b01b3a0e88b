/**
 * `npm start`: brings up Kafka and PostgreSQL (see provisionInfrastructure for where they come
 * from), then the four services from the build output, each migrating what it owns at start.
 * Ctrl-C stops the services gracefully, then whatever infrastructure this command started.
 */
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureDatabase } from '../postgres-provider';
import { provisionInfrastructure, type ProvisionedInfrastructure } from '../provision-infrastructure';
import { SERVICE_NAMES, launchServiceProcess, type ServiceName } from '../service-launch';
import { workspaceRoot } from '../workspace-root';

const DEFAULT_PORTS: Record<ServiceName, number> = {
  api: 3000,
  fanout: 3001,
  dispatcher: 3002,
  history: 3003,
};
const READY_DEADLINE_MS = 90_000;

interface RunningService {
  readonly name: ServiceName;
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

function say(message: string): void {
  process.stderr.write(`[skyhook] ${message}\n`);
}

function portOf(name: ServiceName): number {
  const configured = process.env[`SKYHOOK_${name.toUpperCase()}_PORT`];
  return configured === undefined ? DEFAULT_PORTS[name] : Number(configured);
}

function launch(name: ServiceName, environment: Record<string, string>): RunningService {
  const port = portOf(name);
  const child = launchServiceProcess(
    name,
    { ...process.env, ...environment, PORT: String(port) },
    // Own process group: Ctrl-C reaches this runner only, which then stops services in order.
    { detached: true },
  );
  for (const stream of [child.stdout, child.stderr]) {
    if (stream !== null) {
      createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
    }
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, port, child, exited };
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
    if (exited) throw new Error(`${service.name} exited during start-up (see its lines above)`);
    try {
      const response = await fetch(`http://127.0.0.1:${service.port}/health/ready`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > giveUpAt) throw new Error(`${service.name} not ready after ${READY_DEADLINE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function stopAll(
  services: RunningService[],
  infrastructure: ProvisionedInfrastructure | undefined,
): Promise<void> {
  for (const service of services) {
    if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGTERM');
  }
  await Promise.all(services.map((service) => service.exited));
  await infrastructure?.stop();
}

async function main(): Promise<void> {
  let infrastructure: ProvisionedInfrastructure | undefined;
  const services: RunningService[] = [];
  let stopping = false;
  const stop = (exitCode: number): void => {
    if (stopping) return;
    stopping = true;
    say('stopping services, then infrastructure…');
    stopAll(services, infrastructure).then(
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
      log: say,
    });
    const databaseUrl =
      process.env['DATABASE_URL'] ?? (await ensureDatabase(infrastructure.postgresAdminUrl, 'skyhook'));
    const stateDir = join(workspaceRoot(), '.skyhook');
    const environment = {
      KAFKA_BROKERS: infrastructure.kafkaBrokers,
      DATABASE_URL: databaseUrl,
      // Local use: generated once and kept in .skyhook/, so secrets stored earlier still decrypt.
      SECRETS_MASTER_KEY:
        process.env['SECRETS_MASTER_KEY'] ?? (await persistedSecret(stateDir, 'master-key', 32)),
      SKYHOOK_ADMIN_TOKEN:
        process.env['SKYHOOK_ADMIN_TOKEN'] ?? (await persistedSecret(stateDir, 'admin-token', 24)),
      // Receivers on this machine (http://localhost:…) are the common case when running locally.
      SKYHOOK_ALLOW_HTTP_LOOPBACK: process.env['SKYHOOK_ALLOW_HTTP_LOOPBACK'] ?? 'true',
    };
    for (const name of SERVICE_NAMES) {
      const service = launch(name, environment);
      services.push(service);
      void service.exited.then((code) => {
        if (!stopping) {
          say(`${name} exited with code ${String(code)}; stopping the stack`);
          stop(1);
        }
      });
    }
    await Promise.all(services.map((service) => waitUntilReady(service)));
    say('Skyhook is running (Ctrl-C stops it):');
    say(`  admin token (Authorization: Bearer …) ${environment.SKYHOOK_ADMIN_TOKEN}`);
    for (const service of services) {
      say(`  ${service.name.padEnd(10)} http://127.0.0.1:${service.port}  (/health/ready, /metrics)`);
    }
  } catch (error) {
    say(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
    stop(1);
  }
}

void main();
