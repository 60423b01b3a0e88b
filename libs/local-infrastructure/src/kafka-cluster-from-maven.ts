import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findFreeLoopbackPort } from './free-port';
import { type InfrastructureLog } from './infrastructure-log';
import {
  formatStorage,
  kafkaNodeProcess,
  type KafkaNodeLayout,
  type LocalKafkaBroker,
  resolveKafkaClasspath,
  waitUntilUsable,
  writeNodeProperties,
} from './kafka-from-maven';

/** The shape production runs: three brokers, every partition on all three, two in sync to write. */
export const CLUSTER_NODE_COUNT = 3;
export const CLUSTER_MIN_IN_SYNC_REPLICAS = 2;

export interface LocalKafkaCluster {
  /** Every node's address, comma-separated: what `KAFKA_BROKERS` takes. */
  readonly bootstrapServers: string;
  /** The nodes in id order (node 1 first); each can be stopped, killed and started on its own. */
  readonly nodes: readonly LocalKafkaBroker[];
  /**
   * Resolves once every partition has a leader and every replica is in sync: what an operator
   * waits for before restarting the next broker.
   */
  waitUntilFullyReplicated(timeoutMs?: number): Promise<void>;
  /** Stops every node (clean shutdown). */
  stop(): Promise<void>;
}

export interface LocalKafkaClusterOptions {
  /** One directory per node is made under it. */
  readonly dataDir: string;
  /** Keep data and ports between starts (the dev stack); tests start from nothing. */
  readonly persistent: boolean;
  readonly log: InfrastructureLog;
  readonly startTimeoutMs?: number;
  /** Broker settings over the cluster's defaults, for every node. */
  readonly properties?: Readonly<Record<string, string>>;
}

interface ClusterLayout {
  readonly clusterId: string;
  readonly nodes: readonly { nodeId: number; brokerPort: number; controllerPort: number }[];
}

/**
 * A real three-node KRaft cluster from the Maven jars: every node both broker and controller, a
 * static controller quorum (a majority of two keeps it writable while one node restarts),
 * replication factor 3 and `min.insync.replicas=2` for every topic, internal ones included. The
 * same shape as the deploy manifests, on loopback ports.
 */
export async function startLocalKafkaCluster(options: LocalKafkaClusterOptions): Promise<LocalKafkaCluster> {
  const classpath = await resolveKafkaClasspath(options.log);
  await mkdir(options.dataDir, { recursive: true });
  const layout = await clusterLayoutFor(options);
  const voters = layout.nodes.map((node) => `${node.nodeId}@127.0.0.1:${node.controllerPort}`).join(',');
  const bootstrapServers = layout.nodes.map((node) => `127.0.0.1:${node.brokerPort}`).join(',');
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;

  const nodes = await Promise.all(
    layout.nodes.map(async (ports) => {
      const node: KafkaNodeLayout = { ...ports, dataDir: join(options.dataDir, `node-${ports.nodeId}`) };
      const propertiesFile = await writeNodeProperties(
        node,
        [`controller.quorum.voters=${voters}`, ...CLUSTER_REPLICATION],
        options.properties ?? {},
      );
      await formatStorage(classpath, propertiesFile, layout.clusterId, []);
      return kafkaNodeProcess({
        classpath,
        propertiesFile,
        node,
        log: options.log,
        startTimeoutMs,
        // A node is back when the cluster has every replica in sync again, itself included.
        waitUntilUsable: (timeoutMs) => waitUntilUsable(bootstrapServers, timeoutMs, 'replicated'),
      });
    }),
  );

  // All at once: a node on its own has no quorum and waits for the others.
  const started = await Promise.allSettled(nodes.map((node) => node.start()));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed !== undefined) {
    await Promise.allSettled(nodes.map((node) => node.stop()));
    throw failed.reason;
  }
  return {
    bootstrapServers,
    nodes,
    waitUntilFullyReplicated: (timeoutMs = startTimeoutMs) =>
      waitUntilUsable(bootstrapServers, timeoutMs, 'replicated'),
    stop: async () => {
      await Promise.allSettled(nodes.map((node) => node.stop()));
    },
  };
}

const CLUSTER_REPLICATION = [
  `default.replication.factor=${CLUSTER_NODE_COUNT}`,
  `min.insync.replicas=${CLUSTER_MIN_IN_SYNC_REPLICAS}`,
  `offsets.topic.replication.factor=${CLUSTER_NODE_COUNT}`,
  `transaction.state.log.replication.factor=${CLUSTER_NODE_COUNT}`,
  `transaction.state.log.min.isr=${CLUSTER_MIN_IN_SYNC_REPLICAS}`,
  `share.coordinator.state.topic.replication.factor=${CLUSTER_NODE_COUNT}`,
  `share.coordinator.state.topic.min.isr=${CLUSTER_MIN_IN_SYNC_REPLICAS}`,
  // A replica that fell behind must never become leader: that would drop acknowledged records.
  'unclean.leader.election.enable=false',
];

async function clusterLayoutFor(options: LocalKafkaClusterOptions): Promise<ClusterLayout> {
  const layoutFile = join(options.dataDir, 'cluster.json');
  if (options.persistent && existsSync(layoutFile)) {
    // The formatted KRaft logs remember the quorum's endpoints: a persistent cluster keeps its ports.
    return JSON.parse(await readFile(layoutFile, 'utf8')) as ClusterLayout;
  }
  const nodes = [];
  for (let nodeId = 1; nodeId <= CLUSTER_NODE_COUNT; nodeId += 1) {
    nodes.push({
      nodeId,
      brokerPort: await findFreeLoopbackPort(),
      controllerPort: await findFreeLoopbackPort(),
    });
  }
  const layout: ClusterLayout = { clusterId: randomBytes(16).toString('base64url'), nodes };
  await writeFile(layoutFile, JSON.stringify(layout));
  return layout;
}
