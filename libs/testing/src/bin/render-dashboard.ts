/**
 * `npm run render:dashboard`: the overview dashboard as operators see it, rendered without Grafana.
 *
 * Starts Kafka and PostgreSQL the way `npm start` does (provisionInfrastructure, in a throw-away
 * state directory), the four services from the build output, an HTTPS webhook receiver signed by
 * the test CA (libs/testing/fixtures/tls) and Prometheus from PATH (the Debian `prometheus`
 * package) scraping the services every 2 s with deploy/prometheus/alerts.yml loaded. It then
 * drives real traffic through the public API (an organisation, event types, subscriptions to
 * healthy, flaky, rejecting and failing endpoints, events at a steady rate), asks Prometheus'
 * range API for every panel of deploy/grafana/dashboards/skyhook-overview.json, and draws the
 * panels on the dashboard's grid into docs/dashboard.png. Everything it started is stopped, also
 * on failure and on Ctrl-C.
 *
 * Options: `--seconds N` of traffic (default 180), `--rate N` events a second (default 8),
 * `--out FILE` (default docs/dashboard.png).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Resvg } from '@resvg/resvg-js';
import { findFreeLoopbackPort, workspaceRoot } from '@skyhook/local-infrastructure';
import {
  formatLegend,
  type GrafanaDashboard,
  panelSpecs,
  type PanelSpec,
} from '../dashboard/dashboard-panels';
import { dashboardSvg, type PanelData, type RenderedSeries } from '../dashboard/dashboard-svg';
import { pollUntil } from '../poll-until';
import { LOCAL_STACK_SERVICES, type LocalSkyhookStack, startLocalSkyhook } from '../local-skyhook-stack';
import { type ReceiverBehaviour, type WebhookReceiver } from '../webhook-receiver';

const DASHBOARD = join('deploy', 'grafana', 'dashboards', 'skyhook-overview.json');
const ALERTS = join('deploy', 'prometheus', 'alerts.yml');
const SCRAPE_INTERVAL_S = 2;
/** What `$__rate_interval` becomes: several scrapes, so a rate never rests on two samples. */
const RATE_INTERVAL = '30s';

function say(message: string): void {
  process.stderr.write(`[render-dashboard] ${message}\n`);
}

interface Options {
  seconds: number;
  rate: number;
  out: string;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { seconds: 180, rate: 8, out: join(workspaceRoot(), 'docs', 'dashboard.png') };
  for (let index = 0; index < argv.length; index += 2) {
    const [flag, value] = [argv[index], argv[index + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--seconds' || flag === '--rate') {
      const number = Number(value);
      if (!(number > 0)) throw new Error(`${flag} must be a positive number, not ${value}`);
      options[flag === '--seconds' ? 'seconds' : 'rate'] = number;
    } else if (flag === '--out') {
      options.out = resolve(value);
    } else {
      throw new Error(`unknown option ${flag} (use --seconds N, --rate N, --out FILE)`);
    }
  }
  return options;
}

function requirePrometheus(): void {
  const probe = spawnSync('prometheus', ['--version'], { stdio: 'ignore' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      'the `prometheus` command is not on PATH: install it (on Debian or Ubuntu: `apt-get install prometheus`, ' +
        'the Debian package `prometheus`) and run this again',
    );
  }
}

/** Aborted by Ctrl-C or SIGTERM: every wait below gives up, and the finally blocks stop what was started. */
const interrupted = new AbortController();

function checkInterrupted(): void {
  if (interrupted.signal.aborted) throw new Error('interrupted');
}

async function pause(ms: number): Promise<void> {
  await sleep(ms, undefined, { signal: interrupted.signal }).catch(() => checkInterrupted());
}

interface Prometheus {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * `targets` maps a service name to its `host:port`; the `instance` label is `name:port`, like the
 * compose file's `api:3000`, so legends name the service rather than a loopback address.
 */
async function startPrometheus(directory: string, targets: ReadonlyMap<string, string>): Promise<Prometheus> {
  const port = await findFreeLoopbackPort();
  const config = [
    'global:',
    `  scrape_interval: ${SCRAPE_INTERVAL_S}s`,
    `  evaluation_interval: ${SCRAPE_INTERVAL_S}s`,
    'rule_files:',
    `  - ${JSON.stringify(join(workspaceRoot(), ALERTS))}`,
    'scrape_configs:',
    '  - job_name: skyhook',
    '    metrics_path: /metrics',
    '    static_configs:',
    ...[...targets].flatMap(([name, target]) => [
      `      - targets: [${JSON.stringify(target)}]`,
      `        labels: { instance: ${JSON.stringify(`${name}:${target.split(':').pop()}`)} }`,
    ]),
    '',
  ].join('\n');
  const configFile = join(directory, 'prometheus.yml');
  await writeFile(configFile, config);
  const log = createWriteStream(join(directory, 'prometheus.log'));
  const child = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(directory, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    log.end();
  };
  try {
    await pollUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}`);
        return (await fetch(`${url}/-/ready`)).ok;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'prometheus ready' },
    );
  } catch (error) {
    await stop();
    const output = await readFile(join(directory, 'prometheus.log'), 'utf8').catch(() => '');
    throw new Error(`${(error as Error).message}\n${output.split('\n').slice(-15).join('\n')}`);
  }
  return { url, stop };
}

async function call(
  baseUrl: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

/** Endpoints of the partner's receiver and how each behaves. */
interface Endpoint {
  readonly path: string;
  readonly eventTypes: readonly string[];
  readonly policy: Record<string, unknown>;
}

const ENDPOINTS: readonly Endpoint[] = [
  { path: '/ops/bookings', eventTypes: ['booking.*'], policy: {} },
  { path: '/crew/roster', eventTypes: ['crew.*', 'FLIGHT_TIME_UPDATE'], policy: {} },
  // Answers 500 to about a third of requests: retried on short delays, and a breaker that tolerates it.
  {
    path: '/mro/maintenance',
    eventTypes: ['mel.*', 'booking.cancelled'],
    policy: {
      retry: { delaysMs: [1000, 5000, 10000] },
      circuitBreaker: { consecutiveFailuresToDisable: 20 },
    },
  },
  // Rejects every third request with 400 (not retried: a 4xx is not transient).
  { path: '/billing/invoices', eventTypes: ['booking.created'], policy: {} },
  // Healthy for the first third of the run, then answers 503 to everything: its breaker trips.
  {
    path: '/legacy/flight-times',
    eventTypes: ['FLIGHT_TIME_UPDATE', 'booking.cancelled'],
    policy: { retry: { delaysMs: [1000, 2000] }, circuitBreaker: { consecutiveFailuresToDisable: 5 } },
  },
];

const EVENT_TYPES = [
  'booking.created',
  'booking.cancelled',
  'crew.assigned',
  'mel.deferral.expiring',
  'FLIGHT_TIME_UPDATE',
  'aircraft.position',
];
/** How often each type is published (aircraft.position matches no subscription). */
const EVENT_MIX: readonly [string, number][] = [
  ['booking.created', 4],
  ['booking.cancelled', 1],
  ['crew.assigned', 2],
  ['mel.deferral.expiring', 1],
  ['FLIGHT_TIME_UPDATE', 3],
  ['aircraft.position', 1],
];

function pickEventType(): string {
  const total = EVENT_MIX.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = Math.random() * total;
  for (const [type, weight] of EVENT_MIX) {
    roll -= weight;
    if (roll < 0) return type;
  }
  return EVENT_MIX[0]![0];
}

function receiverBehaviour(legacyDownAt: () => number): ReceiverBehaviour {
  return (request, nth) => {
    const jitter = (low: number, high: number): number => Math.round(low + Math.random() * (high - low));
    switch (request.path) {
      case '/ops/bookings':
        return { status: 200, delayMs: jitter(10, 120) };
      case '/crew/roster':
        return { status: 200, delayMs: Math.random() < 0.05 ? jitter(800, 1600) : jitter(40, 300) };
      case '/mro/maintenance':
        return Math.random() < 0.35
          ? { status: 500, delayMs: jitter(20, 80) }
          : { status: 204, delayMs: jitter(20, 150) };
      case '/billing/invoices':
        return nth % 3 === 0
          ? { status: 400, body: '{"error":"unknown cost centre"}' }
          : { status: 200, delayMs: jitter(20, 60) };
      case '/legacy/flight-times':
        return Date.now() >= legacyDownAt()
          ? { status: 503, delayMs: jitter(200, 600) }
          : { status: 200, delayMs: jitter(30, 90) };
      default:
        return { status: 404 };
    }
  };
}

function metricValue(exposition: string, metric: string): number | undefined {
  const line = exposition
    .split('\n')
    .find((candidate) => candidate.startsWith(`${metric}{`) || candidate.startsWith(`${metric} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function driveTraffic(
  api: string,
  fanout: string,
  adminToken: string,
  receiver: WebhookReceiver,
  options: Options,
  downAt: { at: number },
): Promise<void> {
  const created = await call(api, 'POST', '/admin/v1/organisations', adminToken, {
    name: 'Skyhook Demo Aviation',
  });
  const apiKey = created['apiKey'] as string;
  await call(api, 'POST', '/v1/event-types', apiKey, { eventTypes: EVENT_TYPES.map((name) => ({ name })) });
  for (const endpoint of ENDPOINTS) {
    await call(api, 'POST', '/v1/subscriptions', apiKey, {
      url: receiver.url(endpoint.path),
      eventTypes: endpoint.eventTypes,
      description: `demo ${endpoint.path}`,
      policy: endpoint.policy,
    });
  }
  await pollUntil(
    async () => {
      const exposition = await (await fetch(`${fanout}/metrics`)).text();
      return metricValue(exposition, 'skyhook_fanout_index_subscriptions') === ENDPOINTS.length;
    },
    { timeoutMs: 60_000, intervalMs: 250, description: 'fan-out indexing the subscriptions' },
  );

  say(`publishing ${options.rate} events/s for ${options.seconds} s…`);
  const started = Date.now();
  downAt.at = started + (options.seconds * 1000) / 3;
  const statuses = new Map<number, number>();
  const pending = new Set<Promise<void>>();
  let sequence = 0;
  let nextReport = started + 30_000;
  while (Date.now() - started < options.seconds * 1000) {
    checkInterrupted();
    const due = Math.floor(((Date.now() - started) / 1000) * options.rate);
    while (sequence < due) {
      sequence += 1;
      const type = pickEventType();
      const publish = fetch(`${api}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type, data: { sequence, reference: `DEMO-${sequence}` } }),
      })
        .then(async (response) => {
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        })
        .catch(() => {
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
        })
        .finally(() => pending.delete(publish));
      pending.add(publish);
    }
    if (Date.now() >= nextReport) {
      nextReport += 30_000;
      say(
        `  ${Math.round((Date.now() - started) / 1000)} s: ${sequence} events published, ${receiver.received.length} webhooks received`,
      );
    }
    await pause(50);
  }
  await Promise.all(pending);
  const summary = [...statuses].map(
    ([status, count]) => `${count}× ${status === 0 ? 'network error' : status}`,
  );
  say(`published ${sequence} events (${summary.join(', ')}); ${receiver.received.length} webhooks received`);
}

interface RangeResult {
  metric: Record<string, string>;
  values: [number, string][];
}

async function queryRange(
  prometheus: string,
  expr: string,
  start: number,
  end: number,
  step: number,
): Promise<RangeResult[]> {
  const query = new URLSearchParams({
    query: expr,
    start: String(start),
    end: String(end),
    step: String(step),
  });
  const response = await fetch(`${prometheus}/api/v1/query_range?${query.toString()}`);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: RangeResult[] };
  };
  if (body.status !== 'success')
    throw new Error(`Prometheus refused ${expr}: ${body.error ?? response.status}`);
  return body.data?.result ?? [];
}

async function panelData(
  prometheus: string,
  panel: PanelSpec,
  start: number,
  end: number,
  step: number,
): Promise<PanelData> {
  const series: RenderedSeries[] = [];
  for (const query of panel.queries) {
    for (const result of await queryRange(prometheus, query.expr, start, end, step)) {
      const byTime = new Map(result.values.map(([time, value]) => [time, Number(value)]));
      const points: [number, number | null][] = [];
      for (let time = start; time <= end; time += step) {
        const value = byTime.get(time);
        points.push([time, value === undefined || !Number.isFinite(value) ? null : value]);
      }
      series.push({ name: formatLegend(query.legendFormat, result.metric), points });
    }
  }
  series.sort((a, b) => a.name.localeCompare(b.name));
  return { panel, series };
}

async function render(prometheus: string, start: number, end: number, out: string): Promise<void> {
  const dashboard = JSON.parse(await readFile(join(workspaceRoot(), DASHBOARD), 'utf8')) as GrafanaDashboard;
  const step = Math.max(SCRAPE_INTERVAL_S, Math.ceil((end - start) / 300));
  const specs = panelSpecs(dashboard, {
    rateInterval: RATE_INTERVAL,
    interval: `${step}s`,
    range: `${end - start}s`,
  });
  const panels: PanelData[] = [];
  for (const panel of specs) panels.push(await panelData(prometheus, panel, start, end, step));
  const empty = panels.filter((data) => data.panel.type !== 'row' && data.series.length === 0);
  if (empty.length > 0) say(`panels without data: ${empty.map((data) => data.panel.title).join('; ')}`);
  const svg = dashboardSvg({
    title: dashboard.title,
    subtitle: `Rendered by npm run render:dashboard from Prometheus (scrape every ${SCRAPE_INTERVAL_S} s, $__rate_interval = ${RATE_INTERVAL}); ${new Date(start * 1000).toISOString().slice(0, 16)} to ${new Date(end * 1000).toISOString().slice(11, 16)} UTC`,
    start,
    end,
    panels,
  });
  const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } })
    .render()
    .asPng();
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, png);
  say(`wrote ${out} (${Math.round(png.length / 1024)} KiB)`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  requirePrometheus();
  const began = Date.now();
  const directory = await mkdtemp(join(tmpdir(), 'skyhook-dashboard-'));
  let stack: LocalSkyhookStack | undefined;
  let prometheus: Prometheus | undefined;
  try {
    const downAt = { at: Number.POSITIVE_INFINITY };
    stack = await startLocalSkyhook({
      stateDir: directory,
      log: say,
      databasePrefix: 'skyhook_dashboard',
      behaviour: receiverBehaviour(() => downAt.at),
    });
    checkInterrupted();
    const { services, receiver, adminToken } = stack;
    prometheus = await startPrometheus(
      directory,
      new Map(
        services.map((service, index) => [
          LOCAL_STACK_SERVICES[index]!,
          service.baseUrl.replace('http://', ''),
        ]),
      ),
    );
    const start = Math.floor(Date.now() / 1000);
    say(`prometheus at ${prometheus.url} scraping every ${SCRAPE_INTERVAL_S} s`);
    await driveTraffic(services[0]!.baseUrl, services[1]!.baseUrl, adminToken, receiver, options, downAt);
    // Let retries, history and the lag monitors catch up, and the rates settle in the picture.
    await pause(20_000);
    const end = Math.floor(Date.now() / 1000);
    await render(prometheus.url, start, end - ((end - start) % SCRAPE_INTERVAL_S), options.out);
  } finally {
    say('stopping everything this run started…');
    await prometheus?.stop().catch((error: unknown) => say(`prometheus: ${String(error)}`));
    await stack?.stop();
    await rm(directory, { recursive: true, force: true });
    say(`done in ${Math.round((Date.now() - began) / 1000)} s`);
  }
}

let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) {
      say('second signal: exiting without waiting');
      process.exit(130);
    }
    say(`${signal}: stopping…`);
    interrupted.abort();
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
