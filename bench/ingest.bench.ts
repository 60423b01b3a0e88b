/**
 * Ingest benchmark (`npm run bench:ingest`): how fast events get into Skyhook, with the durability
 * a client is promised (the broker acknowledged with acks=all before the answer; each request
 * carries an Idempotency-Key, claimed in PostgreSQL). A KRaft broker and a PostgreSQL database of
 * their own, the four services as processes from dist/ (no subscriptions: what is measured is the
 * way in), and this process as the client over keep-alive connections. Rows:
 *
 *   REST single, closed loop    `POST /v1/events`, INGEST_CONNECTIONS requests always open
 *   REST single, open loop      `POST /v1/events` at INGEST_OPEN_RATE events/s, latency per request
 *   REST batch, closed loop     `POST /v1/events/batch` of INGEST_BATCH_SIZE events, a quarter of the connections
 *   REST batch, open loop       INGEST_OPEN_RATE events/s in batches of INGEST_BATCH_SIZE
 *   straight to the topic       the inbound topic through the producer (acks=all), no api, no claims
 *
 * Per row: events/s accepted, latency p50/p95/p99 of a request, CPU ms per event of the api, the
 * broker and PostgreSQL (from /proc). Afterwards every event answered `accepted` is checked to be
 * `published` in the claims table: a fast answer that lost events would be no answer.
 *
 * Settings (environment, or `--seconds=…` etc. as arguments):
 *   INGEST_SECONDS (15)       how long each row runs
 *   INGEST_CONNECTIONS (32)   requests open at once in the closed loops
 *   INGEST_BATCH_SIZE (100)   events per batch request (at most 500)
 *   INGEST_OPEN_RATE (1000)   events/s offered in the open loops
 *   INGEST_ROWS (all)         which rows, by their first word: single,batch,topic
 *   BENCH_SERVICE_NODE_OPTIONS, BENCH_CPU_PROFILE_DIR   as for the other benches
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { Pool } from 'undici';
import { type InboundEvent, inboundEventContract } from '@skyhook/contracts';
import { provisionPostgres, type ProvisionedPostgres, workspaceRoot } from '@skyhook/local-infrastructure';
import { ContractProducer, kafkaEnvironmentSchema, kafkaSettingsFrom } from '@skyhook/messaging';
import { CHAOS_EVENT_TYPE, type ChaosStack, startChaosStack } from '@skyhook/testing';
import { fixed, loadAverage, percentile, whole } from './bench-report';
import { benchNumberSetting, benchSetting } from './bench-settings';
import {
  benchServiceNodeOptions,
  cpuUsedBetween,
  processCpuMs,
  type ProcessesCpuSnapshot,
  processesCpuSnapshot,
} from './process-cpu';

const numberSetting = (name: string, fallback: number, min = 0): number =>
  benchNumberSetting('INGEST_', name, fallback, min);

const SECONDS = numberSetting('INGEST_SECONDS', 15, 1);
const CONNECTIONS = numberSetting('INGEST_CONNECTIONS', 32, 1);
const BATCH_SIZE = Math.min(500, numberSetting('INGEST_BATCH_SIZE', 100, 1));
const OPEN_RATE = numberSetting('INGEST_OPEN_RATE', 1_000, 1);
/** How often an open loop wakes to send what is due. */
const TICK_MS = 5;

function say(line: string): void {
  process.stderr.write(`[bench:ingest] ${line}\n`);
}

interface CpuSample {
  readonly api: number;
  readonly broker: number;
  readonly client: number;
  readonly postgres: ProcessesCpuSnapshot;
}

function readCpu(stack: ChaosStack): CpuSample {
  const usage = process.cpuUsage();
  return {
    api: processCpuMs(stack.service('api').pid ?? Number.NaN),
    broker: processCpuMs(stack.kafka.nodes[0]?.pid ?? Number.NaN),
    client: (usage.user + usage.system) / 1_000,
    postgres: processesCpuSnapshot('postgres'),
  };
}

interface RowResult {
  readonly name: string;
  readonly events: number;
  readonly seconds: number;
  readonly refused: number;
  readonly latencies: readonly number[];
  readonly cpuMs: {
    readonly api: number;
    readonly broker: number;
    readonly postgres: number;
    readonly client: number;
  };
}

/** A request's outcome: how many of its events were accepted, how many refused. */
interface Outcome {
  readonly accepted: number;
  readonly refused: number;
}

class IngestClient {
  private sequence = 0;
  /** Ids of every event the api answered `accepted`, to be found published afterwards. */
  readonly acceptedIds: string[] = [];

  constructor(
    private readonly pool: Pool,
    private readonly apiKey: string,
  ) {}

  private event(): { id: string; type: string; data: Record<string, unknown> } {
    this.sequence += 1;
    return {
      id: `evt_ingest_${this.sequence}`,
      type: CHAOS_EVENT_TYPE,
      data: {
        bookingId: `BK${this.sequence}`,
        flightId: `SK${1_000 + (this.sequence % 500)}`,
        passengers: 1 + (this.sequence % 4),
        cabin: 'economy',
      },
    };
  }

  async single(): Promise<Outcome> {
    const event = this.event();
    const { statusCode, body } = await this.pool.request({
      method: 'POST',
      path: '/v1/events',
      headers: this.headers(),
      body: JSON.stringify(event),
    });
    const text = await body.text();
    if (statusCode !== 202) {
      say(`single publish answered ${statusCode}: ${text.slice(0, 200)}`);
      return { accepted: 0, refused: 1 };
    }
    this.acceptedIds.push(event.id);
    return { accepted: 1, refused: 0 };
  }

  async batch(size: number): Promise<Outcome> {
    const events = Array.from({ length: size }, () => this.event());
    const { statusCode, body } = await this.pool.request({
      method: 'POST',
      path: '/v1/events/batch',
      headers: this.headers(),
      body: JSON.stringify({ events }),
    });
    const text = await body.text();
    if (statusCode !== 200) {
      say(`batch publish answered ${statusCode}: ${text.slice(0, 200)}`);
      return { accepted: 0, refused: size };
    }
    const answer = JSON.parse(text) as { results: { id?: string; status: string }[] };
    let accepted = 0;
    for (const result of answer.results) {
      if (result.status === 'accepted' && result.id !== undefined) {
        accepted += 1;
        this.acceptedIds.push(result.id);
      }
    }
    return { accepted, refused: size - accepted };
  }

  private headers(): Record<string, string> {
    return {
      authorization: `Bearer ${this.apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': `ingest-${randomBytes(12).toString('hex')}`,
    };
  }
}

/** `connections` loops, each sending the next request as soon as the last is answered. */
async function closedLoop(
  connections: number,
  send: () => Promise<Outcome>,
  seconds = SECONDS,
): Promise<{ events: number; refused: number; latencies: number[] }> {
  const until = performance.now() + seconds * 1_000;
  const latencies: number[] = [];
  let events = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const startedAt = performance.now();
        const outcome = await send();
        latencies.push(performance.now() - startedAt);
        events += outcome.accepted;
        refused += outcome.refused;
      }
    }),
  );
  return { events, refused, latencies };
}

/** Requests started on a schedule, whatever the earlier ones are doing: latency as a client at that rate sees it. */
async function openLoop(
  requestsPerSecond: number,
  send: () => Promise<Outcome>,
): Promise<{ events: number; refused: number; latencies: number[] }> {
  const startedAt = performance.now();
  const total = Math.round(requestsPerSecond * SECONDS);
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  let events = 0;
  let refused = 0;
  let started = 0;
  while (started < total) {
    const due = Math.min(total, Math.floor(((performance.now() - startedAt) / 1_000) * requestsPerSecond));
    for (; started < due; started += 1) {
      const requestStartedAt = performance.now();
      inFlight.push(
        send().then((outcome) => {
          latencies.push(performance.now() - requestStartedAt);
          events += outcome.accepted;
          refused += outcome.refused;
        }),
      );
    }
    await sleep(TICK_MS);
  }
  await Promise.all(inFlight);
  return { events, refused, latencies };
}

async function measureRow(
  stack: ChaosStack,
  name: string,
  run: () => Promise<{ events: number; refused: number; latencies: number[] }>,
): Promise<RowResult> {
  say(name);
  const before = readCpu(stack);
  const startedAt = performance.now();
  const { events, refused, latencies } = await run();
  const seconds = (performance.now() - startedAt) / 1_000;
  const after = readCpu(stack);
  const result: RowResult = {
    name,
    events,
    seconds,
    refused,
    latencies: [...latencies].sort((a, b) => a - b),
    cpuMs: {
      api: after.api - before.api,
      broker: after.broker - before.broker,
      postgres: cpuUsedBetween(before.postgres, after.postgres),
      client: after.client - before.client,
    },
  };
  say(`  ${whole(events / seconds)} events/s, p99 ${fixed(percentile(result.latencies, 99), 1)} ms`);
  // Let the pipeline behind the api settle before the next row's CPU is read.
  await sleep(3_000);
  return result;
}

/** The inbound topic through the producer, acks=all, `connections / 4` sends of a batch each in flight. */
async function straightToTopic(
  producer: ContractProducer,
  organisationId: string,
): Promise<{ events: number; refused: number; latencies: number[] }> {
  let sequence = 0;
  const batch = (): InboundEvent[] =>
    Array.from({ length: BATCH_SIZE }, () => {
      sequence += 1;
      return {
        id: `evt_topic_${sequence}`,
        type: CHAOS_EVENT_TYPE,
        organisationId,
        scope: {},
        occurredAt: new Date().toISOString(),
        data: { bookingId: `BK${sequence}`, flightId: `SK${1_000 + (sequence % 500)}`, cabin: 'economy' },
      };
    });
  return closedLoop(Math.max(1, Math.round(CONNECTIONS / 4)), async () => {
    await producer.send(inboundEventContract, 'inboundEvents', batch());
    return { accepted: BATCH_SIZE, refused: 0 };
  });
}

/** How many of `ids` the claims table holds as published (the broker acknowledged them). */
async function countPublished(databaseUrl: string, ids: readonly string[]): Promise<number> {
  const database = new Client({ connectionString: databaseUrl });
  await database.connect();
  try {
    const result = await database.query<{ count: string }>(
      `SELECT count(*) AS count FROM published_events WHERE event_id = ANY($1::text[]) AND state = 'published'`,
      [ids],
    );
    return Number(result.rows[0]?.count ?? 0);
  } finally {
    await database.end();
  }
}

function report(rows: readonly RowResult[], startedLoad: string, published: string): string {
  const perEvent = (cpuMs: number, row: RowResult): string =>
    fixed(row.events === 0 ? Number.NaN : cpuMs / row.events, 3);
  return [
    '',
    `One broker, the api and the three other services as processes, no subscriptions; ${SECONDS} s per row, ` +
      `${CONNECTIONS} connections (batch rows: ${Math.max(1, Math.round(CONNECTIONS / 4))}), batches of ${BATCH_SIZE}; ` +
      `load average ${startedLoad} at start, ${loadAverage()} at end. ${published}`,
    '',
    'Latency is per request (a batch request carries the whole batch). CPU is per accepted event, in ms, from /proc; "client" is this process.',
    '',
    '| row | events/s | refused | p50 / p95 / p99 ms | api | broker | postgres | api + broker + postgres | client |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((row) => {
      const { api, broker, postgres, client } = row.cpuMs;
      const l = row.latencies;
      return (
        `| ${row.name} | ${whole(row.events / row.seconds)} | ${row.refused} | ` +
        `${fixed(percentile(l, 50), 1)} / ${fixed(percentile(l, 95), 1)} / ${fixed(percentile(l, 99), 1)} | ` +
        `${perEvent(api, row)} | ${perEvent(broker, row)} | ${perEvent(postgres, row)} | ` +
        `${perEvent(api + broker + postgres, row)} | ${perEvent(client, row)} |`
      );
    }),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const startedLoad = loadAverage();
  let postgres: ProvisionedPostgres | undefined;
  let stack: ChaosStack | undefined;
  let producer: ContractProducer | undefined;
  let pool: Pool | undefined;
  try {
    postgres = await provisionPostgres({
      stateDir: join(workspaceRoot(), 'tmp', 'bench-ingest'),
      useContainers: false,
      log: say,
    });
    const topicPrefix = `ingest-${randomBytes(4).toString('hex')}.`;
    stack = await startChaosStack({
      postgresAdminUrl: postgres.adminUrl,
      label: 'bench-ingest',
      subscriptions: 0,
      serviceEnvironment: { KAFKA_TOPIC_PREFIX: topicPrefix },
      serviceNodeOptions: benchServiceNodeOptions(),
      log: say,
    });
    const settings = kafkaSettingsFrom(
      kafkaEnvironmentSchema.parse({
        KAFKA_BROKERS: stack.kafka.bootstrapServers,
        KAFKA_TOPIC_PREFIX: topicPrefix,
      }),
      'bench-ingest',
    );
    producer = new ContractProducer(
      new Kafka({ clientId: 'bench-ingest', brokers: [...settings.brokers], logLevel: logLevel.NOTHING }),
      settings,
    );
    await producer.connect();
    pool = new Pool(stack.apiUrl, { connections: CONNECTIONS, pipelining: 1 });
    const client = new IngestClient(pool, stack.apiKey);
    // Warm the api's code paths and connections before anything is measured.
    await closedLoop(4, () => client.single(), 3);
    await closedLoop(2, () => client.batch(BATCH_SIZE), 2);

    const selected = new Set(benchSetting('INGEST_', 'INGEST_ROWS', 'single,batch,topic').split(','));
    const batchConnections = Math.max(1, Math.round(CONNECTIONS / 4));
    const rows: RowResult[] = [];
    if (selected.has('single')) {
      rows.push(
        await measureRow(stack, `REST single, ${CONNECTIONS} open`, () =>
          closedLoop(CONNECTIONS, () => client.single()),
        ),
      );
      rows.push(
        await measureRow(stack, `REST single, ${whole(OPEN_RATE)}/s offered`, () =>
          openLoop(OPEN_RATE, () => client.single()),
        ),
      );
    }
    if (selected.has('batch')) {
      rows.push(
        await measureRow(stack, `REST batch of ${BATCH_SIZE}, ${batchConnections} open`, () =>
          closedLoop(batchConnections, () => client.batch(BATCH_SIZE)),
        ),
      );
      rows.push(
        await measureRow(stack, `REST batch of ${BATCH_SIZE}, ${whole(OPEN_RATE)} events/s offered`, () =>
          openLoop(OPEN_RATE / BATCH_SIZE, () => client.batch(BATCH_SIZE)),
        ),
      );
    }
    if (selected.has('topic')) {
      rows.push(
        await measureRow(stack, `straight to the topic, batches of ${BATCH_SIZE}`, () =>
          straightToTopic(producer!, stack!.organisationId),
        ),
      );
    }

    const published = await countPublished(stack.databaseUrl, client.acceptedIds);
    const check = `Of ${client.acceptedIds.length.toLocaleString('en')} events answered accepted, ${published.toLocaleString('en')} are published in the claims table.`;
    process.stdout.write(report(rows, startedLoad, check));
    if (published !== client.acceptedIds.length) throw new Error(check);
  } finally {
    await pool?.close().catch(() => undefined);
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
