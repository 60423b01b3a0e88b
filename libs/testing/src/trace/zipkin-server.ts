import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { findFreeLoopbackPort, resolveMavenClasspath, workspaceRoot } from '@skyhook/local-infrastructure';
import { pollUntil } from '../poll-until';

/** One span as Zipkin's API v2 returns it. */
export interface ZipkinSpan {
  readonly traceId: string;
  readonly id: string;
  readonly parentId?: string;
  readonly name?: string;
  readonly kind?: string;
  readonly localEndpoint?: { readonly serviceName?: string };
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Zipkin's server from its Maven Central jar (deploy/zipkin/pom.xml), spans kept in memory, on a
 * free loopback port: a tracing backend with a web UI, run on Java alone. The services export to
 * it with OpenTelemetry's Zipkin exporter (`OTEL_TRACES_EXPORTER=zipkin`).
 */
export interface ZipkinServer {
  /** The UI and API's base, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** What `OTEL_EXPORTER_ZIPKIN_ENDPOINT` is set to. */
  readonly spansEndpoint: string;
  /** The traces with a span of the service, newest first (Zipkin's `/api/v2/traces`). */
  traces(serviceName: string): Promise<ZipkinSpan[][]>;
  /** The page that shows one trace. */
  traceUrl(traceId: string): string;
  close(): Promise<void>;
}

export async function startZipkinServer(log: (line: string) => void): Promise<ZipkinServer> {
  const jar = await resolveMavenClasspath(
    join(workspaceRoot(), 'deploy', 'zipkin', 'pom.xml'),
    'Zipkin',
    log,
  );
  const port = await findFreeLoopbackPort();
  const output: string[] = [];
  const server: ChildProcess = spawn('java', ['-Xmx512m', '-jar', jar], {
    env: { ...process.env, STORAGE_TYPE: 'mem', QUERY_PORT: String(port), QUERY_BIND_ADDRESS: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  server.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  let exited: number | null | undefined;
  const gone = new Promise<void>((resolve) => {
    server.once('exit', (code) => {
      exited = code;
      resolve();
    });
    // No java on the PATH: reported by the wait below instead of an unhandled 'error'.
    server.once('error', (error) => {
      output.push(String(error));
      exited = null;
      resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const close = async (): Promise<void> => {
    if (exited === undefined) server.kill('SIGTERM');
    await gone;
  };
  try {
    await pollUntil(
      async () => {
        if (exited !== undefined) throw new Error(`Zipkin exited with ${String(exited)}`);
        return (await fetch(`${url}/health`).catch(() => undefined))?.ok === true;
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'Zipkin answering /health' },
    );
  } catch (error) {
    await close();
    throw new Error(`${(error as Error).message}\n${output.join('').slice(-4_000)}`);
  }
  log(`Zipkin ${url}/zipkin/`);
  return {
    url,
    spansEndpoint: `${url}/api/v2/spans`,
    traces: async (serviceName) => {
      const response = await fetch(
        `${url}/api/v2/traces?serviceName=${encodeURIComponent(serviceName)}&limit=100&lookback=3600000`,
      );
      if (!response.ok) throw new Error(`Zipkin /api/v2/traces answered ${response.status}`);
      return (await response.json()) as ZipkinSpan[][];
    },
    traceUrl: (traceId) => `${url}/zipkin/traces/${traceId}`,
    close,
  };
}
