/**
 * Fairness benchmark (`npm run bench:fairness`): does one organisation's burst delay the others?
 *
 * The real fan-out and dispatcher services from dist/ over Kafka, an HTTPS receiver in a child
 * process (the test CA's `localhost` certificate), ten organisations with one subscription each.
 * Every organisation publishes at a steady rate; after a quiet baseline, one of them publishes a
 * hundred times its rate for a minute, then goes back to its rate while the burst drains. The
 * receiver records, per delivery, its organisation and publish→arrival latency. The bench
 * scrapes the dispatcher's /metrics every 2 s and evaluates SkyhookOrganisationLagGrowing's
 * expression on the samples (deploy/prometheus/alerts.yml: lag > 10 s and its one-minute slope
 * > 0, held for 30 s).
 *
 * Reported per row: the nine quiet organisations' p50/p99 in the baseline and from the burst's
 * start until it has drained (goal: p99 up < 25 %), the burst's drain rate (deliveries/s of the
 * bursting organisation from its start to its last delivery, beside the baseline's total), every
 * published event delivered, and when the alert would fire, for whom.
 *
 * Rows (BENCH_ROWS, default `fair,unfair`): `fair` as configured; `unfair` with
 * DISPATCH_SATURATED_EVENT_LOOP_UTILISATION=1 (no adaptive capacity: the process holds up to
 * DISPATCH_MAX_IN_FLIGHT whatever its event loop says, and the fair share never has a queue) and
 * DISPATCH_MAX_WAITING_PER_ORGANISATION=100000 (an organisation's backlog is never parked).
 * Settings: BENCH_FAIRNESS_RATE (per organisation per second, default 40: the burst, 4,000/s, is past what this 2-core machine delivers), BENCH_FAIRNESS_BURST
 * (multiplier, 100), BENCH_FAIRNESS_BASELINE_SECONDS (30), BENCH_FAIRNESS_BURST_SECONDS (60).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type InboundEvent, inboundEventContract } from '@skyhook/contracts';
import {
  provisionInfrastructure,
  SERVICE_NODE_OPTIONS,
  serviceLaunchEnvironment,
  workspaceRoot,
} from '@skyhook/local-infrastructure';
import { generateSigningSecret } from '@skyhook/secrets';
import { fixed, loadAverage, percentile, whole } from './bench-report';
import { benchNumberSetting, benchServiceEnvironment } from './bench-settings';
import { benchKafka, launchBenchService, seedBenchSubscriptions } from './bench-stack';

const ORGANISATIONS = 10;
const BURSTING = 'org_0';
const EVENT_TYPE = 'flight.departed';
const RATE = benchNumberSetting('BENCH_FAIRNESS_', 'BENCH_FAIRNESS_RATE', 40, 1);
const BURST = benchNumberSetting('BENCH_FAIRNESS_', 'BENCH_FAIRNESS_BURST', 100, 1);
const BASELINE_SECONDS = benchNumberSetting('BENCH_FAIRNESS_', 'BENCH_FAIRNESS_BASELINE_SECONDS', 30, 5);
const BURST_SECONDS = benchNumberSetting('BENCH_FAIRNESS_', 'BENCH_FAIRNESS_BURST_SECONDS', 60, 5);
const WARMUP_SECONDS = 5;
const SCRAPE_EVERY_MS = 2_000;
/** SkyhookOrganisationLagGrowing, as deploy/prometheus/alerts.yml states it. */
const ALERT = { lagAboveSeconds: 10, slopeWindowMs: 60_000, forMs: 30_000 };
const TLS_FIXTURES = join(workspaceRoot(), 'libs', 'testing', 'fixtures', 'tls');
const SERVICE_ENVIRONMENT = benchServiceEnvironment('BENCH_', 'BENCH_SERVICE_ENV');

const organisationIds = Array.from({ length: ORGANISATIONS }, (_, o) => `org_${o}`);

// ---------------------------------------------------------------------------------------------
// Receiver (child process): per delivery, its organisation, publish time and arrival time

/** One delivery as the receiver saw it: [organisation index, sentAt, arrivedAt, event number]. */
type Arrival = [number, number, number, number];

function runReceiver(): void {
  let arrivals: Arrival[] = [];
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const now = Date.now();
      const body = Buffer.concat(chunks).toString('latin1');
      const sentAt = Number(/"sentAt":(\d+)/.exec(body)?.[1] ?? Number.NaN);
      const n = Number(/"n":(\d+)/.exec(body)?.[1] ?? Number.NaN);
      const organisation = Number(/^\/o(\d+)/.exec(request.url ?? '')?.[1] ?? Number.NaN);
      arrivals.push([organisation, sentAt, now, n]);
      response.writeHead(200);
      response.end();
    });
  };
  const server = createServer(
    {
      keepAlive: true,
      cert: readFileSync(join(TLS_FIXTURES, 'localhost.pem')),
      key: readFileSync(join(TLS_FIXTURES, 'localhost-key.pem')),
    },
    onRequest,
  );
  process.on('message', (message: { cmd: 'take' | 'count'; id: number }) => {
    if (message.cmd === 'count') {
      process.send?.({ id: message.id, count: arrivals.length });
    } else {
      process.send?.({ id: message.id, arrivals });
      arrivals = [];
    }
  });
  process.on('disconnect', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
}

class Receiver {
  private nextId = 0;
  private readonly waiting = new Map<number, (message: Record<string, unknown>) => void>();

  private constructor(
    readonly child: ChildProcess,
    readonly origin: string,
  ) {
    child.on('message', (message: { id?: number }) => {
      if (message.id === undefined) return;
      this.waiting.get(message.id)?.(message);
      this.waiting.delete(message.id);
    });
  }

  static async start(): Promise<Receiver> {
    const child = fork(__filename, ['receiver'], {
      cwd: workspaceRoot(),
      execArgv: SERVICE_NODE_OPTIONS,
      env: { ...process.env, ...serviceLaunchEnvironment() },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (message: { port: number }) => resolve(message.port));
      child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
    });
    return new Receiver(child, `https://localhost:${port}`);
  }

  private call(cmd: 'take' | 'count'): Promise<Record<string, unknown>> {
    const id = (this.nextId += 1);
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ cmd, id });
    });
  }

  async count(): Promise<number> {
    return (await this.call('count'))['count'] as number;
  }

  /** Everything that arrived since the last take. */
  async take(): Promise<Arrival[]> {
    return (await this.call('take'))['arrivals'] as Arrival[];
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.disconnect();
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// The alert, evaluated on scraped samples as Prometheus would

interface LagSample {
  readonly at: number;
  readonly lagByOrganisation: ReadonlyMap<string, number>;
  /** The dispatcher's own view: capacity, deliveries waiting for it, event-loop use, parked so far. */
  readonly dispatcher: Readonly<Record<'capacity' | 'waiting' | 'eventLoop' | 'parked', number>>;
}

/** The sum of a metric's series in an exposition text (0 when absent). */
function metricSum(metrics: string, name: string): number {
  let sum = 0;
  for (const match of metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'gm'))) {
    sum += Number(match[1]);
  }
  return sum;
}

function parseLagSamples(metrics: string, at: number): LagSample {
  const lagByOrganisation = new Map<string, number>();
  for (const match of metrics.matchAll(
    /^skyhook_dispatcher_organisation_lag_seconds\{[^}]*organisation_id="([^"]+)"[^}]*\} ([0-9.eE+-]+)$/gm,
  )) {
    lagByOrganisation.set(match[1]!, Number(match[2]));
  }
  return {
    at,
    lagByOrganisation,
    dispatcher: {
      capacity: metricSum(metrics, 'skyhook_dispatcher_process_capacity'),
      waiting: metricSum(metrics, 'skyhook_dispatcher_waiting_for_capacity'),
      eventLoop: metricSum(metrics, 'skyhook_dispatcher_event_loop_utilisation'),
      parked: metricSum(metrics, 'skyhook_dispatcher_deliveries_parked_total'),
    },
  };
}

/** Least-squares slope (per second) of the points, as PromQL's deriv(). */
function slope(points: readonly { at: number; value: number }[]): number {
  if (points.length < 2) return Number.NaN;
  const meanX = points.reduce((sum, p) => sum + p.at, 0) / points.length;
  const meanY = points.reduce((sum, p) => sum + p.value, 0) / points.length;
  let numerator = 0;
  let denominator = 0;
  for (const p of points) {
    numerator += (p.at - meanX) * (p.value - meanY);
    denominator += (p.at - meanX) ** 2;
  }
  return denominator === 0 ? 0 : (numerator / denominator) * 1_000;
}

/** When SkyhookOrganisationLagGrowing would first fire for each organisation (ms since epoch). */
function alertFirings(samples: readonly LagSample[]): Map<string, number> {
  const firing = new Map<string, number>();
  const pendingSince = new Map<string, number>();
  for (const [index, sample] of samples.entries()) {
    for (const organisationId of organisationIds) {
      const lag = sample.lagByOrganisation.get(organisationId);
      const window = samples
        .slice(0, index + 1)
        .filter((s) => s.at > sample.at - ALERT.slopeWindowMs && s.lagByOrganisation.has(organisationId))
        .map((s) => ({ at: s.at, value: s.lagByOrganisation.get(organisationId)! }));
      const active = lag !== undefined && lag > ALERT.lagAboveSeconds && slope(window) > 0;
      if (!active) {
        pendingSince.delete(organisationId);
        continue;
      }
      const since = pendingSince.get(organisationId) ?? sample.at;
      pendingSince.set(organisationId, since);
      if (sample.at - since >= ALERT.forMs && !firing.has(organisationId))
        firing.set(organisationId, sample.at);
    }
  }
  return firing;
}

// ---------------------------------------------------------------------------------------------
// One row: a stack, a baseline, a burst, its drain

interface RowResult {
  readonly row: string;
  readonly baseline: { p50: number; p99: number; count: number };
  readonly underBurst: { p50: number; p99: number; count: number };
  readonly p99Rise: number;
  readonly baselineDeliveriesPerSecond: number;
  readonly burstDeliveries: number;
  readonly burstDrainPerSecond: number;
  readonly burstDrainedSeconds: number;
  readonly published: number;
  readonly delivered: number;
  readonly alert: { firstFiringSeconds: number | undefined; firedFor: string[] };
  readonly maxBurstLagSeconds: number;
  /** The dispatcher during the run: least capacity, most waiting, busiest event loop, parked in all. */
  readonly dispatcher: Readonly<
    Record<'leastCapacity' | 'mostWaiting' | 'busiestEventLoop' | 'parked', number>
  >;
  /** Each quiet organisation's p99 from the burst's start until it drained, ms. */
  readonly quietP99ByOrganisation: Record<string, number>;
}

async function fairnessRow(
  row: string,
  receiver: Receiver,
  brokers: string,
  dispatcherSettings: Record<string, string>,
): Promise<RowResult> {
  const say = (message: string) => process.stderr.write(`[bench:fairness] ${row}: ${message}\n`);
  const masterKey = randomBytes(32).toString('base64');
  const { environment, producer } = await benchKafka(brokers);
  const services: ChildProcess[] = [];
  try {
    await seedBenchSubscriptions(producer, masterKey, {
      organisationIds,
      eventType: EVENT_TYPE,
      profile: 'standard-webhooks',
      subscriptions: organisationIds.map((organisationId, o) => ({
        id: `sub_fair_${o}`,
        organisationId,
        url: `${receiver.origin}/o${o}`,
        secret: generateSigningSecret(),
      })),
    });

    const launch = async (name: 'fanout' | 'dispatcher', extra: Record<string, string>) => {
      const { child, port } = await launchBenchService(name, {
        ...environment,
        ...SERVICE_ENVIRONMENT,
        ...extra,
      });
      services.push(child);
      return port;
    };
    const [, dispatcherPort] = await Promise.all([
      launch('fanout', {}),
      launch('dispatcher', {
        ...dispatcherSettings,
        SECRETS_MASTER_KEY: masterKey,
        SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
        NODE_EXTRA_CA_CERTS: join(TLS_FIXTURES, 'ca.pem'),
      }),
    ]);

    // Publishing: every 10 ms, whatever each organisation is due, stamped with the time.
    let published = 0;
    let eventNumber = 0;
    const publishFor = async (seconds: number, rateOf: (organisationId: string) => number) => {
      const started = Date.now();
      const due = new Map(organisationIds.map((id) => [id, 0]));
      while (Date.now() - started < seconds * 1_000) {
        const elapsed = Date.now() - started;
        const events: InboundEvent[] = [];
        const sentAt = Date.now();
        for (const organisationId of organisationIds) {
          const target = Math.floor((elapsed * rateOf(organisationId)) / 1_000);
          for (let k = due.get(organisationId)!; k < target; k += 1) {
            eventNumber += 1;
            events.push({
              id: `evt_${row}_${eventNumber}`,
              type: EVENT_TYPE,
              scope: {},
              occurredAt: new Date(sentAt).toISOString(),
              data: { sentAt, n: eventNumber, flight: `SK${eventNumber % 997}` },
              organisationId,
            });
          }
          due.set(organisationId, Math.max(target, due.get(organisationId)!));
        }
        if (events.length > 0)
          await producer.send(inboundEventContract, 'inboundEvents', events, { trusted: true });
        published += events.length;
        await sleep(10);
      }
    };

    // Scraping the dispatcher's metrics while the baseline and the burst run.
    const samples: LagSample[] = [];
    let scraping = true;
    const scraper = (async () => {
      while (scraping) {
        const at = Date.now();
        const text = await fetch(`http://127.0.0.1:${dispatcherPort}/metrics`).then(
          (r) => r.text(),
          () => '',
        );
        samples.push(parseLagSamples(text, at));
        await sleep(SCRAPE_EVERY_MS - (Date.now() - at));
      }
    })();

    say(`warm-up ${WARMUP_SECONDS} s`);
    await publishFor(WARMUP_SECONDS, () => RATE);
    await sleep(2_000);
    await receiver.take();
    const warmupPublished = published;
    const warmupLastEvent = eventNumber;

    say(`baseline: ${ORGANISATIONS} organisations × ${RATE}/s for ${BASELINE_SECONDS} s`);
    const baselineStarted = Date.now();
    await publishFor(BASELINE_SECONDS, () => RATE);
    const burstStarted = Date.now();
    say(`burst: ${BURSTING} at ${RATE * BURST}/s for ${BURST_SECONDS} s, the others at ${RATE}/s`);
    await publishFor(BURST_SECONDS, (organisationId) => (organisationId === BURSTING ? RATE * BURST : RATE));
    const burstEnded = Date.now();
    say('drain: everyone at their rate until every event has arrived');
    let arrivals: Arrival[] = [];
    const drainGiveUpAt = Date.now() + 600_000;
    for (;;) {
      arrivals = arrivals.concat(await receiver.take());
      if (arrivals.length >= published - warmupPublished || Date.now() > drainGiveUpAt) break;
      await publishFor(1, (organisationId) => (organisationId === BURSTING ? 0 : RATE));
    }
    await sleep(3_000);
    arrivals = arrivals.concat(await receiver.take());
    scraping = false;
    await scraper;

    // Every event published after the warm-up, counted once (a warm-up straggler is not one of them).
    const distinct = new Set(arrivals.filter(([, , , n]) => n > warmupLastEvent).map(([, , , n]) => n)).size;
    const quiet = (from: number, to: number) =>
      arrivals
        .filter(([o, sentAt]) => o !== 0 && sentAt >= from && sentAt < to)
        .map(([, sentAt, arrivedAt]) => arrivedAt - sentAt)
        .sort((a, b) => a - b);
    const burstArrivals = arrivals.filter(([o, sentAt]) => o === 0 && sentAt >= burstStarted);
    // Hundreds of thousands of arrivals: too many to spread into Math.max's arguments.
    const lastBurstArrival = burstArrivals.reduce(
      (latest, [, , arrivedAt]) => Math.max(latest, arrivedAt),
      0,
    );
    const baseline = quiet(baselineStarted, burstStarted);
    const underBurst = quiet(burstStarted, lastBurstArrival);
    const baselineDelivered = arrivals.filter(
      ([, sentAt]) => sentAt >= baselineStarted && sentAt < burstStarted,
    );
    const firings = alertFirings(samples);
    const burstLag = samples.map((s) => s.lagByOrganisation.get(BURSTING) ?? 0);
    const stats = (sorted: number[]) => ({
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      count: sorted.length,
    });
    const firstFiring = firings.get(BURSTING);
    say(`done: ${distinct} distinct of ${published - warmupPublished} published`);
    return {
      row,
      baseline: stats(baseline),
      underBurst: stats(underBurst),
      p99Rise: percentile(underBurst, 99) / percentile(baseline, 99) - 1,
      baselineDeliveriesPerSecond: baselineDelivered.length / BASELINE_SECONDS,
      burstDeliveries: burstArrivals.length,
      burstDrainPerSecond: burstArrivals.length / ((lastBurstArrival - burstStarted) / 1_000),
      burstDrainedSeconds: (lastBurstArrival - burstEnded) / 1_000,
      published: published - warmupPublished,
      delivered: distinct,
      alert: {
        firstFiringSeconds: firstFiring === undefined ? undefined : (firstFiring - burstStarted) / 1_000,
        firedFor: [...firings.keys()],
      },
      maxBurstLagSeconds: Math.max(0, ...burstLag),
      dispatcher: {
        leastCapacity: Math.min(...samples.map((sample) => sample.dispatcher.capacity)),
        mostWaiting: Math.max(...samples.map((sample) => sample.dispatcher.waiting)),
        busiestEventLoop: Math.max(...samples.map((sample) => sample.dispatcher.eventLoop)),
        parked: Math.max(...samples.map((sample) => sample.dispatcher.parked)),
      },
      quietP99ByOrganisation: Object.fromEntries(
        organisationIds.slice(1).map((organisationId, index) => [
          organisationId,
          percentile(
            arrivals
              .filter(([o, sentAt]) => o === index + 1 && sentAt >= burstStarted && sentAt < lastBurstArrival)
              .map(([, sentAt, arrivedAt]) => arrivedAt - sentAt)
              .sort((a, b) => a - b),
            99,
          ),
        ]),
      ),
    };
  } finally {
    for (const service of services) {
      const exited = new Promise((resolve) => service.once('exit', resolve));
      service.kill('SIGTERM');
      await exited;
    }
    await producer.disconnect();
  }
}

async function main(): Promise<void> {
  const infrastructure = await provisionInfrastructure({
    stateDir: join(workspaceRoot(), 'tmp', 'bench-infrastructure'),
    log: (m) => process.stderr.write(`[bench:fairness] ${m}\n`),
  });
  const receiver = await Receiver.start();
  const rows: RowResult[] = [];
  try {
    const selected = (process.env['BENCH_ROWS'] ?? 'fair,unfair').split(',');
    process.stderr.write(`[bench:fairness] load average before: ${loadAverage()}\n`);
    for (const row of selected) {
      const settings: Record<string, string> =
        row === 'unfair'
          ? {
              DISPATCH_SATURATED_EVENT_LOOP_UTILISATION: '1',
              DISPATCH_MAX_WAITING_PER_ORGANISATION: '100000',
            }
          : {};
      rows.push(await fairnessRow(row, receiver, infrastructure.kafkaBrokers, settings));
    }
  } finally {
    await receiver.stop();
    await infrastructure.stop();
  }
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n\n`);
  const lines = [
    `${ORGANISATIONS} organisations at ${RATE}/s each; ${BURSTING} at ×${BURST} for ${BURST_SECONDS} s after a ${BASELINE_SECONDS} s baseline (load average after: ${loadAverage()})`,
    '',
    '| row | quiet p50 / p99 ms, baseline | quiet p50 / p99 ms, burst until drained | p99 rise (goal < 25 %) | baseline deliveries/s | burst drained at /s (drained s after its end) | delivered / published | alert fires (s after burst start), for |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.row} | ${whole(r.baseline.p50)} / ${whole(r.baseline.p99)} | ${whole(r.underBurst.p50)} / ${whole(
          r.underBurst.p99,
        )} | ${fixed(r.p99Rise * 100, 0)} % | ${whole(r.baselineDeliveriesPerSecond)} | ${whole(
          r.burstDrainPerSecond,
        )} (${fixed(r.burstDrainedSeconds, 1)}) | ${whole(r.delivered)} / ${whole(r.published)} | ${
          r.alert.firstFiringSeconds === undefined ? 'not fired' : fixed(r.alert.firstFiringSeconds, 0)
        }, ${r.alert.firedFor.join(' ') || '—'} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[2] === 'receiver') {
  runReceiver();
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
