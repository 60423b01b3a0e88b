/**
 * Broker-leave benchmark (`npm run bench:broker-leave`): what a graceful broker stop costs one
 * producer, without the services in between. A three-node cluster from the Maven jars with every
 * Skyhook topic provisioned (replication 3, min ISR 2), one `ReplaceableProducer` — the producer
 * every service uses, its retries included — sending one record to every partition of the
 * delivery-requests topic every 20 ms, acks=all. Each node in turn is stopped (SIGTERM), started
 * again after the downtime, and waited for until every replica is in sync. Prints, per stop, how
 * long the node took to exit and each send held longer than 100 ms (how long, and when it began
 * relative to the SIGTERM, and how many times the producer retried it); then the whole run's
 * p50 / p99 / max.
 *
 * The pipeline's receiver silence in a rolling restart is at least the longest hold of any of its
 * three hops; this measures one hop on its own, so broker settings can be compared in one run.
 *
 * Settings (environment, or `--runs=N` etc. as arguments):
 *   BROKER_LEAVE_RUNS (1)            rolling restarts, each on a fresh cluster
 *   BROKER_LEAVE_DOWNTIME_MS (3000)  how long each node stays down
 *   BROKER_LEAVE_SETTLE_MS (2000)    how long after a node is back in sync the next one stops
 *   BROKER_LEAVE_PROPERTIES ({})     broker settings over the cluster's, as JSON, e.g.
 *                                    '{"replica.fetch.wait.max.ms":"100"}'
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { ALL_TOPIC_KEYS } from '@skyhook/contracts';
import { silentLog, startLocalKafkaCluster } from '@skyhook/local-infrastructure';
import {
  kafkaEnvironmentSchema,
  kafkaSettingsFrom,
  provisionTopics,
  ReplaceableProducer,
  topicNameOf,
} from '@skyhook/messaging';
import { createServiceLogger } from '@skyhook/observability';
import { benchNumberSetting, benchSetting } from './bench-settings';

const PREFIX = 'BROKER_LEAVE_';
const SEND_INTERVAL_MS = 20;
const HELD_MS = 100;

interface TimedSend {
  readonly startedAt: number;
  readonly tookMs: number;
  /** How many times the producer sent it again (its "went through after retries" warning). */
  readonly retries: number;
}

interface StopReport {
  readonly node: number;
  /** The node that led the KRaft controller quorum when this one was stopped (every node is both). */
  readonly activeController: number | undefined;
  readonly exitMs: number;
  /** The sends held longer than HELD_MS: when each began, relative to the SIGTERM, and how long it took. */
  readonly held: readonly {
    readonly fromStopMs: number;
    readonly tookMs: number;
    readonly retries: number;
  }[];
}

async function rollingRestart(
  properties: Record<string, string>,
  downtimeMs: number,
  settleMs: number,
): Promise<{
  stops: StopReport[];
  sends: TimedSend[];
  partitions: number;
}> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skyhook-bench-broker-leave-'));
  const cluster = await startLocalKafkaCluster({ dataDir, persistent: false, log: silentLog, properties });
  const kafka = new Kafka({
    clientId: 'bench-broker-leave',
    brokers: cluster.bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
  });
  // The producer's own account of a held send: the retries it took.
  let lastRetries = 0;
  const logger = createServiceLogger({
    service: 'bench-broker-leave',
    level: 'warn',
    destination: {
      write: (line: string) => {
        const entry = JSON.parse(line) as { retries?: unknown };
        if (typeof entry.retries === 'number') lastRetries = entry.retries;
      },
    },
  });
  const producer = new ReplaceableProducer(kafka, 'bench', { logger });
  try {
    const settings = kafkaSettingsFrom(
      kafkaEnvironmentSchema.parse({
        KAFKA_BROKERS: cluster.bootstrapServers,
        KAFKA_TOPIC_PREFIX: 'bench',
        KAFKA_REPLICATION_FACTOR: '3',
      }),
      'bench-broker-leave',
    );
    const admin = kafka.admin();
    await admin.connect();
    const provisioned = await provisionTopics(admin, settings, ALL_TOPIC_KEYS);
    await admin.disconnect();
    const topic = topicNameOf(settings, 'deliveryRequests');
    const partitions = settings.partitions.deliveryRequests;
    await producer.connect(60_000);

    const sends: TimedSend[] = [];
    let running = true;
    const sending = (async () => {
      while (running) {
        const startedAt = Date.now();
        const messages = Array.from({ length: partitions }, (_, partition) => ({
          partition,
          value: String(startedAt),
        }));
        lastRetries = 0;
        await producer.sendBatch({ topicMessages: [{ topic, messages }] }).catch(() => undefined);
        sends.push({ startedAt, tookMs: Date.now() - startedAt, retries: lastRetries });
        await sleep(SEND_INTERVAL_MS);
      }
    })();

    await sleep(3_000);
    const stops: StopReport[] = [];
    for (const [index, node] of cluster.nodes.entries()) {
      const activeController = await activeControllerOf(dataDir);
      const stoppedAt = Date.now();
      await node.stop();
      const exitMs = Date.now() - stoppedAt;
      await sleep(downtimeMs);
      await node.start();
      await cluster.waitUntilFullyReplicated();
      await sleep(settleMs);
      // Every send that ended after this stop began, up to the end of the node's way back in.
      const held = sends
        .filter((send) => send.startedAt + send.tookMs > stoppedAt && send.tookMs > HELD_MS)
        .map((send) => ({
          fromStopMs: send.startedAt - stoppedAt,
          tookMs: send.tookMs,
          retries: send.retries,
        }));
      stops.push({ node: index + 1, activeController, exitMs, held });
    }
    running = false;
    await sending;
    return { stops, sends, partitions: provisioned.reduce((sum, entry) => sum + entry.partitions, 0) };
  } finally {
    await producer.disconnect().catch(() => undefined);
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * The KRaft quorum's leader as the nodes last recorded it (`quorum-state` of each node's metadata
 * log: the newest epoch wins), or undefined when none names one.
 */
async function activeControllerOf(dataDir: string): Promise<number | undefined> {
  let newest: { leaderId: number; leaderEpoch: number } | undefined;
  for (const nodeId of [1, 2, 3]) {
    const file = join(dataDir, `node-${nodeId}`, 'log', '__cluster_metadata-0', 'quorum-state');
    const state = await readFile(file, 'utf8').then(
      (text) => JSON.parse(text) as { leaderId?: number; leaderEpoch?: number },
      () => undefined,
    );
    if (state?.leaderId === undefined || state.leaderId < 0 || state.leaderEpoch === undefined) continue;
    if (newest === undefined || state.leaderEpoch > newest.leaderEpoch) {
      newest = { leaderId: state.leaderId, leaderEpoch: state.leaderEpoch };
    }
  }
  return newest?.leaderId;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

async function main(): Promise<void> {
  const runs = benchNumberSetting(PREFIX, 'BROKER_LEAVE_RUNS', 1, 1);
  const downtimeMs = benchNumberSetting(PREFIX, 'BROKER_LEAVE_DOWNTIME_MS', 3_000);
  const settleMs = benchNumberSetting(PREFIX, 'BROKER_LEAVE_SETTLE_MS', 2_000);
  const properties = JSON.parse(benchSetting(PREFIX, 'BROKER_LEAVE_PROPERTIES', '{}')) as Record<
    string,
    string
  >;
  console.log(
    `broker-leave: ${runs} rolling restart(s), down ${downtimeMs} ms, settling ${settleMs} ms, broker settings ${JSON.stringify(properties)}, ` +
      `one record to each partition of the delivery-requests topic every ${SEND_INTERVAL_MS} ms`,
  );
  for (let run = 1; run <= runs; run += 1) {
    const loadBefore = loadavg()[0]!;
    const { stops, sends, partitions } = await rollingRestart(properties, downtimeMs, settleMs);
    const took = sends.map((send) => send.tookMs).sort((a, b) => a - b);
    console.log(
      `run ${run} (load ${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}, ${partitions} partitions in the cluster): ` +
        `${sends.length} sends, p50 ${percentile(took, 0.5)} / p99 ${percentile(took, 0.99)} / max ${took.at(-1) ?? 0} ms`,
    );
    for (const stop of stops) {
      const held = stop.held
        .map((send) => `${send.tookMs} ms from ${send.fromStopMs} ms (${send.retries} retries)`)
        .join(', ');
      console.log(
        `  node ${stop.node}${stop.activeController === stop.node ? ' (the active controller)' : ''}: exited ${stop.exitMs} ms after SIGTERM; sends held > ${HELD_MS} ms: ${held || 'none'}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
