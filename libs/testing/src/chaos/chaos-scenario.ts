import { setTimeout as sleep } from 'node:timers/promises';
import { type BrokerStartTimings, SERVICE_NAMES, type ServiceName } from '@skyhook/local-infrastructure';
import { type ChaosStack } from './chaos-stack';
import {
  ArrivalLog,
  auditDeliveries,
  type DeliveryAudit,
  firstArrivalOfWorkAfter,
  firstHistoryWriteAfter,
  waitForConvergence,
} from './delivery-audit';
import { type EventStream, type EventStreamResult, startEventStream } from './event-stream';

/**
 * What is hit: `broker` SIGKILLs a Kafka broker (in a cluster, the next node each time) and starts
 * it again on its data; `rolling-restart` stops every broker of the cluster in turn (SIGTERM, a
 * controlled shutdown), each started again after the downtime and back in sync before the next;
 * a service name SIGKILLs an instance of that service (the next one each time) and starts it again.
 */
export type ChaosTarget = 'broker' | 'rolling-restart' | ServiceName;

export interface FaultRecord {
  readonly target: ChaosTarget;
  /** Which broker node or service instance (1-based) was hit. */
  readonly member: number;
  readonly killedAt: number;
  /** The broker: when it was usable again; a service: when its new process was spawned. */
  readonly restartedAt: number;
  readonly brokerStart?: BrokerStartTimings;
  /** From `restartedAt` until the new process answered its liveness probe (services only). */
  readonly liveAfterMs?: number;
  /**
   * From `restartedAt` until held work flowed again: the first webhook of an event acknowledged
   * after the kill reached the receiver (the history: the first history write after the kill).
   * Undefined when nothing flowed within the wait.
   */
  readonly recoveryMs: number | undefined;
}

export interface ChaosScenarioOptions {
  readonly target: ChaosTarget;
  /** Kills in this run, each followed by a restart; the stream runs throughout. */
  readonly kills: number;
  readonly ratePerSecond: number;
  /** The stream runs this long before the first kill, and after each recovery before the next. */
  readonly steadyMs?: number;
  /** The broker stays down this long before it is started again; services restart at once. */
  readonly brokerDowntimeMs?: number;
  /** How long to wait, after each restart, for held work to flow (default 60 s). */
  readonly recoveryTimeoutMs?: number;
  /** How long deliveries and history may take to converge after the stream stops. */
  readonly convergenceTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface ChaosScenarioReport {
  readonly target: ChaosTarget;
  /** The event stream's run id: what tells its deliveries from earlier runs' on the same stack. */
  readonly run: string;
  readonly stream: EventStreamResult;
  readonly faults: readonly FaultRecord[];
  /**
   * The longest time, while the stream ran, in which the receiver got no request at all: what a
   * partner notices of the faults.
   */
  readonly longestSilenceMs: number;
  /** From the end of the stream until receiver and history were complete; undefined if never. */
  readonly convergedAfterMs: number | undefined;
  readonly audit: DeliveryAudit;
}

/**
 * Publishes a steady stream of events through the stack, kills the target mid-stream and starts
 * it again (`kills` times), then waits for deliveries and history to converge and audits them.
 * No process is restarted other than the one killed: a stuck producer shows as no convergence.
 */
export async function runChaosScenario(
  stack: ChaosStack,
  options: ChaosScenarioOptions,
): Promise<ChaosScenarioReport> {
  const log = options.log ?? (() => undefined);
  const steadyMs = options.steadyMs ?? 3_000;
  const arrivals = new ArrivalLog(stack);
  arrivals.all();
  const streamStartedAt = Date.now();
  const stream = startEventStream({
    apiUrl: stack.apiUrl,
    apiKey: stack.apiKey,
    ratePerSecond: options.ratePerSecond,
  });
  const faults: FaultRecord[] = [];
  let result: EventStreamResult | undefined;
  try {
    await sleep(steadyMs);
    for (let kill = 1; kill <= options.kills; kill += 1) {
      const round =
        options.target === 'rolling-restart'
          ? await rollingRestart(stack, stream, arrivals, options)
          : [await killAndRestart(stack, stream, arrivals, options, kill - 1)];
      for (const fault of round) {
        faults.push(fault);
        log(
          `${options.target} ${kill}/${options.kills}, ${fault.target === 'broker' || fault.target === 'rolling-restart' ? 'broker' : 'instance'} ${fault.member}: ` +
            (fault.brokerStart === undefined
              ? `live ${fault.liveAfterMs} ms after the restart; `
              : `broker listening after ${fault.brokerStart.listeningMs} ms, usable after ${fault.brokerStart.usableMs} ms; `) +
            `held work flowing ${fault.recoveryMs === undefined ? 'never' : `${fault.recoveryMs} ms`} after the restart`,
        );
      }
      await sleep(steadyMs);
    }
  } finally {
    result = await stream.stop();
  }
  const silence = longestSilence(arrivals, streamStartedAt, Date.now());
  const longestSilenceMs = silence.ms;
  log(
    `longest silence ${silence.ms} ms, from ${new Date(silence.from).toISOString()}; faults: ${faults
      .map(
        (fault) =>
          `${fault.member} stopped ${new Date(fault.killedAt).toISOString()}, started ${new Date(fault.restartedAt).toISOString()}`,
      )
      .join('; ')}`,
  );
  log(
    `stream: ${result.acknowledged.length}/${result.events} events acknowledged in ${result.elapsedMs} ms; answers ${JSON.stringify(result.answers)}`,
  );
  const convergedAfterMs = await waitForConvergence(
    stack,
    arrivals,
    result.acknowledged,
    options.convergenceTimeoutMs ?? 90_000,
  );
  const audit = await auditDeliveries(stack, arrivals, stream.runId, result.acknowledged);
  return {
    target: options.target,
    run: stream.runId,
    stream: result,
    faults,
    longestSilenceMs,
    convergedAfterMs,
    audit,
  };
}

/** The longest gap between arrivals while the stream ran, and when it began. */
function longestSilence(arrivals: ArrivalLog, from: number, until: number): { ms: number; from: number } {
  let longest = { ms: 0, from };
  let previous = from;
  for (const arrival of arrivals.all()) {
    if (arrival.receivedAt < from || arrival.receivedAt > until) continue;
    if (arrival.receivedAt - previous > longest.ms)
      longest = { ms: arrival.receivedAt - previous, from: previous };
    previous = arrival.receivedAt;
  }
  return until - previous > longest.ms ? { ms: until - previous, from: previous } : longest;
}

/** Every broker of the cluster in turn: SIGTERM, down for the downtime, started, back in sync. */
async function rollingRestart(
  stack: ChaosStack,
  stream: EventStream,
  arrivals: ArrivalLog,
  options: ChaosScenarioOptions,
): Promise<FaultRecord[]> {
  const faults: FaultRecord[] = [];
  for (const [index, node] of stack.kafka.nodes.entries()) {
    const killedAt = Date.now();
    await node.stop();
    await sleep(options.brokerDowntimeMs ?? 5_000);
    const brokerStart = await node.start();
    const restartedAt = Date.now();
    faults.push({
      target: 'rolling-restart',
      member: index + 1,
      killedAt,
      restartedAt,
      brokerStart,
      recoveryMs: await recoveryAfter(stack, stream, arrivals, options, killedAt, restartedAt),
    });
  }
  return faults;
}

async function killAndRestart(
  stack: ChaosStack,
  stream: EventStream,
  arrivals: ArrivalLog,
  options: ChaosScenarioOptions,
  round: number,
): Promise<FaultRecord> {
  const target = options.target as Exclude<ChaosTarget, 'rolling-restart'>;
  const killedAt = Date.now();
  let restartedAt: number;
  let brokerStart: BrokerStartTimings | undefined;
  let liveAfterMs: number | undefined;
  let member: number;
  if (target === 'broker') {
    member = round % stack.kafka.nodes.length;
    const node = stack.kafka.nodes[member]!;
    await node.kill();
    await sleep(options.brokerDowntimeMs ?? 5_000);
    brokerStart = await node.start();
    restartedAt = Date.now();
  } else {
    member = round % stack.instancesOf(target);
    await stack.killService(target, member);
    restartedAt = Date.now();
    await stack.startService(target, member);
    liveAfterMs = Date.now() - restartedAt;
  }
  return {
    target,
    member: member + 1,
    killedAt,
    restartedAt,
    brokerStart,
    liveAfterMs,
    recoveryMs: await recoveryAfter(stack, stream, arrivals, options, killedAt, restartedAt),
  };
}

/** From the restart until held work flowed again (the history: was written again); undefined: never. */
async function recoveryAfter(
  stack: ChaosStack,
  stream: EventStream,
  arrivals: ArrivalLog,
  options: ChaosScenarioOptions,
  killedAt: number,
  restartedAt: number,
): Promise<number | undefined> {
  const recoveryTimeoutMs = options.recoveryTimeoutMs ?? 60_000;
  const flowedAt =
    options.target === 'history'
      ? await firstHistoryWriteAfter(stack, killedAt, recoveryTimeoutMs)
      : await firstArrivalOfWorkAfter(
          arrivals,
          (eventId) => stream.acknowledgementOf(eventId),
          killedAt,
          restartedAt,
          recoveryTimeoutMs,
        );
  return flowedAt === undefined ? undefined : Math.max(0, flowedAt - restartedAt);
}

/** Every target, in the order a benchmark runs them. */
export const CHAOS_TARGETS: readonly ChaosTarget[] = [...SERVICE_NAMES, 'broker'];

/** One line per problem an audit found; empty when the run kept every promise. */
export function auditFailures(report: ChaosScenarioReport): string[] {
  const { audit, stream } = report;
  const failures: string[] = [];
  if (stream.unacknowledged.length > 0) {
    failures.push(
      `${stream.unacknowledged.length} events never acknowledged, e.g. ${JSON.stringify(stream.unacknowledged.slice(0, 3))}`,
    );
  }
  if (audit.lost > 0)
    failures.push(`${audit.lost} of ${audit.expected} acknowledged deliveries never arrived`);
  if (audit.duplicatesWithAnotherBody.length > 0) {
    failures.push(
      `${audit.duplicatesWithAnotherBody.length} deliveries arrived twice with different bodies, e.g. ${audit.duplicatesWithAnotherBody.slice(0, 3).join(', ')}: ${JSON.stringify(audit.anotherBodyExample)}`,
    );
  }
  if (audit.eventsUnderTwoIds > 0)
    failures.push(`${audit.eventsUnderTwoIds} events delivered under two event ids`);
  if (audit.history.missing > 0) {
    failures.push(
      `${audit.history.missing} delivered webhooks missing from history, e.g. ${audit.history.examples.join(', ')}`,
    );
  }
  if (audit.history.doubled > 0)
    failures.push(`${audit.history.doubled} deliveries in history more than once`);
  if (audit.history.notDelivered > 0) {
    failures.push(`${audit.history.notDelivered} delivered webhooks not 'delivered' in history`);
  }
  if (report.convergedAfterMs === undefined) failures.push('deliveries and history did not converge');
  return failures;
}
