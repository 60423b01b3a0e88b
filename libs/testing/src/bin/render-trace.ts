/**
 * `npm run render:trace`: draws one delivery's trace into docs/trace.png, as the services export
 * it (ADR 0035). Starts Kafka and PostgreSQL the way `npm start` does, the four services with
 * OpenTelemetry on and exporting to an OTLP receiver in this process, and an HTTPS receiver that
 * answers the first attempt 503; publishes one event and waits for the trace of its delivery
 * (the api's request, fan-out, the dispatcher's two attempts with the retry between them, and
 * history's writes). No container engine and no tracing backend needed: the picture is drawn from
 * the exported spans themselves. `--out FILE` (default docs/trace.png).
 *
 * `--backend zipkin` instead exports with OpenTelemetry's Zipkin exporter to a Zipkin server (Java,
 * from Maven Central: deploy/zipkin/pom.xml) and screenshots Zipkin's page of the trace in
 * Chromium (default docs/trace-zipkin.png): the same trace as a tracing backend shows it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { type Browser, chromium } from 'playwright-core';
import { workspaceRoot } from '@skyhook/local-infrastructure';
import { apiRequest } from '../chaos/chaos-stack';
import { type LocalSkyhookStack, startLocalSkyhook } from '../local-skyhook-stack';
import { startOtlpReceiver, type OtlpReceiver } from '../otlp-receiver';
import { pollUntil } from '../poll-until';
import { traceWaterfallSvg } from '../trace/trace-waterfall';
import { startZipkinServer, type ZipkinServer } from '../trace/zipkin-server';

function say(message: string): void {
  process.stderr.write(`[render-trace] ${message}\n`);
}

/** An organisation subscribed to `flight.departed`, and the id of the first delivery of one event. */
async function deliverOneEvent(stack: LocalSkyhookStack): Promise<string> {
  const [api] = stack.services;
  if (api === undefined) throw new Error('the api is the first service');
  const organisation = await apiRequest(api.baseUrl, stack.adminToken, 'POST', '/admin/v1/organisations', {
    name: 'Traced Aviation',
  });
  const apiKey = organisation.body['apiKey'] as string;
  await apiRequest(api.baseUrl, apiKey, 'POST', '/v1/event-types', {
    eventTypes: [{ name: 'flight.departed' }],
  });
  await apiRequest(api.baseUrl, apiKey, 'POST', '/v1/subscriptions', {
    url: stack.receiver.url('/flight-ops'),
    eventTypes: ['flight.departed'],
    policy: { retry: { delaysMs: [1_000] } },
  });
  say('publishing until the subscription has reached fan-out…');
  const receiver = stack.receiver;
  await pollUntil(
    async () => {
      await apiRequest(api.baseUrl, apiKey, 'POST', '/v1/events', {
        id: `evt_${randomBytes(6).toString('hex')}`,
        type: 'flight.departed',
        data: { flightId: 'SKY123', tail: 'HB-JFA' },
      });
      return receiver.receivedOn('/flight-ops').length > 0;
    },
    { timeoutMs: 60_000, intervalMs: 2_000, description: 'a delivery' },
  );
  const deliveryId = receiver.receivedOn('/flight-ops')[0]?.headers['webhook-id'];
  if (deliveryId === undefined) throw new Error('the delivery came without a webhook-id');
  return deliveryId;
}

/** The stack with tracing on, exporting as `environment` says; the first attempt answered 503. */
function startTracedStack(
  directory: string,
  environment: Record<string, string>,
): Promise<LocalSkyhookStack> {
  return startLocalSkyhook({
    stateDir: directory,
    log: say,
    databasePrefix: 'skyhook_trace',
    // The first attempt fails, so the trace shows a retry.
    behaviour: (_request, nthForPath) => ({ status: nthForPath === 1 ? 503 : 200 }),
    environment: {
      ...environment,
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
}

/** The spans exported over OTLP to a receiver in this process, drawn as a waterfall. */
async function renderFromOtlp(directory: string, out: string): Promise<void> {
  let otlp: OtlpReceiver | undefined;
  let stack: LocalSkyhookStack | undefined;
  try {
    otlp = await startOtlpReceiver();
    stack = await startTracedStack(directory, {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    });
    const deliveryId = await deliverOneEvent(stack);
    const spans = otlp.spans;
    const trace = await pollUntil(
      () => {
        const attempts = spans.filter((span) => span.attributes['skyhook.delivery.id'] === deliveryId);
        const traceId = attempts[0]?.traceId;
        const inTrace = spans.filter((span) => span.traceId === traceId);
        const histories = inTrace.filter((span) => span.service === 'skyhook-history');
        return attempts.length >= 2 && histories.length >= 2 ? inTrace : undefined;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 250,
        description: 'the delivery’s trace, both attempts and their history writes',
      },
    );
    // A moment more for the slowest exporter's last batch.
    await new Promise((done) => setTimeout(done, 1_000));
    const complete = spans.filter((span) => span.traceId === trace[0]?.traceId);
    const svg = traceWaterfallSvg(
      complete,
      'One event through Skyhook: POST /v1/events → fan-out → dispatcher (503, retry, 200) → history',
      `Trace ${complete[0]?.traceId ?? ''}: ${complete.length} spans exported over OTLP by the four services, drawn by npm run render:trace`,
    );
    const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } })
      .render()
      .asPng();
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, png);
    say(`wrote ${out} (${complete.length} spans, ${Math.round(png.length / 1024)} KiB)`);
  } finally {
    await stack?.stop();
    await otlp?.close();
  }
}

/**
 * The spans exported with OpenTelemetry's Zipkin exporter to a Zipkin server, and a screenshot
 * of Zipkin's own page for the trace, taken in Chromium: the trace as a tracing backend shows it.
 */
async function renderFromZipkin(directory: string, out: string): Promise<void> {
  let zipkin: ZipkinServer | undefined;
  let stack: LocalSkyhookStack | undefined;
  let browser: Browser | undefined;
  try {
    zipkin = await startZipkinServer(say);
    stack = await startTracedStack(directory, {
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkin.spansEndpoint,
      // The picture shows the spans' own tags, not the host the picture was taken on.
      OTEL_NODE_RESOURCE_DETECTORS: 'none',
    });
    const deliveryId = await deliverOneEvent(stack);
    const server = zipkin;
    const trace = await pollUntil(
      async () => {
        const traces = await server.traces('skyhook-dispatcher');
        const found = traces.find((spans) =>
          spans.some((span) => span.tags?.['skyhook.delivery.id'] === deliveryId),
        );
        const attempts = found?.filter((span) => span.tags?.['skyhook.delivery.id'] === deliveryId) ?? [];
        const histories =
          found?.filter((span) => span.localEndpoint?.serviceName === 'skyhook-history') ?? [];
        return attempts.length >= 2 && histories.length >= 2 ? found : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: 'the delivery’s trace in Zipkin' },
    );
    await new Promise((done) => setTimeout(done, 1_500));
    const traceId = trace?.[0]?.traceId ?? '';
    browser = await chromium.launch({
      executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1500, height: 1150 }, deviceScaleFactor: 1 });
    await page.goto(server.traceUrl(traceId), { waitUntil: 'networkidle' });
    // The trace's span rows, once Zipkin's UI has drawn them.
    await page.getByText('skyhook-history').first().waitFor({ timeout: 30_000 });
    // The first webhook attempt's details beside the tree: its 503, the delivery, the attempt number.
    await page.getByText('skyhook-dispatcher: post').first().click();
    await mkdir(dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
    say(`wrote ${out} (trace ${traceId}, ${trace?.length ?? 0} spans in Zipkin)`);
  } finally {
    await browser?.close();
    await stack?.stop();
    await zipkin?.close();
  }
}

async function main(): Promise<void> {
  const option = (name: string): string | undefined => {
    const index = process.argv.indexOf(name);
    return index >= 0 ? process.argv[index + 1] : undefined;
  };
  const backend = option('--backend') ?? 'otlp';
  if (backend !== 'otlp' && backend !== 'zipkin')
    throw new Error(`--backend is otlp or zipkin, not ${backend}`);
  const defaultOut = join(workspaceRoot(), 'docs', backend === 'zipkin' ? 'trace-zipkin.png' : 'trace.png');
  const out = resolve(option('--out') ?? defaultOut);
  const directory = await mkdtemp(join(tmpdir(), 'skyhook-trace-'));
  try {
    await (backend === 'zipkin' ? renderFromZipkin(directory, out) : renderFromOtlp(directory, out));
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
