import { type ChildProcess } from 'node:child_process';
import {
  findFreeLoopbackPort,
  launchServiceProcess,
  type ServiceLaunchOptions,
  type ServiceName,
} from '@skyhook/local-infrastructure';
import { pollUntil } from './poll-until';

/** A service running as its own process from the build output, exactly as it runs in production. */
export interface ServiceProcess {
  readonly baseUrl: string;
  /** The service's own process id (node runs the service directly), for CPU readings from the OS. */
  readonly pid: number | undefined;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns the built service with exactly the given environment (plus PATH), and collects its output. */
export function spawnService(
  name: ServiceName,
  environment: Record<string, string>,
  launchOptions: Pick<ServiceLaunchOptions, 'nodeOptions'> = {},
): ServiceProcess & { child: ChildProcess } {
  const child = launchServiceProcess(name, environment, launchOptions);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A test that fails before stopping its service must not leave the process running after the run.
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));
  const port = environment['PORT'] ?? '0';
  return {
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid,
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
export async function startService(
  name: ServiceName,
  environment: Record<string, string>,
): Promise<ServiceProcess> {
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
    throw new Error(
      `${(error as Error).message}\nstdout:\n${service.stdout()}\nstderr:\n${service.stderr()}`,
    );
  }
  return service;
}
