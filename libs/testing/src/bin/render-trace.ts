/**
 * `npm run render:trace`: draws one delivery's trace into docs/trace.png, as the services export
 * it (ADR 0035). Starts Kafka and PostgreSQL the way `npm start` does, the four services with
 * OpenTelemetry on and exporting to an OTLP receiver in this process, and an HTTPS receiver that
 * answers the first attempt 503; publishes one event and waits for the trace of its delivery
 * (the api's request, fan-out, the dispatcher's two attempts with the retry between them, and
 * history's writes). No container engine and no tracing backend needed: the picture is drawn from
 * the exported spans themselves. `--out FILE` (default docs/trace.png).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { workspaceRoot } from '@skyhook/local-infrastructure';
import { type LocalSkyhookStack, startLocalSkyhook } from '../local-skyhook-stack';
import { startOtlpReceiver, type OtlpReceiver } from '../otlp-receiver';
import { pollUntil } from '../poll-until';
import { traceWaterfallSvg } from '../trace/trace-waterfall';

function say(message: string): void {
  process.stderr.write(`[render-trace] ${message}\n`);
}

async function call(
  baseUrl: string,
  path: string,
  token: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function main(): Promise<void> {
  const outFlag = process.argv.indexOf('--out');
  const out =
    outFlag >= 0 ? resolve(process.argv[outFlag + 1] ?? '') : join(workspaceRoot(), 'docs', 'trace.png');
  const directory = await mkdtemp(join(tmpdir(), 'skyhook-trace-'));
  let otlp: OtlpReceiver | undefined;
  let stack: LocalSkyhookStack | undefined;
  try {
    otlp = await startOtlpReceiver();
    stack = await startLocalSkyhook({
      stateDir: directory,
      log: say,
      databasePrefix: 'skyhook_trace',
      // The first attempt fails, so the trace shows a retry.
      behaviour: (_request, nthForPath) => ({ status: nthForPath === 1 ? 503 : 200 }),
      environment: {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_TRACES_SAMPLER: 'parentbased_always_on',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    const [api] = stack.services;
    if (api === undefined) throw new Error('the api is the first service');
    const organisation = await call(api.baseUrl, '/admin/v1/organisations', stack.adminToken, {
      name: 'Traced Aviation',
    });
    const apiKey = organisation.body['apiKey'] as string;
    await call(api.baseUrl, '/v1/event-types', apiKey, { eventTypes: [{ name: 'flight.departed' }] });
    await call(api.baseUrl, '/v1/subscriptions', apiKey, {
      url: stack.receiver.url('/flight-ops'),
      eventTypes: ['flight.departed'],
      policy: { retry: { delaysMs: [1_000] } },
    });
    say('publishing until the subscription has reached fan-out…');
    const receiver = stack.receiver;
    await pollUntil(
      async () => {
        await call(api.baseUrl, '/v1/events', apiKey, {
          id: `evt_${randomBytes(6).toString('hex')}`,
          type: 'flight.departed',
          data: { flightId: 'SKY123', tail: 'HB-JFA' },
        });
        return receiver.receivedOn('/flight-ops').length > 0;
      },
      { timeoutMs: 60_000, intervalMs: 2_000, description: 'a delivery' },
    );
    const deliveryId = receiver.receivedOn('/flight-ops')[0]?.headers['webhook-id'];
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
