import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findFreeLoopbackPort, workspaceRoot } from '@skyhook/local-infrastructure';
import { pollUntil } from './poll-until';

/**
 * How every service is launched (dev stack, tests, container images): `@skyhook/*` imports
 * resolved against dist/, and kafkajs 2.2.4's harmless negative-timeout warning (Node 23+
 * warns where older Node silently clamped to 1 ms) kept off stderr, which is for errors.
 */
export const SERVICE_NODE_OPTIONS = ['--disable-warning=TimeoutNegativeWarning', '-r', 'tsconfig-paths/register'];

export type ServiceName = 'api' | 'fanout' | 'dispatcher' | 'history';

/** A service running as its own process from the build output, exactly as it runs in production. */
export interface ServiceProcess {
  readonly baseUrl: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function serviceEntryPoint(name: ServiceName): string {
  const entry = join(workspaceRoot(), 'dist', 'apps', name, 'src', 'main.js');
  if (!existsSync(entry)) {
    throw new Error(`${entry} is missing: run \`npm run build\` before the integration tests`);
  }
  return entry;
}

/** Spawns the built service with exactly the given environment (plus PATH), and collects its output. */
export function spawnService(name: ServiceName, environment: Record<string, string>): ServiceProcess & { child: ChildProcess } {
  const root = workspaceRoot();
  const child = spawn(process.execPath, [...SERVICE_NODE_OPTIONS, serviceEntryPoint(name)], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      TS_NODE_BASEURL: join(root, 'dist'),
      TS_NODE_PROJECT: join(root, 'tsconfig.base.json'),
      ...environment,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = environment['PORT'] ?? '0';
  return {
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Starts the service on a free port and waits until it answers its liveness probe. */
export async function startService(name: ServiceName, environment: Record<string, string>): Promise<ServiceProcess> {
  const port = await findFreeLoopbackPort();
  const service = spawnService(name, { ...environment, PORT: String(port), HOST: '127.0.0.1' });
  let exitCode: number | null | undefined;
  void service.exited.then((code) => (exitCode = code));
  try {
    await pollUntil(
      async () => {
        if (exitCode !== undefined) {
          throw new Error(`${name} exited with ${String(exitCode)}: ${service.stderr()}`);
        }
        const response = await fetch(`${service.baseUrl}/health/live`);
        return response.ok;
      },
      { timeoutMs: 30_000, description: `${name} answering /health/live` },
    );
  } catch (error) {
    await service.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\nstdout:\n${service.stdout()}\nstderr:\n${service.stderr()}`);
  }
  return service;
}
