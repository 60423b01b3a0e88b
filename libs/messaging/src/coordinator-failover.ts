import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';

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
 * partitions: `broker.session.timeout.ms`) and retry there, for up to `FAILOVER_DEADLINE_MS`.
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
    return withCoordinatorFailover(this, () => heartbeat.apply(this, args));
  };
  prototype.commitOffsets = function (this: KafkajsConsumerGroup, ...args: unknown[]) {
    return withCoordinatorFailover(this, () => commitOffsets.apply(this, args));
  };
  prototype.commitOffsetsIfNecessary = function (this: KafkajsConsumerGroup, ...args: unknown[]) {
    return withCoordinatorFailover(this, () => commitOffsetsIfNecessary.apply(this, args));
  };
  installed = true;
}

/** Long enough for a killed broker's partitions to move (3 s broker session), short of a session. */
export const FAILOVER_DEADLINE_MS = 5_000;
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800];

let installed = false;

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
  const requireFromHere = createRequire(__filename);
  const loaded = requireFromHere('kafkajs/src/consumer/consumerGroup') as ConsumerGroupClass;
  for (const method of ['heartbeat', 'commitOffsets', 'commitOffsetsIfNecessary'] as const) {
    if (typeof loaded.prototype?.[method] !== 'function') {
      throw new Error(`kafkajs' ConsumerGroup has no ${method}: the coordinator failover needs updating`);
    }
  }
  return loaded;
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
      await sleep(RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]);
      try {
        await group.cluster.refreshMetadata();
        const coordinator = await group.cluster.findGroupCoordinator({ groupId: group.groupId });
        group.coordinator = coordinator;
        if (group.offsetManager !== null) group.offsetManager.coordinator = coordinator;
      } catch {
        // Not found yet (the partitions have not moved): the next round asks again.
      }
    }
  }
}
