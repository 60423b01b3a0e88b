/**
 * What tracing (ADR 0035) costs one consumed record, in this process alone: the record's handling
 * wrapped as the consumers wrap it (`handleInTrace`), with one record produced on its behalf
 * (`encodeForKafka`, which writes its trace headers). Three modes, each a child process of its
 * own since the SDK is per process: tracing off; on and unsampled (the record's `traceparent`
 * says not sampled, or, for a record without one, the root sampler says no: what fan-out decides
 * for events published without trace context); on and sampled (every span made and exported
 * over OTLP/HTTP to a sink in the parent). CPU time per record, modes alternating over rounds.
 *
 *   npm run bench:tracing
 *   BENCH_TRACING_ROUNDS=5 BENCH_TRACING_RECORDS=100000 npm run bench:tracing
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { deliveryRequestContract } from '@skyhook/contracts';
import { encodeForKafka, handleInTrace, type ConsumedRecord } from '@skyhook/messaging';
import { startTracing, stopTracing, traceIdOfTraceparent } from '@skyhook/observability';
import { deliveryRequest } from '@skyhook/testing';

const ROUNDS = Number(process.env['BENCH_TRACING_ROUNDS'] ?? 3);
const RECORDS = Number(process.env['BENCH_TRACING_RECORDS'] ?? 50_000);

type Mode = 'off' | 'unsampled' | 'sampled';
const MODES: readonly Mode[] = ['off', 'unsampled', 'sampled'];

interface Measured {
  /** µs of CPU per record carrying a `traceparent` (what every service after the first reads). */
  readonly withParent: number;
  /** µs of CPU per record without one (the first service decides). */
  readonly withoutParent: number;
}

function record(traceparent: string | undefined): ConsumedRecord {
  return {
    topicKey: 'deliveryRequests',
    partition: 0,
    offset: '1',
    key: null,
    value: deliveryRequest(1),
    timestamp: 0,
    headers: traceparent === undefined ? {} : { traceparent },
    traceId: traceIdOfTraceparent(traceparent) ?? 'bench-trace',
  };
}

async function microsecondsPerRecord(consumed: ConsumedRecord): Promise<number> {
  const produced = [deliveryRequest(2)];
  const handle = (): Promise<unknown> =>
    handleInTrace(consumed, () => Promise.resolve(encodeForKafka(deliveryRequestContract, produced, true)));
  // Long enough for the JIT to settle: the first measurement of a process is otherwise the slower.
  for (let warm = 0; warm < 30_000; warm += 1) await handle();
  const start = process.cpuUsage();
  for (let n = 0; n < RECORDS; n += 1) await handle();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / RECORDS;
}

/** A child: measures its mode (set up by the environment the parent gave it) and reports. */
async function measure(mode: Mode): Promise<void> {
  startTracing('bench');
  const flags = mode === 'sampled' ? '01' : '00';
  const result: Measured = {
    withParent: await microsecondsPerRecord(
      record(`00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-${flags}`),
    ),
    withoutParent: await microsecondsPerRecord(record(undefined)),
  };
  await stopTracing();
  process.send?.(result);
}

function runChild(mode: Mode, sinkUrl: string): Promise<Measured> {
  const tracing =
    mode === 'off'
      ? {}
      : {
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
          OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
          OTEL_TRACES_SAMPLER_ARG: mode === 'sampled' ? '1' : '0',
          // Exported as they come and none dropped, so the export's CPU is counted too.
          OTEL_BSP_SCHEDULE_DELAY: '100',
          OTEL_BSP_MAX_QUEUE_SIZE: String(4 * RECORDS),
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '8192',
        };
  const environment: NodeJS.ProcessEnv = { ...process.env, ...tracing };
  if (mode === 'off') delete environment['OTEL_TRACES_EXPORTER'];
  const child = fork(__filename, ['child', mode], { env: environment, execArgv: process.execArgv });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message as Measured));
    child.once('exit', (code) =>
      code === 0 ? undefined : reject(new Error(`${mode} child exited ${code}`)),
    );
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  // Stands in for a collector: takes every export and answers 200.
  const sink = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const results = new Map<Mode, Measured[]>(MODES.map((mode) => [mode, []]));
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const mode of MODES) results.get(mode)!.push(await runChild(mode, sinkUrl));
    }
  } finally {
    sink.close();
  }
  const off = median(results.get('off')!.map((m) => m.withParent));
  const offRoot = median(results.get('off')!.map((m) => m.withoutParent));
  console.log(`\n${RECORDS} records per measurement, ${ROUNDS} rounds, medians (µs of CPU per record):\n`);
  console.log('| tracing | record with traceparent | added | record without | added |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const mode of MODES) {
    const withParent = median(results.get(mode)!.map((m) => m.withParent));
    const withoutParent = median(results.get(mode)!.map((m) => m.withoutParent));
    console.log(
      `| ${mode} | ${withParent.toFixed(2)} | ${(withParent - off).toFixed(2)} | ${withoutParent.toFixed(2)} | ${(withoutParent - offRoot).toFixed(2)} |`,
    );
  }
}

if (process.argv[2] === 'child') {
  measure(process.argv[3] as Mode).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
