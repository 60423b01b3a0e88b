/**
 * History benchmark (`npm run bench:history`): one run, figures printed as JSON and tables.
 *  1. Query latency on 10 million attempt rows (4.2 million deliveries over 30 daily partitions,
 *     100 organisations): the API's own repository queries, first page and deep page (keyset
 *     cursor 30,000 rows down an organisation), status-filtered, per subscription, and a
 *     delivery with its attempts; p50/p95/p99 over 200 runs each, and each query's EXPLAIN.
 *     The data is generated once into the database `skyhook_bench_history` and reused while its
 *     size matches (BENCH_HISTORY_DELIVERIES, default 4,200,000; BENCH_HISTORY_REGENERATE=1 forces).
 *  2. Projection throughput: attempt events waiting on the delivery-events topic, the real
 *     history service started on them (BENCH_PROJECTION_DELIVERIES, default 100,000 deliveries
 *     × 2 attempts); attempts/s until every row is in PostgreSQL, from the service's readiness
 *     and, the throughput, from the first rows (without the consumer group's join), and the
 *     CPU per attempt of the service, of PostgreSQL and of the Kafka broker from readiness, and
 *     the share of the machine's CPU left idle while the rows flowed (what limits the figure).
 *  3. PostgreSQL alone (`writer`, not in the default parts): the same events planned and written
 *     by the history writer, four transactions at a time as the service runs them, with no Kafka
 *     and no service; attempts/s and PostgreSQL's CPU per attempt (all its processes, /proc).
 * Kafka and PostgreSQL come from the same provisioning as the tests.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { type DataSource } from 'typeorm';
import { type DeliveryEvent, deliveryEventContract, type DeliveryRequest } from '@skyhook/contracts';
import {
  dropDatabase,
  ensureDatabase,
  findFreeLoopbackPort,
  launchServiceProcess,
  provisionInfrastructure,
  workspaceRoot,
} from '@skyhook/local-infrastructure';
import {
  ContractProducer,
  kafkaEnvironmentSchema,
  kafkaSettingsFrom,
  provisionTopics,
} from '@skyhook/messaging';
import { createDataSource, DeliveryHistoryPartitions, runMigrations } from '@skyhook/persistence';
import { DeliveryHistoryWriter, type HistoryBatch, planHistoryBatch } from '@skyhook/delivery-history';
import { measureHistoryQueries } from './history-queries';
import { generateHistory } from './history-data';
import {
  benchServiceNodeOptions,
  kafkaBrokerPid,
  machineCpu,
  machineIdlePercent,
  processCpuMs,
  processesCpuMs,
} from './process-cpu';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function openDatabase(url: string): Promise<DataSource> {
  return createDataSource(
    { url, poolSize: 4, ssl: false, connectTimeoutMs: 5_000 },
    'skyhook-bench',
  ).initialize();
}

/** The 10-million-attempt database, generated once and reused while its size matches. */
async function historyDatabase(adminUrl: string, deliveries: number): Promise<DataSource> {
  const name = 'skyhook_bench_history';
  if (process.env['BENCH_HISTORY_REGENERATE'] === '1') await dropDatabase(adminUrl, name);
  const dataSource = await openDatabase(await ensureDatabase(adminUrl, name));
  await runMigrations(dataSource);
  const [marker] = await dataSource.query<{ deliveries: string | null }[]>(
    `SELECT obj_description('deliveries'::regclass) AS deliveries`,
  );
  if (marker?.deliveries === `bench:v2:${deliveries}`) {
    log(`reusing ${name} (${deliveries.toLocaleString('en-GB')} deliveries)`);
    return dataSource;
  }
  await dataSource.destroy();
  await dropDatabase(adminUrl, name);
  const fresh = await openDatabase(await ensureDatabase(adminUrl, name));
  await runMigrations(fresh);
  const started = Date.now();
  // The reference instant is fixed an hour ahead so that "now" queries see every generated row.
  await generateHistory(fresh, deliveries, new Date(Date.now() - 3_600_000), log);
  await fresh.query(`COMMENT ON TABLE deliveries IS 'bench:v2:${deliveries}'`);
  log(`generated in ${Math.round((Date.now() - started) / 1_000)} s`);
  return fresh;
}

function attemptEvents(deliveries: number, publishedAt: Date): DeliveryEvent[] {
  const events: DeliveryEvent[] = [];
  for (let d = 0; d < deliveries; d += 1) {
    const request: DeliveryRequest = {
      deliveryId: `del_${d}`,
      subscriptionId: `sub_${d % 1_000}`,
      organisationId: `org_${d % 100}`,
      event: {
        id: `evt_${d}`,
        type: 'flight.departed',
        scope: { operatorId: 'op_1' },
        occurredAt: publishedAt.toISOString(),
        data: { flight: `BA${d % 1_000}`, gate: `A${d % 50}`, scheduled: publishedAt.toISOString() },
      },
      publishedAt: publishedAt.toISOString(),
      held: false,
      test: false,
    };
    for (const attemptNumber of [1, 2]) {
      const last = attemptNumber === 2;
      events.push({
        type: 'DeliveryAttempted',
        deliveryId: request.deliveryId,
        subscriptionId: request.subscriptionId,
        organisationId: request.organisationId,
        eventId: request.event.id,
        eventType: request.event.type,
        test: false,
        publishedAt: request.publishedAt,
        request: attemptNumber === 1 ? request : null,
        attemptNumber,
        // As long as the dispatcher's (`att_` and a UUID), one per request.
        attemptId: `att_00000000-0000-4000-8000-${String(d * 2 + attemptNumber).padStart(12, '0')}`,
        attemptedAt: new Date(publishedAt.getTime() + attemptNumber * 1_000).toISOString(),
        durationMs: 41.7,
        url: 'https://hooks.example.com/skyhook',
        requestHeaders: {
          'content-type': 'application/json',
          'webhook-id': request.deliveryId,
          'webhook-timestamp': '1700000000',
          'webhook-signature': 'v1,c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXI=',
        },
        requestBodyBytes: 312,
        outcome: last ? 'success' : 'http-error',
        responseStatus: last ? 200 : 503,
        responseBody: last ? 'ok' : 'service unavailable',
        errorCode: null,
        errorMessage: null,
        result: last ? 'delivered' : 'retry-scheduled',
        nextAttemptAt: last ? null : new Date(publishedAt.getTime() + 2_000).toISOString(),
      });
    }
  }
  return events;
}

async function measureProjection(
  brokers: string,
  adminUrl: string,
  deliveries: number,
): Promise<{
  attempts: number;
  seconds: number;
  attemptsPerSecond: number;
  steadyAttemptsPerSecond: number;
  historyCpuMsPerAttempt: number;
  postgresCpuMsPerAttempt: number;
  kafkaCpuMsPerAttempt: number | null;
  machineIdlePercent: number;
}> {
  const suffix = randomBytes(4).toString('hex');
  const environment = {
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC_PREFIX: `bench-${suffix}.`,
    KAFKA_PARTITIONS_DELIVERY_EVENTS: '12',
    LOG_LEVEL: 'warn',
  };
  const settings = kafkaSettingsFrom(kafkaEnvironmentSchema.parse(environment), 'bench');
  const kafka = new Kafka({ clientId: 'bench', brokers: [...settings.brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await provisionTopics(admin, settings, ['deliveryEvents']);
  await admin.disconnect();
  const producer = new ContractProducer(kafka, settings);
  await producer.connect();
  const events = attemptEvents(deliveries, new Date());
  for (let start = 0; start < events.length; start += 2_000) {
    await producer.send(deliveryEventContract, 'deliveryEvents', events.slice(start, start + 2_000), {
      trusted: true,
    });
  }
  await producer.disconnect();

  const database = `skyhook_bench_projection_${suffix}`;
  const url = await ensureDatabase(adminUrl, database);
  const watcher = await openDatabase(databaseUrl(adminUrl, database));
  const port = await findFreeLoopbackPort();
  const launched = Date.now();
  const history = launchServiceProcess(
    'history',
    { ...environment, DATABASE_URL: url, PORT: String(port) },
    { nodeOptions: benchServiceNodeOptions(), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    let readyAt = 0;
    let cpuAtReady = 0;
    let postgresCpuAtReady = 0;
    const kafkaPid = kafkaBrokerPid();
    let kafkaCpuAtReady = 0;
    // The first poll that saw rows: from there on the figure is pure throughput, without the
    // consumer group's join (a start-up cost of seconds that varies from run to run).
    let flowing: { at: number; projected: number; machine: ReturnType<typeof machineCpu> } | undefined;
    let machineAtReady = machineCpu();
    for (;;) {
      if (history.exitCode !== null) throw new Error(`history exited with ${history.exitCode}`);
      if (readyAt === 0) {
        const ready = await fetch(`http://127.0.0.1:${port}/health/live`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) {
          readyAt = Date.now();
          cpuAtReady = processCpuMs(history.pid ?? 0);
          postgresCpuAtReady = processesCpuMs('postgres');
          kafkaCpuAtReady = kafkaPid === undefined ? 0 : processCpuMs(kafkaPid);
          machineAtReady = machineCpu();
        }
      }
      // Progress from the service's own counter of committed attempt rows: polling count(*)
      // would scan the growing table every time, on the same cores PostgreSQL is measured on.
      const projected = readyAt === 0 ? 0 : await insertedAttemptRows(port);
      if (flowing === undefined && projected > 0 && projected < events.length) {
        flowing = { at: Date.now(), projected, machine: machineCpu() };
      }
      if (projected >= events.length) {
        const finishedAt = Date.now();
        const seconds = (finishedAt - readyAt) / 1_000;
        const steady = flowing ?? { at: readyAt, projected: 0, machine: machineAtReady };
        // All read before the final count, so its scan is not counted.
        const historyCpuMs = processCpuMs(history.pid ?? 0) - cpuAtReady;
        const postgresCpuMs = processesCpuMs('postgres') - postgresCpuAtReady;
        const kafkaCpuMs = kafkaPid === undefined ? undefined : processCpuMs(kafkaPid) - kafkaCpuAtReady;
        const machineIdle = machineIdlePercent(steady.machine, machineCpu());
        const [row] = await watcher.query<{ n: string }[]>('SELECT count(*) AS n FROM delivery_attempts');
        if (Number(row?.n) !== events.length) {
          throw new Error(`the service counted ${projected} attempt rows, the table holds ${row?.n}`);
        }
        return {
          attempts: events.length,
          seconds: Math.round(seconds * 100) / 100,
          attemptsPerSecond: Math.round(events.length / seconds),
          steadyAttemptsPerSecond: Math.round(
            ((events.length - steady.projected) * 1_000) / Math.max(1, finishedAt - steady.at),
          ),
          historyCpuMsPerAttempt: Math.round((historyCpuMs / events.length) * 1_000) / 1_000,
          // Every PostgreSQL process of the machine: the projection's writes and what else runs.
          postgresCpuMsPerAttempt: Math.round((postgresCpuMs / events.length) * 1_000) / 1_000,
          // The broker when this process started it; null for one given by KAFKA_BROKERS.
          kafkaCpuMsPerAttempt:
            kafkaCpuMs === undefined ? null : Math.round((kafkaCpuMs / events.length) * 1_000) / 1_000,
          // Over the steady part: what CPU the machine had left while the rows flowed.
          machineIdlePercent: machineIdle,
        };
      }
      if (Date.now() - launched > 600_000) throw new Error(`only ${projected} attempts after 600 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    history.kill('SIGTERM');
    await new Promise((resolve) => history.once('exit', resolve));
    await watcher.destroy();
    await dropDatabase(adminUrl, database);
  }
}

/**
 * PostgreSQL's own capacity for the projection's writes: the projection's events, planned in
 * calls of 1,000 as the service plans them, written by four concurrent writers (the service
 * consumes four partitions at once) into a fresh database. No Kafka, no service process.
 */
async function measureWriterAlone(
  adminUrl: string,
  deliveries: number,
): Promise<{ attempts: number; attemptsPerSecond: number; postgresCpuUsPerAttempt: number }> {
  const database = `skyhook_bench_writer_${randomBytes(4).toString('hex')}`;
  const url = await ensureDatabase(adminUrl, database);
  const dataSource = await createDataSource(
    { url, poolSize: 4, ssl: false, connectTimeoutMs: 5_000 },
    'skyhook-bench',
  ).initialize();
  try {
    await runMigrations(dataSource);
    const publishedAt = new Date();
    await new DeliveryHistoryPartitions(dataSource).ensureDays([publishedAt]);
    const events = attemptEvents(deliveries, publishedAt);
    const batches: HistoryBatch[] = [];
    for (let start = 0; start < events.length; start += 1_000) {
      batches.push(planHistoryBatch(events.slice(start, start + 1_000), 0));
    }
    const writer = new DeliveryHistoryWriter(dataSource);
    let next = 0;
    const postgresCpuBefore = processesCpuMs('postgres');
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let batch = batches[next++]; batch !== undefined; batch = batches[next++]) {
          await writer.write(batch);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1_000;
    const postgresCpuMs = processesCpuMs('postgres') - postgresCpuBefore;
    return {
      attempts: events.length,
      attemptsPerSecond: Math.round(events.length / seconds),
      postgresCpuUsPerAttempt: Math.round(((postgresCpuMs * 1_000) / events.length) * 10) / 10,
    };
  } finally {
    await dataSource.destroy();
    await dropDatabase(adminUrl, database);
  }
}

/** `skyhook_history_attempt_rows_total{outcome="inserted"}` as the history service reports it. */
async function insertedAttemptRows(port: number): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
    (response) => response.text(),
    () => '',
  );
  const line = text
    .split('\n')
    .find(
      (entry) =>
        entry.startsWith('skyhook_history_attempt_rows_total{') && entry.includes('outcome="inserted"'),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function main(): Promise<void> {
  const infrastructure = await provisionInfrastructure({
    stateDir: join(workspaceRoot(), 'tmp', 'bench-infrastructure'),
    log,
  });
  try {
    // BENCH_HISTORY_PARTS=queries (or projection, or writer) runs only that part.
    const parts = (process.env['BENCH_HISTORY_PARTS'] ?? 'queries,projection').split(',');
    const lines: string[] = [];
    const report: Record<string, unknown> = {};
    if (parts.includes('queries')) {
      const deliveries = Number(process.env['BENCH_HISTORY_DELIVERIES'] ?? 4_200_000);
      const dataSource = await historyDatabase(infrastructure.postgresAdminUrl, deliveries);
      try {
        const [counts] = await dataSource.query<{ deliveries: string; attempts: string }[]>(
          `SELECT (SELECT count(*) FROM deliveries) AS deliveries, (SELECT count(*) FROM delivery_attempts) AS attempts`,
        );
        const queries = await measureHistoryQueries(dataSource, deliveries, log);
        report['rows'] = counts;
        report['queries'] = queries.results;
        const slowest = Math.max(...queries.results.map((result) => result.p99Ms));
        lines.push(
          `rows: ${Number(counts?.deliveries).toLocaleString('en-GB')} deliveries, ${Number(counts?.attempts).toLocaleString('en-GB')} attempts`,
          '',
          queries.table,
          '',
          ...queries.plans.flatMap((plan) => [plan, '']),
          `slowest query p99: ${slowest} ms (goal < 50 ms: ${slowest < 50 ? 'met' : 'NOT met'})`,
        );
      } finally {
        await dataSource.destroy();
      }
    }
    if (parts.includes('projection')) {
      const projection = await measureProjection(
        infrastructure.kafkaBrokers,
        infrastructure.postgresAdminUrl,
        Number(process.env['BENCH_PROJECTION_DELIVERIES'] ?? 100_000),
      );
      report['projection'] = projection;
      lines.push(
        `projection: ${projection.attemptsPerSecond.toLocaleString('en-GB')} attempts/s from readiness, ${projection.steadyAttemptsPerSecond.toLocaleString('en-GB')} from the first rows, history CPU ${projection.historyCpuMsPerAttempt} ms/attempt, PostgreSQL CPU ${projection.postgresCpuMsPerAttempt} ms/attempt, Kafka CPU ${projection.kafkaCpuMsPerAttempt ?? 'not measured'} ms/attempt, machine idle ${projection.machineIdlePercent} % while rows flowed (goal ≥ 20,000/s: ${
          projection.steadyAttemptsPerSecond >= 20_000 ? 'met' : 'NOT met'
        })`,
      );
    }
    if (parts.includes('writer')) {
      const writer = await measureWriterAlone(
        infrastructure.postgresAdminUrl,
        Number(process.env['BENCH_PROJECTION_DELIVERIES'] ?? 100_000),
      );
      report['writerAlone'] = writer;
      lines.push(
        `PostgreSQL alone (history writer, 4 writers, no Kafka or service): ${writer.attemptsPerSecond.toLocaleString('en-GB')} attempts/s, PostgreSQL CPU ${writer.postgresCpuUsPerAttempt} µs/attempt`,
      );
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n\n${lines.join('\n')}\n`);
  } finally {
    await infrastructure.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
