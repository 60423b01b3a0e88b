/**
 * Dispatcher benchmark (`npm run bench:dispatch`): one run, three systems against the same
 * HTTPS receiver (a child process on loopback, 100 endpoint paths, the test CA's `localhost`
 * certificate), the same signing (`prepareWebhook`, Standard Webhooks, one secret per
 * subscription) and the same HTTP client (undici Agent configured like the dispatcher's:
 * keep-alive, 32 connections per origin, certificate verified, SSRF-guarded lookup):
 *  (a) Skyhook end to end: the real fanout and dispatcher services from dist/, inbound events
 *      published to Kafka by this process, each matching exactly one of 100 subscriptions;
 *  (b) raw ceiling: this process signs and POSTs directly, at most 1,000 requests in flight;
 *  (c) BullMQ + Redis (127.0.0.1:6379): this process adds jobs, a Worker in a child process
 *      (concurrency 1,000) signs and POSTs.
 * For each: max deliveries/s (20,000 offered at once), CPU per delivery (/proc utime+stime of
 * every process involved) and publish→arrival latency at a steady 1,000/s for 10 s.
 *
 * `BENCH_SERVICE_ENV=NAME=value,…` (or `--service-env=`) hands settings to fan-out and dispatcher.
 *
 * The same compiled file is also the receiver (`receiver` argument) and the BullMQ worker
 * (`bullmq-worker` argument) when forked by the benchmark.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import { type Kafka } from 'kafkajs';
import { Agent, request as undiciRequest } from 'undici';
import {
  deliveryIdOf,
  type DeliveryRequest,
  type InboundEvent,
  inboundEventContract,
} from '@skyhook/contracts';
import {
  type DeliveryPolicy,
  parseDeliveryPolicyOverride,
  DELIVERY_PROFILE_NAMES,
  type DeliveryProfileName,
  isDeliveryProfileName,
  isStandardWebhooksScheme,
  resolveEffectivePolicy,
} from '@skyhook/delivery-policy';
import {
  provisionInfrastructure,
  SERVICE_NODE_OPTIONS,
  serviceLaunchEnvironment,
  workspaceRoot,
} from '@skyhook/local-infrastructure';
import { topicNameOf } from '@skyhook/messaging';
import { generateSigningSecret } from '@skyhook/secrets';
import { createGuardedLookup } from '@skyhook/url-policy';
import {
  compilePayloadRenderer,
  compileSigner,
  prepareWebhook,
  type WebhookPreparation,
} from '@skyhook/webhook-signing';
import { percentile } from './bench-report';
import { benchServiceEnvironment } from './bench-settings';
import { benchKafka, launchBenchService, seedBenchSubscriptions } from './bench-stack';
import { kafkaBrokerPid, listProcesses, processCpuMs } from './process-cpu';

const ENDPOINTS = 100;
/** The ordered row: every subscription orders its deliveries by `/data/flightId`, over this many keys. */
const ORDERING_KEYS = 1_000;
const ORGANISATIONS = 10;
const THROUGHPUT_DELIVERIES = 20_000;
const WARMUP_DELIVERIES = 1_000;
const LATENCY_RATE_PER_SECOND = 1_000;
const LATENCY_SECONDS = 10;
/** The dispatcher's defaults: DISPATCH_CONNECTIONS_PER_ORIGIN and DISPATCH_MAX_IN_FLIGHT. */
const CONNECTIONS_PER_ORIGIN = 32;
const MAX_IN_FLIGHT = 1_000;
const EVENT_TYPE = 'booking.created';
const REDIS = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null } as const;
const TLS_FIXTURES = join(workspaceRoot(), 'libs', 'testing', 'fixtures', 'tls');
const TEST_CA_PATH = join(TLS_FIXTURES, 'ca.pem');

interface BenchSubscription {
  readonly id: string;
  readonly organisationId: string;
  readonly path: string;
  readonly secret: string;
}

function subscriptions(): BenchSubscription[] {
  return Array.from({ length: ENDPOINTS }, (_, i) => ({
    id: `sub_bench_${i}`,
    organisationId: `org_${i % ORGANISATIONS}`,
    path: `/e${i}`,
    secret: generateSigningSecret(),
  }));
}

/**
 * BENCH_PROFILE picks the organisations' delivery profile for every row (default
 * `standard-webhooks`); e.g. `aviationalley` runs the payload-template path end to end. The
 * receiver reads each delivery's send time from its `data`, so `flightline`, whose body keeps
 * only identifiers and status, cannot be measured this way.
 */
const BENCH_PROFILE = benchProfile(process.env['BENCH_PROFILE'] ?? 'standard-webhooks');
/** `BENCH_SERVICE_ENV=NAME=value,…` (or `--service-env=`): settings for fan-out and dispatcher. */
const SERVICE_ENVIRONMENT = benchServiceEnvironment('BENCH_', 'BENCH_SERVICE_ENV');

function benchProfile(name: string): DeliveryProfileName {
  if (!isDeliveryProfileName(name)) throw new Error(`BENCH_PROFILE: unknown profile ${name}`);
  return name;
}

/** The policy the dispatcher resolves for these subscriptions (the profile, empty organisation default and override). */
function benchPolicy(): DeliveryPolicy {
  return resolveEffectivePolicy(
    parseDeliveryPolicyOverride({}),
    parseDeliveryPolicyOverride({}),
    BENCH_PROFILE,
  );
}

/** What the dispatcher compiles per endpoint: the policy, the signer and the payload renderer. */
/** The (lower-case) header the profile's signature travels in, for the receiver's check. */
function signatureHeaderOf(policy: DeliveryPolicy): string {
  const { signature } = policy;
  return isStandardWebhooksScheme(signature) ? 'webhook-signature' : signature.header.toLowerCase();
}

function benchPreparation(policy: DeliveryPolicy, secret: string): WebhookPreparation {
  return {
    policy,
    signer: compileSigner(policy.signature, [secret]),
    renderBody: compilePayloadRenderer(policy.payload),
  };
}

/** The dispatcher's undici Agent (apps/dispatcher/src/webhook-http-client.ts), trusting the test CA. */
function dispatcherLikeAgent(): Agent {
  return new Agent({
    connections: CONNECTIONS_PER_ORIGIN,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connect: {
      lookup: createGuardedLookup({ allowHttpLoopback: true }),
      rejectUnauthorized: true,
      ca: readFileSync(TEST_CA_PATH, 'utf8'),
    },
  });
}

/** Signs and POSTs one delivery as the dispatcher does; throws unless the answer is 2xx. */
async function signAndPost(
  agent: Agent,
  preparation: WebhookPreparation,
  url: string,
  request: DeliveryRequest,
): Promise<void> {
  const webhook = prepareWebhook(preparation, request, new Date());
  const response = await undiciRequest(url, {
    method: 'POST',
    headers: webhook.headers,
    body: webhook.body,
    dispatcher: agent,
    headersTimeout: preparation.policy.timeoutMs,
    bodyTimeout: preparation.policy.timeoutMs,
  });
  await response.body.text();
  if (response.statusCode < 200 || response.statusCode > 299) {
    throw new Error(`receiver answered ${response.statusCode}`);
  }
}

/** A delivery request as fan-out builds it for the event numbered `n` (it goes to endpoint n % 100). */
function deliveryRequest(subscription: BenchSubscription, eventId: string, sentAt: number): DeliveryRequest {
  return {
    deliveryId: deliveryIdOf(subscription.organisationId, eventId, subscription.id),
    subscriptionId: subscription.id,
    organisationId: subscription.organisationId,
    event: {
      id: eventId,
      type: EVENT_TYPE,
      scope: { endpoint: subscription.path.slice(1) },
      occurredAt: new Date(sentAt).toISOString(),
      data: { bookingId: `bk_${eventId}`, seats: 2, centre: 'LGW', sentAt },
    },
    publishedAt: new Date(sentAt).toISOString(),
    held: false,
    test: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Receiver (child process)

interface ReceiverStats {
  readonly count: number;
  readonly unsigned: number;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

type ReceiverCommand = { id: number; cmd: 'reset' } | { id: number; cmd: 'wait'; count: number };

function runReceiver(): void {
  const signatureHeader = process.env['BENCH_SIGNATURE_HEADER'] ?? 'webhook-signature';
  let latencies: number[] = [];
  let unsigned = 0;
  let firstAt = 0;
  let lastAt = 0;
  let waiting: { id: number; count: number } | undefined;
  const stats = (): ReceiverStats => {
    const sorted = latencies.slice().sort((a, b) => a - b);
    return {
      count: latencies.length,
      unsigned,
      firstAt,
      lastAt,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? Number.NaN,
    };
  };
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const now = Date.now();
      const body = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('latin1');
      const sentAt = /"sentAt":(\d+)/.exec(body)?.[1];
      if (request.headers[signatureHeader] === undefined) unsigned += 1;
      if (firstAt === 0) firstAt = now;
      lastAt = now;
      latencies.push(sentAt === undefined ? Number.NaN : now - Number(sentAt));
      response.writeHead(200);
      response.end();
      if (waiting !== undefined && latencies.length >= waiting.count) {
        process.send?.({ id: waiting.id, stats: stats() });
        waiting = undefined;
      }
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
  process.on('message', (message: ReceiverCommand) => {
    if (message.cmd === 'reset') {
      latencies = [];
      unsigned = 0;
      firstAt = 0;
      lastAt = 0;
      process.send?.({ id: message.id });
    } else if (latencies.length >= message.count) {
      process.send?.({ id: message.id, stats: stats() });
    } else {
      waiting = { id: message.id, count: message.count };
    }
  });
  process.on('disconnect', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
}

class ReceiverClient {
  private nextId = 0;
  private readonly pending = new Map<number, (stats: ReceiverStats | undefined) => void>();

  private constructor(
    readonly child: ChildProcess,
    readonly origin: string,
  ) {
    child.on('message', (message: { id?: number; stats?: ReceiverStats }) => {
      if (message.id === undefined) return;
      this.pending.get(message.id)?.(message.stats);
      this.pending.delete(message.id);
    });
  }

  static async start(): Promise<ReceiverClient> {
    const child = forkSelf('receiver', { BENCH_SIGNATURE_HEADER: signatureHeaderOf(benchPolicy()) });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (message: { port: number }) => resolve(message.port));
      child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
    });
    return new ReceiverClient(child, `https://localhost:${port}`);
  }

  private call(
    command: { cmd: 'reset' } | { cmd: 'wait'; count: number },
  ): Promise<ReceiverStats | undefined> {
    const id = (this.nextId += 1);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ ...command, id });
    });
  }

  async reset(): Promise<void> {
    await this.call({ cmd: 'reset' });
  }

  async waitFor(count: number, timeoutMs: number): Promise<ReceiverStats> {
    const timeout = sleep(timeoutMs).then(() => undefined);
    const stats = await Promise.race([this.call({ cmd: 'wait', count }), timeout]);
    if (stats === undefined)
      throw new Error(`receiver did not get ${count} deliveries within ${timeoutMs} ms`);
    return stats;
  }

  async stop(): Promise<void> {
    await stopChild(this.child, () => this.child.disconnect());
  }
}

function forkSelf(role: string, environment: Record<string, string>): ChildProcess {
  return fork(__filename, [role], {
    cwd: workspaceRoot(),
    execArgv: SERVICE_NODE_OPTIONS,
    env: { ...process.env, ...serviceLaunchEnvironment(), ...environment },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

async function stopChild(child: ChildProcess, ask: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  ask();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc

type ProcessSet = Record<string, number | undefined>;

class CpuMeter {
  private readonly started: Record<string, number> = {};
  private readonly startedAt = performance.now();

  constructor(private readonly processes: ProcessSet) {
    for (const [name, pid] of Object.entries(processes)) {
      if (pid !== undefined) this.started[name] = processCpuMs(pid);
    }
  }

  /** CPU ms per process since construction, and each as a share of one core. */
  read(): { wallMs: number; cpuMs: Record<string, number>; coreShare: Record<string, number> } {
    const wallMs = performance.now() - this.startedAt;
    const cpuMs: Record<string, number> = {};
    const coreShare: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.processes)) {
      if (pid === undefined) continue;
      cpuMs[name] = Math.round(processCpuMs(pid) - (this.started[name] ?? 0));
      coreShare[name] = Math.round(((cpuMs[name] ?? 0) / wallMs) * 100) / 100;
    }
    return { wallMs: Math.round(wallMs), cpuMs, coreShare };
  }
}

// ---------------------------------------------------------------------------------------------
// Offering load

interface Offer {
  /** Hands over deliveries numbered `from` .. `from + count - 1`, each stamped `sentAt`. */
  (from: number, count: number, sentAt: number): Promise<void>;
}

/** As fast as the offer accepts them, in chunks. */
async function offerAll(offer: Offer, count: number, chunk: number): Promise<void> {
  for (let from = 0; from < count; from += chunk) {
    await offer(from, Math.min(chunk, count - from), Date.now());
  }
}

/** At a steady rate: every few ms whatever is due, each stamped when it was handed over. */
async function offerPaced(offer: Offer, ratePerSecond: number, seconds: number): Promise<number> {
  const total = ratePerSecond * seconds;
  const started = Date.now();
  let offered = 0;
  while (offered < total) {
    const due = Math.min(total, Math.floor(((Date.now() - started) * ratePerSecond) / 1_000));
    if (due > offered) {
      const count = due - offered;
      await offer(offered, count, Date.now());
      offered += count;
    }
    await sleep(2);
  }
  return total;
}

interface RowResult {
  readonly system: string;
  readonly deliveriesPerSecond: number;
  readonly throughputSeconds: number;
  /** CPU ms per delivery of the system's own processes (services / worker / sender, publisher included). */
  readonly cpuMsPerDelivery: number;
  /** CPU ms per delivery of the broker (Kafka or Redis). */
  readonly brokerCpuMsPerDelivery: number | null;
  readonly receiverCpuMsPerDelivery: number;
  readonly throughputCpu: ReturnType<CpuMeter['read']>;
  readonly latency: { p50: number; p95: number; p99: number; max: number; offeredPerSecond: number };
  readonly latencyCpu: ReturnType<CpuMeter['read']>;
  /** Skyhook only: publish → fan-out's delivery request (its record timestamp) at 1,000/s, ms. */
  readonly publishToFanout?: { p50: number; p95: number; p99: number; count: number };
}

/** Warm-up, then 20,000 at once, then 1,000/s for 10 s; CPU over the processes named. */
async function measureRow(
  system: string,
  receiver: ReceiverClient,
  offer: Offer,
  chunk: number,
  processes: ProcessSet,
  broker: string | undefined,
): Promise<RowResult> {
  process.stderr.write(`[bench] ${system}: warm-up\n`);
  await receiver.reset();
  await offerAll((from, count, sentAt) => offer(1_000_000 + from, count, sentAt), WARMUP_DELIVERIES, chunk);
  await receiver.waitFor(WARMUP_DELIVERIES, 120_000);

  process.stderr.write(`[bench] ${system}: ${THROUGHPUT_DELIVERIES} deliveries at once\n`);
  await receiver.reset();
  const all = { ...processes, receiver: receiver.child.pid };
  let meter = new CpuMeter(all);
  const started = Date.now();
  await offerAll(
    (from, count, sentAt) => offer(2_000_000 + from, count, sentAt),
    THROUGHPUT_DELIVERIES,
    chunk,
  );
  const burst = await receiver.waitFor(THROUGHPUT_DELIVERIES, 180_000);
  const throughputCpu = meter.read();
  const throughputSeconds = (burst.lastAt - started) / 1_000;
  if (burst.unsigned > 0) throw new Error(`${system}: ${burst.unsigned} deliveries arrived unsigned`);

  process.stderr.write(`[bench] ${system}: ${LATENCY_RATE_PER_SECOND}/s for ${LATENCY_SECONDS} s\n`);
  await sleep(1_000);
  await receiver.reset();
  meter = new CpuMeter(all);
  const paced = performance.now();
  const offered = await offerPaced(
    (from, count, sentAt) => offer(3_000_000 + from, count, sentAt),
    LATENCY_RATE_PER_SECOND,
    LATENCY_SECONDS,
  );
  const offeredPerSecond = Math.round(offered / ((performance.now() - paced) / 1_000));
  const steady = await receiver.waitFor(offered, 120_000);
  const latencyCpu = meter.read();

  const own = Object.entries(throughputCpu.cpuMs)
    .filter(([name]) => name !== 'receiver' && name !== broker)
    .reduce((sum, [, ms]) => sum + ms, 0);
  const perDelivery = (ms: number | undefined) =>
    ms === undefined ? null : Math.round((ms / THROUGHPUT_DELIVERIES) * 1_000) / 1_000;
  return {
    system,
    deliveriesPerSecond: Math.round(THROUGHPUT_DELIVERIES / throughputSeconds),
    throughputSeconds: Math.round(throughputSeconds * 100) / 100,
    cpuMsPerDelivery: perDelivery(own) ?? Number.NaN,
    brokerCpuMsPerDelivery: broker === undefined ? null : perDelivery(throughputCpu.cpuMs[broker]),
    receiverCpuMsPerDelivery: perDelivery(throughputCpu.cpuMs['receiver']) ?? Number.NaN,
    throughputCpu,
    latency: { p50: steady.p50, p95: steady.p95, p99: steady.p99, max: steady.max, offeredPerSecond },
    latencyCpu,
  };
}

// ---------------------------------------------------------------------------------------------
// (b) raw ceiling

async function rawRow(receiver: ReceiverClient, subs: BenchSubscription[]): Promise<RowResult> {
  const agent = dispatcherLikeAgent();
  const policy = benchPolicy();
  const preparations = subs.map((sub) => benchPreparation(policy, sub.secret));
  let inFlight = 0;
  let failures = 0;
  const slotFreed: (() => void)[] = [];
  const send = (n: number, sentAt: number): void => {
    const i = n % ENDPOINTS;
    const sub = subs[i]!;
    inFlight += 1;
    signAndPost(
      agent,
      preparations[i]!,
      `${receiver.origin}${sub.path}`,
      deliveryRequest(sub, `evt_${n}`, sentAt),
    )
      .catch(() => {
        failures += 1;
      })
      .finally(() => {
        inFlight -= 1;
        slotFreed.shift()?.();
      });
  };
  const offer: Offer = async (from, count, sentAt) => {
    for (let n = from; n < from + count; n += 1) {
      while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => slotFreed.push(resolve));
      send(n, sentAt);
    }
  };
  try {
    return await measureRow(
      'raw (sign + POST, no queue)',
      receiver,
      offer,
      1_000,
      { bench: process.pid },
      undefined,
    );
  } finally {
    await agent.close();
    if (failures > 0) process.stderr.write(`[bench] raw: ${failures} failed POSTs\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// (c) BullMQ + Redis

function runBullmqWorker(): void {
  const subs = JSON.parse(process.env['BENCH_SUBSCRIPTIONS'] ?? '[]') as BenchSubscription[];
  const origin = process.env['BENCH_ORIGIN'] ?? '';
  const agent = dispatcherLikeAgent();
  const policy = benchPolicy();
  const endpoints = new Map(
    subs.map((sub) => [
      sub.id,
      { url: `${origin}${sub.path}`, preparation: benchPreparation(policy, sub.secret) },
    ]),
  );
  const worker = new Worker<DeliveryRequest>(
    process.env['BENCH_QUEUE'] ?? '',
    async (job) => {
      const endpoint = endpoints.get(job.data.subscriptionId);
      if (endpoint === undefined) throw new Error(`unknown subscription ${job.data.subscriptionId}`);
      await signAndPost(agent, endpoint.preparation, endpoint.url, job.data);
    },
    { connection: REDIS, concurrency: MAX_IN_FLIGHT, autorun: true },
  );
  worker.on('failed', (_job, error) => process.stderr.write(`[bench worker] job failed: ${error.message}\n`));
  process.on('message', (message: string) => {
    if (message !== 'stop') return;
    void (async () => {
      await worker.close();
      await agent.close();
      process.exit(0);
    })();
  });
  worker.waitUntilReady().then(
    () => process.send?.('ready'),
    (error: unknown) => {
      process.stderr.write(`[bench worker] ${String(error)}\n`);
      process.exit(1);
    },
  );
}

function bullmqVersion(): string {
  const manifest = readFileSync(join(workspaceRoot(), 'node_modules', 'bullmq', 'package.json'), 'utf8');
  return (JSON.parse(manifest) as { version: string }).version;
}

async function bullmqRow(receiver: ReceiverClient, subs: BenchSubscription[]): Promise<RowResult> {
  const queueName = `skyhook-bench-dispatch-${randomBytes(4).toString('hex')}`;
  const queue = new Queue<DeliveryRequest>(queueName, { connection: REDIS });
  const worker = forkSelf('bullmq-worker', {
    BENCH_QUEUE: queueName,
    BENCH_ORIGIN: receiver.origin,
    BENCH_SUBSCRIPTIONS: JSON.stringify(subs),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('exit', (code) => reject(new Error(`BullMQ worker exited with ${code}`)));
    });
    const offer: Offer = async (from, count, sentAt) => {
      const jobs = [];
      for (let n = from; n < from + count; n += 1) {
        const sub = subs[n % ENDPOINTS]!;
        jobs.push({
          name: 'deliver',
          data: deliveryRequest(sub, `evt_${n}`, sentAt),
          // The lightest BullMQ set-up: finished jobs are not kept in Redis.
          opts: { removeOnComplete: true, removeOnFail: true },
        });
      }
      await queue.addBulk(jobs);
    };
    const redis = listProcesses().find((entry) => entry.comm === 'redis-server')?.pid;
    return await measureRow(
      `BullMQ ${bullmqVersion()} + Redis (worker in a child process)`,
      receiver,
      offer,
      1_000,
      { bench: process.pid, worker: worker.pid, redis },
      'redis',
    );
  } finally {
    await stopChild(worker, () => worker.send('stop'));
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

// ---------------------------------------------------------------------------------------------
// (a) Skyhook end to end

async function skyhookRow(
  receiver: ReceiverClient,
  subs: BenchSubscription[],
  brokers: string,
  ordered = false,
): Promise<RowResult> {
  const masterKey = randomBytes(32).toString('base64');
  const { environment, settings, kafka, producer } = await benchKafka(brokers, {
    KAFKA_PARTITIONS_INBOUND_EVENTS: '12',
    KAFKA_PARTITIONS_DELIVERY_REQUESTS: '24',
  });
  const services: ChildProcess[] = [];
  try {
    await seedBenchSubscriptions(producer, masterKey, {
      organisationIds: Array.from({ length: ORGANISATIONS }, (_, o) => `org_${o}`),
      eventType: EVENT_TYPE,
      profile: BENCH_PROFILE,
      subscriptions: subs.map((sub) => ({
        id: sub.id,
        organisationId: sub.organisationId,
        url: `${receiver.origin}${sub.path}`,
        secret: sub.secret,
        scopeFilter: { endpoint: sub.path.slice(1) },
        ...(ordered ? { ordering: { key: '/data/flightId', afterFinalFailure: 'skip' as const } } : {}),
      })),
    });

    const launch = async (name: 'fanout' | 'dispatcher', extra: Record<string, string>) => {
      const { child } = await launchBenchService(name, { ...environment, ...SERVICE_ENVIRONMENT, ...extra });
      services.push(child);
      return child;
    };
    const [fanout, dispatcher] = await Promise.all([
      launch('fanout', {}),
      launch('dispatcher', {
        SECRETS_MASTER_KEY: masterKey,
        SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
        NODE_EXTRA_CA_CERTS: TEST_CA_PATH,
      }),
    ]);

    const offer: Offer = async (from, count, sentAt) => {
      const events: InboundEvent[] = [];
      for (let n = from; n < from + count; n += 1) {
        const sub = subs[n % ENDPOINTS]!;
        const request = deliveryRequest(sub, `evt_${n}`, sentAt);
        const event = ordered
          ? { ...request.event, data: { ...request.event.data, flightId: `FL${n % ORDERING_KEYS}` } }
          : request.event;
        events.push({ ...event, organisationId: sub.organisationId });
      }
      await producer.send(inboundEventContract, 'inboundEvents', events, { trusted: true });
    };
    const kafkaBroker = kafkaBrokerPid();
    const row = await measureRow(
      ordered
        ? `Skyhook, ordered subscriptions (${ORDERING_KEYS.toLocaleString('en-GB')} keys, ADR 0031)`
        : 'Skyhook (fanout + dispatcher over Kafka)',
      receiver,
      offer,
      1_000,
      { bench: process.pid, fanout: fanout.pid, dispatcher: dispatcher.pid, kafka: kafkaBroker },
      'kafka',
    );
    const publishToFanout = await publishToFanoutLatency(
      kafka,
      topicNameOf(settings, ordered ? 'deliveryOrdered' : 'deliveryRequests'),
    );
    return { ...row, publishToFanout };
  } finally {
    for (const service of services) await stopChild(service, () => service.kill('SIGTERM'));
    await producer.disconnect();
  }
}

/**
 * The first half of the steady phase's latency: from the bench's publish (`sentAt` in the event)
 * to the timestamp fan-out gave the delivery request it produced (kafkajs stamps a record when
 * `send` is called). What the receiver saw minus this is the broker's produce, the dispatcher's
 * fetch, signing and the HTTPS request. Read from the topic after the run, so it costs the
 * measured phase nothing.
 */
async function publishToFanoutLatency(
  kafka: Kafka,
  topic: string,
): Promise<{ p50: number; p95: number; p99: number; count: number }> {
  const consumer = kafka.consumer({
    groupId: `bench-hops-${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs: 200,
  });
  const hops: number[] = [];
  let lastRecordAt = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        lastRecordAt = Date.now();
        const value = message.value?.toString() ?? '';
        if (!value.includes('"evt_3')) return Promise.resolve();
        const sentAt = /"sentAt":(\d+)/.exec(value)?.[1];
        if (sentAt !== undefined) hops.push(Number(message.timestamp) - Number(sentAt));
        return Promise.resolve();
      },
    });
    // Read until the topic has been quiet for 2 s (everything produced is long since stored).
    while (Date.now() - lastRecordAt < 2_000) await sleep(250);
  } finally {
    await consumer.disconnect();
  }
  const sorted = hops.sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    count: sorted.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Payload rendering, in process: what each profile's body costs per attempt

/**
 * Renders the bench's delivery request under every profile's compiled renderer, and prepares
 * (renders, heads and signs) it, in µs per call. A template must cost no more than the
 * built-in envelope by a margin that does not show in the dispatcher's 0.6 ms per delivery.
 */
function measurePayloadRendering(): string[] {
  const sub = subscriptions()[0]!;
  const request = deliveryRequest(sub, 'evt_render', Date.now());
  const lines = [
    '| profile | payload | render µs | render + headers + sign µs |',
    '| --- | --- | --- | --- |',
  ];
  for (const profile of DELIVERY_PROFILE_NAMES) {
    const policy = resolveEffectivePolicy(undefined, undefined, profile);
    const preparation = benchPreparation(policy, sub.secret);
    const timePerCall = (work: () => unknown): number => {
      for (let i = 0; i < 20_000; i += 1) work(); // warm-up
      const calls = 200_000;
      const started = performance.now();
      for (let i = 0; i < calls; i += 1) work();
      return ((performance.now() - started) * 1_000) / calls;
    };
    const render = timePerCall(() => preparation.renderBody(request));
    const prepare = timePerCall(() => prepareWebhook(preparation, request, new Date()));
    lines.push(`| ${profile} | ${policy.payload.shape} | ${render.toFixed(2)} | ${prepare.toFixed(2)} |`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------

function formatMs(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 10) / 10) : '—';
}

async function main(): Promise<void> {
  const infrastructure = await provisionInfrastructure({
    stateDir: join(workspaceRoot(), 'tmp', 'bench-infrastructure'),
    log: (m) => process.stderr.write(`[bench] ${m}\n`),
  });
  process.stdout.write(
    `Payload rendering (in process, one core):\n${measurePayloadRendering().join('\n')}\n\n`,
  );
  const receiver = await ReceiverClient.start();
  try {
    const subs = subscriptions();
    // BENCH_ROWS=skyhook (or raw, bullmq, comma-separated) runs only those rows, for profiling;
    // BENCH_ROWS=none only the rendering table above.
    const selected = (process.env['BENCH_ROWS'] ?? 'raw,bullmq,skyhook').split(',');
    const raw = selected.includes('raw') ? await rawRow(receiver, subs) : undefined;
    const bullmq = selected.includes('bullmq') ? await bullmqRow(receiver, subs) : undefined;
    const skyhook = selected.includes('skyhook')
      ? await skyhookRow(receiver, subs, infrastructure.kafkaBrokers)
      : undefined;
    // BENCH_ROWS=skyhook-ordered: the same with every subscription ordered (ADR 0031).
    const ordered = selected.includes('skyhook-ordered')
      ? await skyhookRow(receiver, subs, infrastructure.kafkaBrokers, true)
      : undefined;
    const rows = [skyhook, ordered, raw, bullmq].filter((row) => row !== undefined);
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n\n`);
    const lines = [
      '| system | deliveries/s (20,000 at once) | CPU ms/delivery (own processes) | broker CPU ms/delivery | p50 ms @1,000/s | p95 ms | p99 ms |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map(
        (row) =>
          `| ${row.system} | ${row.deliveriesPerSecond.toLocaleString('en-GB')} | ${row.cpuMsPerDelivery} | ${
            row.brokerCpuMsPerDelivery ?? '—'
          } | ${formatMs(row.latency.p50)} | ${formatMs(row.latency.p95)} | ${formatMs(row.latency.p99)} |`,
      ),
    ];
    if (skyhook?.publishToFanout !== undefined) {
      const hop = skyhook.publishToFanout;
      lines.push(
        '',
        `Skyhook at 1,000/s, publish → fan-out's delivery request (${hop.count} records): p50 ${formatMs(hop.p50)} / p95 ${formatMs(
          hop.p95,
        )} / p99 ${formatMs(hop.p99)} ms; the rest of the p50 (${formatMs(
          skyhook.latency.p50 - hop.p50,
        )} ms) is fan-out's produce, the dispatcher's fetch, signing and the HTTPS request`,
      );
    }
    if (skyhook && raw && bullmq) {
      const ofRaw = skyhook.deliveriesPerSecond / raw.deliveriesPerSecond;
      const ofBullmq = skyhook.deliveriesPerSecond / bullmq.deliveriesPerSecond;
      lines.push(
        '',
        `Skyhook/raw throughput: ${Math.round(ofRaw * 100)} % (goal ≥ 60 %: ${ofRaw >= 0.6 ? 'met' : 'NOT met'})`,
        `Skyhook/BullMQ throughput: ${ofBullmq.toFixed(2)}× (goal ≥ 1.5×: ${ofBullmq >= 1.5 ? 'met' : 'NOT met'})`,
        `Skyhook p99 at 1,000/s: ${formatMs(skyhook.latency.p99)} ms (goal < 50 ms: ${
          skyhook.latency.p99 < 50 ? 'met' : 'NOT met'
        })`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await receiver.stop();
    await infrastructure.stop();
  }
}

const role = process.argv[2];
if (role === 'receiver') {
  runReceiver();
} else if (role === 'bullmq-worker') {
  runBullmqWorker();
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
