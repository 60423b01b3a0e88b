/**
 * Chaos benchmark (`npm run bench:chaos`): the whole stack (four services from dist/, a Kafka
 * broker of its own from the Maven jars, PostgreSQL, an HTTP receiver, two subscriptions) under a
 * steady stream of events published over the REST API by a careful client; each run SIGKILLs one
 * target mid-stream and starts it again (a service at once, the broker after CHAOS_BROKER_DOWNTIME_MS),
 * then waits for deliveries and history to converge. When they do not, the services are restarted
 * by hand (counted) and waited for again. Prints one table row per target, then how long the broker
 * itself takes to come back after a clean stop and after a kill -9, with Kafka's default broker
 * session and with the one the local broker uses.
 *
 * Settings (environment, or `--runs=N` etc. as arguments):
 *   CHAOS_SHAPE (single)           single: one broker, one instance per service; cluster: three
 *                                  brokers (replication 3, min ISR 2), two fan-out and two
 *                                  dispatcher instances, as production runs
 *   CHAOS_RUNS (3)                 runs per target
 *   CHAOS_TARGETS (all)            comma-separated: api,fanout,dispatcher,history,broker, and in the
 *                                  cluster shape rolling-restart (the default there:
 *                                  rolling-restart,broker,fanout,dispatcher)
 *   CHAOS_RATE (200)               events per second (each matches both subscriptions)
 *   CHAOS_BROKER_DOWNTIME_MS (5000)
 *   CHAOS_BROKER_TIMING_RUNS (2)   restarts per broker variant and ending; 0 skips that part
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  provisionPostgres,
  SERVICE_NAMES,
  type ProvisionedPostgres,
  workspaceRoot,
} from '@skyhook/local-infrastructure';
import {
  auditFailures,
  ArrivalLog,
  auditDeliveries,
  CHAOS_TARGETS,
  type ChaosScenarioReport,
  type ChaosStack,
  type ChaosTarget,
  describeChaosReport,
  runChaosScenario,
  startChaosStack,
  summariseServiceErrors,
  waitForConvergence,
} from '@skyhook/testing';
import {
  type BrokerRestartTiming,
  type BrokerRestartVariant,
  measureBrokerRestart,
} from './broker-restart-timings';
import { benchNumberSetting, benchSetting } from './bench-settings';

const SUBSCRIPTIONS = 2;

const setting = (name: string, fallback: string): string => benchSetting('CHAOS_', name, fallback);
const numberSetting = (name: string, fallback: number): number =>
  benchNumberSetting('CHAOS_', name, fallback);

const SHAPE = setting('CHAOS_SHAPE', 'single');
if (SHAPE !== 'single' && SHAPE !== 'cluster') throw new Error('CHAOS_SHAPE must be single or cluster');
const CLUSTER = SHAPE === 'cluster';
const RUNS = numberSetting('CHAOS_RUNS', 3);
const RATE = numberSetting('CHAOS_RATE', 200);
const BROKER_DOWNTIME_MS = numberSetting('CHAOS_BROKER_DOWNTIME_MS', 5_000);
const BROKER_TIMING_RUNS = numberSetting('CHAOS_BROKER_TIMING_RUNS', 2);
const KNOWN_TARGETS: readonly ChaosTarget[] = CLUSTER ? [...CHAOS_TARGETS, 'rolling-restart'] : CHAOS_TARGETS;
const TARGETS = setting(
  'CHAOS_TARGETS',
  CLUSTER ? 'rolling-restart,broker,fanout,dispatcher' : CHAOS_TARGETS.join(','),
)
  .split(',')
  .map((target) => {
    if (!(KNOWN_TARGETS as readonly string[]).includes(target)) throw new Error(`unknown target ${target}`);
    return target as ChaosTarget;
  });

function say(line: string): void {
  process.stderr.write(`[bench:chaos] ${line}\n`);
}

interface RunOutcome {
  readonly report: ChaosScenarioReport;
  readonly handRestart: boolean;
}

/** Restarts every service, as an operator would when deliveries stopped; then waits again. */
async function restartByHand(stack: ChaosStack, report: ChaosScenarioReport): Promise<ChaosScenarioReport> {
  say(`${report.target}: no convergence; restarting every service by hand`);
  for (const name of SERVICE_NAMES) {
    for (let instance = 0; instance < stack.instancesOf(name); instance += 1) {
      await stack.killService(name, instance);
      await stack.startService(name, instance);
    }
  }
  const arrivals = new ArrivalLog(stack);
  const convergedAfterMs = await waitForConvergence(stack, arrivals, report.stream.acknowledged, 120_000);
  const audit = await auditDeliveries(stack, arrivals, report.run, report.stream.acknowledged);
  return { ...report, convergedAfterMs, audit };
}

async function runTarget(stack: ChaosStack, target: ChaosTarget): Promise<RunOutcome[]> {
  const outcomes: RunOutcome[] = [];
  for (let run = 1; run <= RUNS; run += 1) {
    let report = await runChaosScenario(stack, {
      target,
      kills: 1,
      ratePerSecond: RATE,
      brokerDowntimeMs: BROKER_DOWNTIME_MS,
      convergenceTimeoutMs: 90_000,
      log: (line) => say(`run ${run}/${RUNS}: ${line}`),
    });
    const handRestart = report.convergedAfterMs === undefined;
    if (handRestart) report = await restartByHand(stack, report);
    say(describeChaosReport(report));
    const failures = auditFailures(report);
    if (failures.length > 0) {
      say(`run ${run}/${RUNS} ${target}: ${failures.join('; ')}`);
      for (const name of SERVICE_NAMES)
        say(`  ${name}: ${summariseServiceErrors(stack.serviceOutput(name))}`);
    }
    outcomes.push({ report, handRestart });
    // Let the consumer groups settle before the next kill.
    await sleep(2_000);
  }
  return outcomes;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function ms(value: number | undefined): string {
  return value === undefined ? '–' : value.toLocaleString('en-GB');
}

function targetRow(target: ChaosTarget, outcomes: readonly RunOutcome[]): string {
  const sum = (pick: (outcome: RunOutcome) => number): number =>
    outcomes.reduce((total, outcome) => total + pick(outcome), 0);
  const recoveries = outcomes.flatMap((outcome) => outcome.report.faults.map((fault) => fault.recoveryMs));
  const measured = recoveries.filter((value): value is number => value !== undefined);
  const duplicates = outcomes.map((outcome) => outcome.report.audit.duplicates);
  // In seconds of the offered traffic: one second is RATE events × SUBSCRIPTIONS deliveries.
  const duplicateSeconds = duplicates.map((count) => count / (RATE * SUBSCRIPTIONS));
  const silences = outcomes.map((outcome) => outcome.report.longestSilenceMs);
  const drains = outcomes
    .map((outcome) => outcome.report.convergedAfterMs)
    .filter((value): value is number => value !== undefined);
  const backAfter = outcomes.flatMap(({ report }) =>
    report.faults.map((fault) => fault.brokerStart?.usableMs ?? fault.liveAfterMs ?? 0),
  );
  const otherBody = sum((outcome) => outcome.report.audit.duplicatesWithAnotherBody.length);
  const notInHistory = sum(
    (outcome) => outcome.report.audit.history.missing + outcome.report.audit.history.requestsNotInHistory,
  );
  // Of those, the ones no marked attempt of their delivery owns up to (ADR 0018).
  const hidden = sum(
    (outcome) => outcome.report.audit.history.missing + outcome.report.audit.history.requestsHidden,
  );
  const neverFlowed = recoveries.length - measured.length;
  return [
    target === 'broker' || target === 'rolling-restart' ? target : `${target} service`,
    String(outcomes.length),
    ms(sum((outcome) => outcome.report.audit.expected)),
    ms(sum((outcome) => outcome.report.audit.received)),
    ms(sum((outcome) => outcome.report.audit.lost)),
    `${ms(sum((outcome) => outcome.report.audit.duplicates))} (max ${ms(Math.max(0, ...duplicates))} = ${Math.max(0, ...duplicateSeconds).toFixed(1)} s)`,
    String(otherBody),
    `${ms(notInHistory)} (${ms(hidden)} unmarked)`,
    `${ms(median(backAfter))} / ${ms(Math.max(0, ...backAfter))}`,
    `${ms(median(measured))} / ${ms(measured.length === 0 ? undefined : Math.max(...measured))}${neverFlowed > 0 ? ` (${neverFlowed} never)` : ''}`,
    `${ms(median(silences))} / ${ms(Math.max(0, ...silences))}`,
    `${ms(median(drains))} / ${ms(drains.length === 0 ? undefined : Math.max(...drains))}`,
    String(outcomes.filter((outcome) => outcome.handRestart).length),
  ].join(' | ');
}

const BROKER_VARIANTS: readonly BrokerRestartVariant[] = [
  {
    name: "Kafka's default broker session (9 s, heartbeat 2 s)",
    properties: { 'broker.session.timeout.ms': '9000', 'broker.heartbeat.interval.ms': '2000' },
  },
  { name: 'local broker setting (3 s, heartbeat 0.5 s)', properties: {} },
];

async function brokerTimingRows(): Promise<string[]> {
  const rows: string[] = [];
  for (const variant of BROKER_VARIANTS) {
    for (const end of ['clean-stop', 'kill'] as const) {
      const timings: BrokerRestartTiming[] = [];
      for (let run = 1; run <= BROKER_TIMING_RUNS; run += 1) {
        const timing = await measureBrokerRestart(variant, end, 5);
        say(`broker ${variant.name}, after ${end}: ${JSON.stringify(timing.restart)}`);
        timings.push(timing);
      }
      const listening = timings.map((timing) => timing.restart.listeningMs);
      const usable = timings.map((timing) => timing.restart.usableMs);
      rows.push(
        [
          variant.name,
          end === 'kill' ? 'kill -9' : 'clean stop',
          String(timings[0]?.partitions ?? 0),
          listening.map(ms).join(', '),
          usable.map(ms).join(', '),
        ].join(' | '),
      );
    }
  }
  return rows;
}

async function runTargets(): Promise<string[]> {
  let postgres: ProvisionedPostgres | undefined;
  let stack: ChaosStack | undefined;
  const rows: string[] = [];
  try {
    postgres = await provisionPostgres({
      stateDir: join(workspaceRoot(), 'tmp', 'bench-chaos'),
      useContainers: false,
      log: say,
    });
    stack = await startChaosStack({
      postgresAdminUrl: postgres.adminUrl,
      label: 'bench-chaos',
      subscriptions: SUBSCRIPTIONS,
      ...(CLUSTER ? { kafka: 'cluster' as const, instances: { fanout: 2, dispatcher: 2 } } : {}),
      log: say,
    });
    for (const target of TARGETS) rows.push(targetRow(target, await runTarget(stack, target)));
    return rows;
  } finally {
    await stack?.close();
    await postgres?.stop();
  }
}

const load = (): string =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  say(
    `${SHAPE}: runs ${RUNS} per target, targets ${TARGETS.join(',')}, ${RATE} events/s × ${SUBSCRIPTIONS} subscriptions`,
  );
  if (RUNS > 0) {
    const startedLoad = load();
    const rows = await runTargets();
    // Printed before the broker timings, so that a failure there keeps this table.
    const lines = [
      '',
      (CLUSTER
        ? 'Three brokers (replication 3, min ISR 2), two fan-out and two dispatcher instances; '
        : 'One broker, one instance per service; ') +
        `${RATE} events/s × ${SUBSCRIPTIONS} subscriptions, ${RUNS} run(s) per target, one fault per run ` +
        '(a rolling restart: every broker in turn, SIGTERM); ' +
        `broker down ${BROKER_DOWNTIME_MS} ms before its restart; load average ${startedLoad} at start, ${load()} at end`,
      '',
      '"back after restart": the service answering its liveness probe, the broker usable (every partition led,',
      'group coordinator answering). "held work flowing": the first webhook of an event acknowledged after the',
      'kill reaching the receiver (history: the first history write after the kill), from the restart (broker: usable).',
      '"longest silence": the longest time the receiver got no request while the stream ran. "drain": from the end',
      'of the stream until every delivery had arrived and history held every request.',
      '',
      '| fault | runs | expected | received | lost | duplicates (worst run in s of offered traffic) | same id, other body | requests not in history (unmarked) | back after restart, ms (median / max) | held work flowing after restart, ms (median / max) | longest silence, ms (median / max) | drain, ms (median / max) | hand restarts |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows.map((row) => `| ${row} |`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (BROKER_TIMING_RUNS > 0) {
    const startedLoad = load();
    const rows = await brokerTimingRows();
    const lines = [
      '',
      `Broker restart (start to listening / usable: every partition led, group coordinator answering), ms per run; ` +
        `load average ${startedLoad} at start, ${load()} at end:`,
      '',
      '| broker session | previous end | partitions | listening | usable |',
      '|---|---|---|---|---|',
      ...rows.map((row) => `| ${row} |`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
