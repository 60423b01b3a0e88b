import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceRoot } from './workspace-root';

/** The services of the delivery pipeline (each consumes or produces Kafka records). */
export const SERVICE_NAMES = ['api', 'fanout', 'dispatcher', 'history'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Every app launched as a process: the pipeline's services, and the partner portal over the api. */
export const APP_NAMES = [...SERVICE_NAMES, 'portal'] as const;
export type AppName = (typeof APP_NAMES)[number];

/**
 * How every service is launched from the build output (dev stack, tests, container images):
 * `@skyhook/*` imports resolved against dist/, and kafkajs 2.2.4's harmless negative-timeout
 * warning (Node 23+ warns where older Node silently clamped to 1 ms) kept off stderr.
 */
export const SERVICE_NODE_OPTIONS = [
  '--disable-warning=TimeoutNegativeWarning',
  '-r',
  'tsconfig-paths/register',
];

export function serviceEntryPoint(name: AppName): string {
  const entry = join(workspaceRoot(), 'dist', 'apps', name, 'src', 'main.js');
  if (!existsSync(entry)) {
    throw new Error(`${entry} is missing: run \`npm run build\` first`);
  }
  return entry;
}

/** The environment tsconfig-paths needs to find the compiled libraries. */
export function serviceLaunchEnvironment(): Record<string, string> {
  const root = workspaceRoot();
  return { TS_NODE_BASEURL: join(root, 'dist'), TS_NODE_PROJECT: join(root, 'tsconfig.base.json') };
}

export interface ServiceLaunchOptions {
  /** Extra Node options before the entry point (e.g. `--cpu-prof` in a benchmark). */
  readonly nodeOptions?: readonly string[];
  readonly stdio?: StdioOptions;
  /** Its own process group, so a terminal's Ctrl-C reaches the launcher only. */
  readonly detached?: boolean;
}

/**
 * Starts a service from the build output as its own process, the one way every launcher does
 * (dev stack, tests, benchmarks): `environment` plus PATH and what `serviceLaunchEnvironment`
 * adds, nothing else inherited.
 */
export function launchServiceProcess(
  name: AppName,
  environment: Record<string, string | undefined>,
  options: ServiceLaunchOptions = {},
): ChildProcess {
  return spawn(
    process.execPath,
    [...SERVICE_NODE_OPTIONS, ...(options.nodeOptions ?? []), serviceEntryPoint(name)],
    {
      cwd: workspaceRoot(),
      env: { PATH: process.env['PATH'] ?? '', ...serviceLaunchEnvironment(), ...environment },
      stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    },
  );
}
