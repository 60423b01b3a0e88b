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

/** What is killed: the Kafka broker, or one of the services. */
export type ChaosTarget = 'broker' | ServiceName;

export interface FaultRecord {
  readonly target: ChaosTarget;
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
      const fault = await killAndRestart(stack, stream, arrivals, options);
      faults.push(fault);
      log(
        `${options.target} kill ${kill}/${options.kills}: ` +
          (fault.brokerStart === undefined
            ? `live ${fault.liveAfterMs} ms after the restart; `
            : `broker listening after ${fault.brokerStart.listeningMs} ms, usable after ${fault.brokerStart.usableMs} ms; `) +
          `held work flowing ${fault.recoveryMs === undefined ? 'never' : `${fault.recoveryMs} ms`} after the restart`,
      );
      await sleep(steadyMs);
    }
  } finally {
    result = await stream.stop();
  }
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
  return { target: options.target, run: stream.runId, stream: result, faults, convergedAfterMs, audit };
}

async function killAndRestart(
  stack: ChaosStack,
  stream: EventStream,
  arrivals: ArrivalLog,
  options: ChaosScenarioOptions,
): Promise<FaultRecord> {
  const { target } = options;
  const recoveryTimeoutMs = options.recoveryTimeoutMs ?? 60_000;
  const killedAt = Date.now();
  let restartedAt: number;
  let brokerStart: BrokerStartTimings | undefined;
  let liveAfterMs: number | undefined;
  if (target === 'broker') {
    await stack.broker.kill();
    await sleep(options.brokerDowntimeMs ?? 5_000);
    brokerStart = await stack.broker.start();
    restartedAt = Date.now();
  } else {
    await stack.killService(target);
    restartedAt = Date.now();
    await stack.startService(target);
    liveAfterMs = Date.now() - restartedAt;
  }
  const flowedAt =
    target === 'history'
      ? await firstHistoryWriteAfter(stack, killedAt, recoveryTimeoutMs)
      : await firstArrivalOfWorkAfter(
          arrivals,
          (eventId) => stream.acknowledgementOf(eventId),
          killedAt,
          restartedAt,
          recoveryTimeoutMs,
        );
  return {
    target,
    killedAt,
    restartedAt,
    brokerStart,
    liveAfterMs,
    recoveryMs: flowedAt === undefined ? undefined : Math.max(0, flowedAt - restartedAt),
  };
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
  if (audit.history.missing > 0)
    failures.push(`${audit.history.missing} delivered webhooks missing from history`);
  if (audit.history.doubled > 0)
    failures.push(`${audit.history.doubled} deliveries in history more than once`);
  if (audit.history.notDelivered > 0) {
    failures.push(`${audit.history.notDelivered} delivered webhooks not 'delivered' in history`);
  }
  if (report.convergedAfterMs === undefined) failures.push('deliveries and history did not converge');
  return failures;
}
