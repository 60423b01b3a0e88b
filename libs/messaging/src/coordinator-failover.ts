import { setTimeout as sleep } from 'node:timers/promises';
import { loadKafkajsClass } from './kafkajs-internals';

/**
 * kafkajs (2.2.4, its last release) answers NOT_COORDINATOR — "the group's coordinator is now
 * another broker" — as if the group were rebalancing: the member re-joins. Every broker restart
 * moves the coordinators it hosted, and a re-join by the group's leader starts a rebalance of the
 * whole group: every member stops consuming until all have re-joined. In a rolling restart of a
 * three-broker cluster that stopped consumption for 5–10 s per broker, although no member had
 * gone (bench/RESULTS.md, "Cluster"). A member only needs to find the new coordinator and go on
 * heartbeating and committing there: its membership and generation live in the group's state,
 * which the new coordinator loads from `__consumer_offsets`.
 *
 * So the group's two coordinator calls, heartbeat and offset commit, find the coordinator again
 * when it has moved or is unreachable (a killed broker, until the controller moves its
 * partitions: `broker.session.timeout.ms`), for up to `FAILOVER_DEADLINE_MS`:
 * - a commit waits and is retried there (its caller needs to know it landed);
 * - a heartbeat does not wait: kafkajs awaits it after every batch, so a heartbeat retried in
 *   place would stop consumption of every partition until the coordinator is found. It answers at
 *   once while the coordinator is looked for in the background, and the next heartbeat goes to
 *   the one found. The new coordinator starts every member's session afresh when it loads the
 *   group, so heartbeats missed meanwhile cost nothing.
 * A coordinator that does not know the member (its session expired meanwhile) still answers
 * UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION, and kafkajs re-joins as before: this changes nothing
 * when the group really changed.
 *
 * kafkajs exposes no hook for this, so the methods are wrapped on its internal ConsumerGroup
 * class, once per process; the version is pinned in package.json and a test fails if the class
 * stops looking as expected.
 */
export function installCoordinatorFailover(): void {
  if (installed) return;
  const consumerGroupClass = loadConsumerGroupClass();
  const prototype = consumerGroupClass.prototype;
  const heartbeat = prototype.heartbeat;
  const commitOffsets = prototype.commitOffsets;
  const commitOffsetsIfNecessary = prototype.commitOffsetsIfNecessary;
  prototype.heartbeat = function (this: KafkajsConsumerGroup, ...args: unknown[]) {
    return heartbeatAcrossFailover(this, () => heartbeat.apply(this, args));
  };
  prototype.commitOffsets = function (this: KafkajsConsumerGroup, ...args: unknown[]) {
    return withCoordinatorFailover(this, () => commitOffsets.apply(this, args));
  };
  prototype.commitOffsetsIfNecessary = function (this: KafkajsConsumerGroup, ...args: unknown[]) {
    return withCoordinatorFailover(this, () => commitOffsetsIfNecessary.apply(this, args));
  };
  installed = true;
}

/**
 * Long enough for a killed broker's partitions to move: it is fenced after
 * `broker.session.timeout.ms` (Kafka's default 9 s; 3 s on the local brokers), and the new
 * coordinator then loads the group. Past it the coordinator is taken as gone for good and the
 * last error goes to kafkajs.
 */
export const FAILOVER_DEADLINE_MS = 12_000;
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800];

let installed = false;

/** A group whose coordinator is being looked for, while its heartbeats answer at once. */
interface CoordinatorSearch {
  readonly lostAt: number;
  lastError: unknown;
  searching: Promise<void> | undefined;
}

const searches = new WeakMap<CoordinatedGroup, CoordinatorSearch>();

type CoordinatorCall = (...args: unknown[]) => Promise<unknown>;

/** What the failover touches of kafkajs' internal ConsumerGroup: its coordinator, and how to find it. */
export interface CoordinatedGroup {
  readonly groupId: string;
  coordinator: unknown;
  readonly cluster: {
    findGroupCoordinator(request: { groupId: string }): Promise<unknown>;
    refreshMetadata(): Promise<void>;
  };
  /** Holds a copy of the coordinator for commits; null before the first join. */
  readonly offsetManager: { coordinator: unknown } | null;
}

interface KafkajsConsumerGroup extends CoordinatedGroup {
  heartbeat: CoordinatorCall;
  commitOffsets: CoordinatorCall;
  commitOffsetsIfNecessary: CoordinatorCall;
}

interface ConsumerGroupClass {
  readonly prototype: KafkajsConsumerGroup;
}

function loadConsumerGroupClass(): ConsumerGroupClass {
  return loadKafkajsClass<KafkajsConsumerGroup>(
    'kafkajs/src/consumer/consumerGroup',
    ['heartbeat', 'commitOffsets', 'commitOffsetsIfNecessary'],
    'coordinator failover',
  );
}

/** The coordinator moved or cannot be reached: worth finding it again, not re-joining the group. */
export function isCoordinatorLost(error: unknown): boolean {
  const { type, name } = (error ?? {}) as { type?: unknown; name?: unknown };
  return (
    type === 'NOT_COORDINATOR_FOR_GROUP' ||
    type === 'GROUP_COORDINATOR_NOT_AVAILABLE' ||
    name === 'KafkaJSConnectionError' ||
    name === 'KafkaJSConnectionClosedError' ||
    name === 'KafkaJSRequestTimeoutError'
  );
}

/**
 * Runs one heartbeat of the group. When the coordinator has moved or cannot be reached, it
 * resolves at once and finds the coordinator again in the background, so that consumption goes
 * on meanwhile; the next heartbeat goes to the coordinator found. Only when none is found within
 * the deadline does the last error go to kafkajs (which re-joins the group).
 */
export async function heartbeatAcrossFailover(
  group: CoordinatedGroup,
  heartbeat: () => Promise<unknown>,
  deadlineMs = FAILOVER_DEADLINE_MS,
): Promise<unknown> {
  const search = searches.get(group);
  if (search?.searching !== undefined) return undefined;
  try {
    const answer = await heartbeat();
    searches.delete(group);
    return answer;
  } catch (error) {
    if (!isCoordinatorLost(error)) {
      searches.delete(group);
      throw error;
    }
    const lost = search ?? { lostAt: Date.now(), lastError: error, searching: undefined };
    lost.lastError = error;
    if (Date.now() - lost.lostAt >= deadlineMs) {
      searches.delete(group);
      throw error;
    }
    const attempt = searches.has(group) ? 1 : 0;
    searches.set(group, lost);
    lost.searching = findCoordinatorAgain(group, RETRY_DELAYS_MS[attempt]!).finally(() => {
      lost.searching = undefined;
    });
    return undefined;
  }
}

/** Asks the cluster where the group's coordinator is now, and points the group there; never rejects. */
async function findCoordinatorAgain(group: CoordinatedGroup, afterMs: number): Promise<void> {
  await sleep(afterMs);
  try {
    await group.cluster.refreshMetadata();
    const coordinator = await group.cluster.findGroupCoordinator({ groupId: group.groupId });
    group.coordinator = coordinator;
    if (group.offsetManager !== null) group.offsetManager.coordinator = coordinator;
  } catch {
    // Not found yet (the partitions have not moved): the next heartbeat asks again.
  }
}

/**
 * Runs one coordinator call of the group; when the coordinator has moved or cannot be reached,
 * finds it again and retries there until the deadline, after which the last error goes to kafkajs.
 */
export async function withCoordinatorFailover(
  group: CoordinatedGroup,
  call: () => Promise<unknown>,
  deadlineMs = FAILOVER_DEADLINE_MS,
): Promise<unknown> {
  const giveUpAt = Date.now() + deadlineMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!isCoordinatorLost(error) || Date.now() >= giveUpAt) throw error;
      await findCoordinatorAgain(group, RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!);
    }
  }
}
