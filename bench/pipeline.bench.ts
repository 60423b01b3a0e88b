/**
 * Pipeline benchmark (`npm run bench:pipeline`): the whole product as an operator would size it on
 * one machine. A KRaft broker of its own (the launcher's flags), a PostgreSQL database of its own,
 * the four services as separate processes from dist/, one loopback HTTP receiver; one organisation
 * with N subscriptions that each match every event. First the system rests (no traffic) and each
 * process's CPU is read from the OS; then a ladder of steady rates is offered, events produced
 * straight to the inbound topic, and per rate it prints: delivered/s, publish → first 2xx at the
 * receiver (p50/p95/p99), how far the history projection trails the receiver, and CPU ms per
 * delivery of every process (from /proc, the services' own accounting is not trusted).
 *
 * Settings (environment, or `--rates=…` etc. as arguments):
 *   PIPELINE_RATES (200,400,1000,2000,3000)  offered deliveries/s, one step each (events/s × subscriptions)
 *   PIPELINE_STEP_SECONDS (30)               how long each rate is offered
 *   PIPELINE_SUBSCRIPTIONS (20)              subscriptions matching every event
 *   PIPELINE_IDLE_SECONDS (30)               the rest before the ladder; 0 skips it
 *   PIPELINE_DRAIN_SECONDS (60)              how long a step may take to deliver what it offered
 *   PIPELINE_SERVICE_ENV ()                  settings for every service, `NAME=value,NAME=value`, to compare them in one run
 *   SKYHOOK_KAFKA_JVM (compact)              the broker JVM's flags: compact, or production (Kafka's own)
 *   BENCH_SERVICE_NODE_OPTIONS, BENCH_CPU_PROFILE_DIR   as for the other benches
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { type InboundEvent, inboundEventContract } from '@skyhook/contracts';
import {
  kafkaJvmProfile,
  provisionPostgres,
  type ProvisionedPostgres,
  SERVICE_NAMES,
  workspaceRoot,
} from '@skyhook/local-infrastructure';
import { ContractProducer, kafkaEnvironmentSchema, kafkaSettingsFrom } from '@skyhook/messaging';
import { CHAOS_EVENT_TYPE, type ChaosStack, type ReceivedWebhook, startChaosStack } from '@skyhook/testing';
import { fixed, loadAverage, percentile, whole } from './bench-report';
import { benchNumberSetting, benchServiceEnvironment, benchSetting } from './bench-settings';
import {
  benchServiceNodeOptions,
  cpuUsedBetween,
  processCpuMs,
  type ProcessesCpuSnapshot,
  processesCpuSnapshot,
} from './process-cpu';

const setting = (name: string, fallback: string): string => benchSetting('PIPELINE_', name, fallback);
const numberSetting = (name: string, fallback: number, min = 0): number =>
  benchNumberSetting('PIPELINE_', name, fallback, min);

const RATES = setting('PIPELINE_RATES', '200,400,1000,2000,3000')
  .split(',')
  .map((rate) => {
    const value = Number(rate);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`PIPELINE_RATES: ${rate} is not a rate`);
    return value;
  });
const STEP_SECONDS = numberSetting('PIPELINE_STEP_SECONDS', 30, 1);
const SUBSCRIPTIONS = numberSetting('PIPELINE_SUBSCRIPTIONS', 20, 1);
const IDLE_SECONDS = numberSetting('PIPELINE_IDLE_SECONDS', 30);
const DRAIN_SECONDS = numberSetting('PIPELINE_DRAIN_SECONDS', 60, 1);
const SERVICE_ENVIRONMENT = benchServiceEnvironment('PIPELINE_', 'PIPELINE_SERVICE_ENV');
/** How often the publisher wakes to send what is due: a steady rate, not bursts. */
const PUBLISH_TICK_MS = 5;

const PROCESS_COLUMNS = [...SERVICE_NAMES, 'broker', 'postgres'] as const;
type ProcessColumn = (typeof PROCESS_COLUMNS)[number];
type CpuReading = Record<ProcessColumn, number>;
/** One reading of every process's CPU so far; PostgreSQL's backends come and go, so they are kept by pid. */
interface CpuSample {
  readonly processes: Record<Exclude<ProcessColumn, 'postgres'>, number>;
  readonly postgres: ProcessesCpuSnapshot;
  /** This process: the publisher and the receiver, which share the machine with what is measured. */
  readonly bench: number;
}

function say(line: string): void {
  process.stderr.write(`[bench:pipeline] ${line}\n`);
}

/** Every process's CPU so far: the four services, the broker's JVM, PostgreSQL's processes. */
function readCpu(stack: ChaosStack): CpuSample {
  const processes = {} as CpuSample['processes'];
  for (const name of SERVICE_NAMES) processes[name] = pidCpu(stack.service(name).pid);
  processes.broker = pidCpu(stack.kafka.nodes[0]?.pid);
  const own = process.cpuUsage();
  return { processes, postgres: processesCpuSnapshot('postgres'), bench: (own.user + own.system) / 1_000 };
}

function pidCpu(pid: number | undefined): number {
  return pid === undefined ? Number.NaN : processCpuMs(pid);
}

/** CPU ms of every process between two samples; `bench` is this process's, outside the totals. */
function cpuBetween(before: CpuSample, after: CpuSample): CpuReading & { bench: number } {
  const used = {
    postgres: cpuUsedBetween(before.postgres, after.postgres),
    bench: after.bench - before.bench,
  } as CpuReading & { bench: number };
  for (const column of PROCESS_COLUMNS) {
    if (column !== 'postgres') used[column] = after.processes[column] - before.processes[column];
  }
  return used;
}

const SENT_AT = /"sentAt":(\d+)/;
/** Each event's own number, whatever shape the profile gives the body. */
const BOOKING_ID = /"bookingId":"BK(\d+)"/;

/** The publish time an arrival carries in its body (the event's `data.sentAt`). */
function sentAtOf(arrival: ReceivedWebhook): number | undefined {
  const match = SENT_AT.exec(arrival.rawBody.toString('utf8'));
  return match === null ? undefined : Number(match[1]);
}

interface StepResult {
  readonly offeredPerSecond: number;
  readonly deliveredPerSecond: number;
  readonly latencies: { readonly p50: number; readonly p95: number; readonly p99: number };
  /** Deliveries of this step still not at the receiver when the drain time ran out. */
  readonly undelivered: number;
  /** Arrivals beyond the first of a delivery (an attempt repeated after a timeout or a lost answer). */
  readonly repeated: number;
  /** Deliveries the dispatcher parked (it judged the endpoint slow) and retries it scheduled, step and drain. */
  readonly parked: number;
  /** Times a delivery reached the queue wait bound while the dispatcher was saturated and waited on. */
  readonly waitedOn: number;
  /** The dispatcher's event-loop utilisation over the step's last second (0-1). */
  readonly dispatcherEventLoop: number;
  readonly retriesScheduled: number;
  /** From the step's last arrival until history held every attempt of it, ms. */
  readonly projectionCatchUpMs: number;
  readonly cpuMsPerDelivery: CpuReading;
  /** The bench process's own CPU per delivery (publisher and receiver): not Skyhook's, but the machine's. */
  readonly benchCpuMsPerDelivery: number;
}

class Publisher {
  private sequence = 0;

  constructor(
    private readonly producer: ContractProducer,
    private readonly organisationId: string,
  ) {}

  /** Offers `eventsPerSecond` for `seconds`, sending what is due every tick; returns the events sent. */
  async offer(eventsPerSecond: number, seconds: number): Promise<number> {
    const startedAt = performance.now();
    const total = Math.round(eventsPerSecond * seconds);
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - startedAt) / 1_000) * eventsPerSecond));
      if (due > sent) {
        const sentAt = Date.now();
        const events: InboundEvent[] = [];
        for (; sent < due; sent += 1) events.push(this.event(sentAt));
        await this.producer.send(inboundEventContract, 'inboundEvents', events, { trusted: true });
      }
      await sleep(PUBLISH_TICK_MS);
    }
    return sent;
  }

  private event(sentAt: number): InboundEvent {
    this.sequence += 1;
    return {
      id: `evt_pipe_${this.sequence}`,
      type: CHAOS_EVENT_TYPE,
      organisationId: this.organisationId,
      scope: {},
      occurredAt: new Date(sentAt).toISOString(),
      data: {
        sentAt,
        bookingId: `BK${this.sequence}`,
        flightId: `SK${1_000 + (this.sequence % 500)}`,
        passengers: 1 + (this.sequence % 4),
        cabin: 'economy',
      },
    };
  }
}

async function historyAttempts(database: Client): Promise<number> {
  const result = await database.query<{ count: string }>('SELECT count(*) AS count FROM delivery_attempts');
  return Number(result.rows[0]?.count ?? 0);
}

/**
 * The dispatcher's own counts of deliveries parked (a slow endpoint's overflow), of those that
 * waited on instead because the dispatcher itself was saturated, and of retries scheduled.
 */
async function dispatcherCounters(
  stack: ChaosStack,
): Promise<{ parked: number; waitedOn: number; retries: number; eventLoop: number }> {
  const response = await fetch(`${stack.service('dispatcher').baseUrl}/metrics`);
  const text = await response.text();
  const total = (metric: string): number =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${metric}{`) || line.startsWith(`${metric} `))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  return {
    parked: total('skyhook_dispatcher_deliveries_parked_total'),
    waitedOn: total('skyhook_dispatcher_queue_waits_extended_total'),
    eventLoop: total('skyhook_dispatcher_event_loop_utilisation'),
    retries: total('skyhook_dispatcher_retries_scheduled_total'),
  };
}

async function runStep(
  stack: ChaosStack,
  publisher: Publisher,
  database: Client,
  offeredPerSecond: number,
): Promise<StepResult> {
  const eventsPerSecond = offeredPerSecond / SUBSCRIPTIONS;
  const arrivalsBefore = stack.receiver.received.length;
  const historyBefore = await historyAttempts(database);
  const countersBefore = await dispatcherCounters(stack);
  const windowStart = Date.now();
  const cpuBefore = readCpu(stack);
  const events = await publisher.offer(eventsPerSecond, STEP_SECONDS);
  const cpuUsed = cpuBetween(cpuBefore, readCpu(stack));
  const windowEnd = Date.now();
  const { eventLoop: dispatcherEventLoop } = await dispatcherCounters(stack);
  const windowArrivals = stack.receiver.received.slice(arrivalsBefore);
  const deliveredInWindow = windowArrivals.length;

  const expected = events * SUBSCRIPTIONS;
  const drainUntil = Date.now() + DRAIN_SECONDS * 1_000;
  while (stack.receiver.received.length - arrivalsBefore < expected && Date.now() < drainUntil) {
    await sleep(100);
  }
  const arrivals = stack.receiver.received.slice(arrivalsBefore);
  const lastArrivalAt = arrivals.reduce((latest, arrival) => Math.max(latest, arrival.receivedAt), 0);
  // Every attempt the receiver saw is one attempt row (the receiver answers 200 at once: no retries).
  while ((await historyAttempts(database)) - historyBefore < arrivals.length && Date.now() < drainUntil) {
    await sleep(50);
  }
  const projectionCatchUpMs = Math.max(0, Date.now() - lastArrivalAt);
  const countersAfter = await dispatcherCounters(stack);

  const firstArrival = new Map<string, number>();
  for (const arrival of arrivals) {
    const eventId = BOOKING_ID.exec(arrival.rawBody.toString('utf8'))?.[1];
    const key = `${arrival.path} ${eventId ?? ''}`;
    const sentAt = sentAtOf(arrival);
    if (sentAt === undefined || firstArrival.has(key)) continue;
    firstArrival.set(key, arrival.receivedAt - sentAt);
  }
  const latencies = [...firstArrival.values()].sort((a, b) => a - b);
  const seconds = (windowEnd - windowStart) / 1_000;
  const cpuMsPerDelivery = {} as CpuReading;
  for (const column of PROCESS_COLUMNS) {
    cpuMsPerDelivery[column] = deliveredInWindow === 0 ? Number.NaN : cpuUsed[column] / deliveredInWindow;
  }
  return {
    offeredPerSecond: (events * SUBSCRIPTIONS) / seconds,
    deliveredPerSecond: deliveredInWindow / seconds,
    latencies: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
    },
    undelivered: Math.max(0, expected - firstArrival.size),
    repeated: arrivals.length - firstArrival.size,
    parked: countersAfter.parked - countersBefore.parked,
    waitedOn: countersAfter.waitedOn - countersBefore.waitedOn,
    dispatcherEventLoop,
    retriesScheduled: countersAfter.retries - countersBefore.retries,
    projectionCatchUpMs,
    cpuMsPerDelivery,
    benchCpuMsPerDelivery: deliveredInWindow === 0 ? Number.NaN : cpuUsed.bench / deliveredInWindow,
  };
}

async function measureIdle(stack: ChaosStack): Promise<CpuReading | undefined> {
  if (IDLE_SECONDS === 0) return undefined;
  const before = readCpu(stack);
  await sleep(IDLE_SECONDS * 1_000);
  const used = cpuBetween(before, readCpu(stack));
  const cores = {} as CpuReading;
  for (const column of PROCESS_COLUMNS) cores[column] = used[column] / (IDLE_SECONDS * 1_000);
  return cores;
}

const sum = (reading: CpuReading, columns: readonly ProcessColumn[]): number =>
  columns.reduce((total, column) => total + reading[column], 0);

function report(idle: CpuReading | undefined, steps: readonly StepResult[], startedLoad: string): string {
  const lines = [
    '',
    `One broker, one instance per service, ${SUBSCRIPTIONS} subscriptions matching every event, ` +
      `${STEP_SECONDS} s per rate, broker JVM ${kafkaJvmProfile()}` +
      `${Object.keys(SERVICE_ENVIRONMENT).length === 0 ? '' : `, services with ${JSON.stringify(SERVICE_ENVIRONMENT)}`}; ` +
      `load average ${startedLoad} at start, ${loadAverage()} at end.`,
  ];
  if (idle !== undefined) {
    lines.push(
      '',
      `At rest (${IDLE_SECONDS} s, no traffic), cores used:`,
      '',
      `| ${PROCESS_COLUMNS.join(' | ')} | four services |`,
      `|${PROCESS_COLUMNS.map(() => '---|').join('')}---|`,
      `| ${PROCESS_COLUMNS.map((column) => fixed(idle[column], 3)).join(' | ')} | ${fixed(sum(idle, SERVICE_NAMES), 3)} |`,
    );
  }
  lines.push(
    '',
    '"projection catch-up": from the step\'s last arrival at the receiver until history held every attempt of it.',
    'CPU is per delivery that reached the receiver during the step, in ms, read from /proc for each process;',
    '"bench" is the publisher and receiver (this process), outside the total but on the same cores.',
    '',
    `| offered/s | delivered/s | p50 / p95 / p99 ms | not delivered | repeated | parked / waited on / retries | dispatcher event loop | projection catch-up ms | ${PROCESS_COLUMNS.join(' | ')} | total ms/delivery | bench |`,
    `|---|---|---|---|---|---|---|---|${PROCESS_COLUMNS.map(() => '---|').join('')}---|---|`,
    ...steps.map((step) => {
      const { p50, p95, p99 } = step.latencies;
      const cpu = step.cpuMsPerDelivery;
      return (
        `| ${whole(step.offeredPerSecond)} | ${whole(step.deliveredPerSecond)} | ${whole(p50)} / ${whole(p95)} / ${whole(p99)} | ` +
        `${step.undelivered} | ${step.repeated} | ${step.parked} / ${step.waitedOn} / ${step.retriesScheduled} | ${fixed(step.dispatcherEventLoop, 2)} | ${whole(step.projectionCatchUpMs)} | ` +
        `${PROCESS_COLUMNS.map((column) => fixed(cpu[column], 3)).join(' | ')} | ${fixed(sum(cpu, PROCESS_COLUMNS), 2)} | ` +
        `${fixed(step.benchCpuMsPerDelivery, 3)} |`
      );
    }),
  );
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const startedLoad = loadAverage();
  say(`rates ${RATES.join(', ')} deliveries/s, ${STEP_SECONDS} s each, ${SUBSCRIPTIONS} subscriptions`);
  let postgres: ProvisionedPostgres | undefined;
  let stack: ChaosStack | undefined;
  let producer: ContractProducer | undefined;
  const database = { client: undefined as Client | undefined };
  try {
    postgres = await provisionPostgres({
      stateDir: join(workspaceRoot(), 'tmp', 'bench-pipeline'),
      useContainers: false,
      log: say,
    });
    const topicPrefix = `pipeline-${randomBytes(4).toString('hex')}.`;
    stack = await startChaosStack({
      postgresAdminUrl: postgres.adminUrl,
      label: 'bench-pipeline',
      subscriptions: SUBSCRIPTIONS,
      serviceEnvironment: { ...SERVICE_ENVIRONMENT, KAFKA_TOPIC_PREFIX: topicPrefix },
      serviceNodeOptions: benchServiceNodeOptions(),
      log: say,
    });
    const settings = kafkaSettingsFrom(
      kafkaEnvironmentSchema.parse({
        KAFKA_BROKERS: stack.kafka.bootstrapServers,
        KAFKA_TOPIC_PREFIX: topicPrefix,
      }),
      'bench-pipeline',
    );
    const kafka = new Kafka({
      clientId: 'bench-pipeline',
      brokers: [...settings.brokers],
      logLevel: logLevel.NOTHING,
    });
    producer = new ContractProducer(kafka, settings);
    await producer.connect();
    database.client = new Client({ connectionString: stack.databaseUrl });
    await database.client.connect();

    say(`resting ${IDLE_SECONDS} s`);
    const idle = await measureIdle(stack);
    const publisher = new Publisher(producer, stack.organisationId);
    const steps: StepResult[] = [];
    for (const rate of RATES) {
      say(`offering ${rate} deliveries/s`);
      const step = await runStep(stack, publisher, database.client, rate);
      steps.push(step);
      say(
        `  delivered ${whole(step.deliveredPerSecond)}/s, p99 ${whole(step.latencies.p99)} ms, ` +
          `${fixed(sum(step.cpuMsPerDelivery, PROCESS_COLUMNS), 2)} ms CPU per delivery`,
      );
    }
    process.stdout.write(report(idle, steps, startedLoad));
  } finally {
    await database.client?.end().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await stack?.close();
    await postgres?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
