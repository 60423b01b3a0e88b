import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { findFreeLoopbackPort, waitForPort } from './free-port';
import { type InfrastructureLog } from './infrastructure-log';
import { resolveMavenClasspath } from './maven-classpath';
import { workspaceRoot } from './workspace-root';

const execFileAsync = promisify(execFile);

/** The pom that pins the Kafka version and resolves its jars from Maven Central. */
const KAFKA_RUNTIME_DIR = join(workspaceRoot(), 'deploy', 'kafka');

export interface LocalKafkaBroker {
  readonly bootstrapServers: string;
  readonly logFile: string;
  /** The JVM's process id while it runs (the broker process itself, not a wrapper). */
  readonly pid: number | undefined;
  /** How the latest start went (the first one, or the latest `start()`). */
  readonly lastStart: BrokerStartTimings;
  /** A clean shutdown: SIGTERM (controlled shutdown, logs flushed), SIGKILL after 20 s. */
  stop(): Promise<void>;
  /** SIGKILL to the JVM: no shutdown hook, no flush, no checkpoint, as a crash or power loss. */
  kill(): Promise<void>;
  /**
   * Starts the broker again after `stop()` or `kill()`, on the same data directory and ports,
   * so clients configured with `bootstrapServers` reconnect on their own.
   */
  start(): Promise<BrokerStartTimings>;
}

export interface BrokerStartTimings {
  /** How the previous run ended: a first start, a clean stop or a SIGKILL. */
  readonly after: 'first-start' | 'clean-stop' | 'kill';
  /** From spawning the JVM until the client port accepts connections. */
  readonly listeningMs: number;
  /** From spawning until every partition has a leader and the group coordinator answers. */
  readonly usableMs: number;
}

export interface LocalKafkaOptions {
  /** Where the broker keeps its data and log. Reused across starts when `persistent`. */
  readonly dataDir: string;
  /** Keep data (and ports) between starts, for the dev stack; tests start from nothing. */
  readonly persistent: boolean;
  readonly log: InfrastructureLog;
  readonly startTimeoutMs?: number;
  /** Broker settings over the defaults below (e.g. to measure one against them). */
  readonly properties?: Readonly<Record<string, string>>;
}

interface BrokerPorts {
  readonly clusterId: string;
  readonly brokerPort: number;
  readonly controllerPort: number;
}

/**
 * A real single-node KRaft Apache Kafka, run from the jars Maven resolves (cached in the
 * local Maven repository, the classpath cached beside it), on free loopback ports.
 */
export async function startLocalKafka(options: LocalKafkaOptions): Promise<LocalKafkaBroker> {
  const classpath = await resolveKafkaClasspath(options.log);
  await mkdir(options.dataDir, { recursive: true });
  const ports = await brokerPortsFor(options);
  const node: KafkaNodeLayout = {
    nodeId: 1,
    brokerPort: ports.brokerPort,
    controllerPort: ports.controllerPort,
    dataDir: options.dataDir,
  };
  const propertiesFile = await writeNodeProperties(
    node,
    [`controller.quorum.bootstrap.servers=127.0.0.1:${ports.controllerPort}`, ...SINGLE_NODE_REPLICATION],
    options.properties ?? {},
  );
  await formatStorage(classpath, propertiesFile, ports.clusterId, ['--standalone']);
  const broker = kafkaNodeProcess({
    classpath,
    propertiesFile,
    node,
    log: options.log,
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
    waitUntilUsable: (timeoutMs) => waitUntilUsable(`127.0.0.1:${ports.brokerPort}`, timeoutMs, 'leaders'),
  });
  await broker.start();
  return broker;
}

/** Where one KRaft node listens and keeps its data. */
export interface KafkaNodeLayout {
  readonly nodeId: number;
  readonly brokerPort: number;
  readonly controllerPort: number;
  readonly dataDir: string;
}

/** What a single node replicates: everything once, or groups never find a coordinator. */
const SINGLE_NODE_REPLICATION = [
  'default.replication.factor=1',
  'min.insync.replicas=1',
  'offsets.topic.replication.factor=1',
  'transaction.state.log.replication.factor=1',
  'transaction.state.log.min.isr=1',
  'share.coordinator.state.topic.replication.factor=1',
  'share.coordinator.state.topic.min.isr=1',
];

export async function writeNodeProperties(
  node: KafkaNodeLayout,
  clusterSpecific: readonly string[],
  overrides: Readonly<Record<string, string>>,
): Promise<string> {
  const propertiesFile = join(node.dataDir, 'server.properties');
  await mkdir(node.dataDir, { recursive: true });
  await writeFile(propertiesFile, serverProperties(node, clusterSpecific, overrides));
  return propertiesFile;
}

export async function formatStorage(
  classpath: string,
  propertiesFile: string,
  clusterId: string,
  quorumOptions: readonly string[],
): Promise<void> {
  await execFileAsync(
    'java',
    [
      ...jvmOptions(),
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      `--cluster-id=${clusterId}`,
      '-c',
      propertiesFile,
      ...quorumOptions,
      '--ignore-formatted',
    ],
    { maxBuffer: 4 * 1024 * 1024 },
  );
}

export interface KafkaNodeProcessOptions {
  readonly classpath: string;
  readonly propertiesFile: string;
  readonly node: KafkaNodeLayout;
  readonly log: InfrastructureLog;
  readonly startTimeoutMs: number;
  /** Resolves once the node serves what its callers need (leaders, a coordinator, replicas). */
  readonly waitUntilUsable: (timeoutMs: number) => Promise<void>;
}

/**
 * One Kafka JVM that can be stopped, killed and started again on the same data directory and
 * ports; not started yet.
 */
export function kafkaNodeProcess(options: KafkaNodeProcessOptions): LocalKafkaBroker {
  const { node } = options;
  const logFile = join(node.dataDir, 'broker.log');
  const bootstrapServers = `127.0.0.1:${node.brokerPort}`;
  let running: RunningBroker | undefined;
  let previousEnd: BrokerStartTimings['after'] = 'first-start';
  let lastStart: BrokerStartTimings | undefined;

  const launch = async (): Promise<BrokerStartTimings> => {
    if (running !== undefined) throw new Error(`Kafka on ${bootstrapServers} is already running`);
    const started = Date.now();
    const broker = spawnWithParentWatchdog(
      'java',
      [...jvmOptions(), '-cp', options.classpath, 'kafka.Kafka', options.propertiesFile],
      logFile,
    );
    const exited = new Promise<number | null>((resolveExit) =>
      broker.once('exit', (code) => resolveExit(code)),
    );
    const current: RunningBroker = { process: broker, exited };
    running = current;
    void exited.then(() => {
      if (running === current) running = undefined;
    });
    try {
      const earlyExit = exited.then((code) => {
        throw new Error(`Kafka exited with code ${String(code)} during start-up; see ${logFile}`);
      });
      await Promise.race([waitForPort('127.0.0.1', node.brokerPort, options.startTimeoutMs), earlyExit]);
      const listeningMs = Date.now() - started;
      await Promise.race([options.waitUntilUsable(options.startTimeoutMs), earlyExit]);
      lastStart = { after: previousEnd, listeningMs, usableMs: Date.now() - started };
      options.log(
        `Kafka node ${node.nodeId} started on ${bootstrapServers} in ${lastStart.usableMs} ms (listening after ${listeningMs} ms; log: ${logFile})`,
      );
      return lastStart;
    } catch (error) {
      await stopBroker(current);
      throw error;
    }
  };

  return {
    bootstrapServers,
    logFile,
    get pid() {
      return running?.process.pid;
    },
    get lastStart() {
      if (lastStart === undefined) throw new Error(`Kafka on ${bootstrapServers} has not started yet`);
      return lastStart;
    },
    stop: async () => {
      if (running === undefined) return;
      await stopBroker(running);
      previousEnd = 'clean-stop';
    },
    kill: async () => {
      if (running === undefined) return;
      const { process: broker, exited } = running;
      broker.kill('SIGKILL');
      await exited;
      previousEnd = 'kill';
    },
    start: launch,
  };
}

interface RunningBroker {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
}

/** The Apache Kafka jars (deploy/kafka/pom.xml), resolved once per pom content. */
export function resolveKafkaClasspath(log: InfrastructureLog): Promise<string> {
  return resolveMavenClasspath(join(KAFKA_RUNTIME_DIR, 'pom.xml'), 'the Apache Kafka jars', log);
}

/**
 * The broker JVM's flags. `compact` (the default, for tests and development): a small heap,
 * serial GC and the C1 compiler only start fastest and stay near 170 MB. `production`
 * (`SKYHOOK_KAFKA_JVM=production`): Kafka's own start script's defaults (1 GiB heap, G1 with
 * 20 ms pauses, both JIT tiers), for benchmarks that size a deployment; C1-only code costs more
 * CPU per request once warm (bench/RESULTS.md, "Pipeline").
 */
export function kafkaJvmProfile(environment: NodeJS.ProcessEnv = process.env): 'compact' | 'production' {
  const profile = environment['SKYHOOK_KAFKA_JVM'] ?? 'compact';
  if (profile !== 'compact' && profile !== 'production') {
    throw new Error(`SKYHOOK_KAFKA_JVM must be compact or production, not ${profile}`);
  }
  return profile;
}

function jvmOptions(): string[] {
  const profile =
    kafkaJvmProfile() === 'production'
      ? [
          '-Xms1g',
          '-Xmx1g',
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          '-XX:InitiatingHeapOccupancyPercent=35',
        ]
      : ['-Xms128m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];
  return [
    ...profile,
    '-XX:+ExitOnOutOfMemoryError',
    `-Dlog4j2.configurationFile=${join(KAFKA_RUNTIME_DIR, 'log4j2.yaml')}`,
  ];
}

async function brokerPortsFor(options: LocalKafkaOptions): Promise<BrokerPorts> {
  const portsFile = join(options.dataDir, 'ports.json');
  if (options.persistent && existsSync(portsFile)) {
    // A formatted KRaft log remembers its controller endpoint: a persistent broker keeps its ports.
    return JSON.parse(await readFile(portsFile, 'utf8')) as BrokerPorts;
  }
  const ports: BrokerPorts = {
    clusterId: randomBytes(16).toString('base64url'),
    brokerPort: await findFreeLoopbackPort(),
    controllerPort: await findFreeLoopbackPort(),
  };
  await writeFile(portsFile, JSON.stringify(ports));
  return ports;
}

function serverProperties(
  node: KafkaNodeLayout,
  clusterSpecific: readonly string[],
  overrides: Readonly<Record<string, string>>,
): string {
  const defaults = [
    'process.roles=broker,controller',
    `node.id=${node.nodeId}`,
    ...clusterSpecific,
    `listeners=PLAINTEXT://127.0.0.1:${node.brokerPort},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${node.brokerPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${join(node.dataDir, 'log')}`,
    'num.partitions=1',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.num.partitions=3',
    // Skyhook provisions its topics explicitly; a typo must fail, not create a topic.
    'auto.create.topics.enable=false',
    'group.initial.rebalance.delay.ms=0',
    // The default 128 MiB dedupe buffer is allocated at start; 8 MiB is plenty here.
    'log.cleaner.dedupe.buffer.size=8388608',
    // After a SIGKILL the restarted broker cannot register until the controller has expired the
    // session of its previous incarnation: with the default 9 s that wait was 10 of the 14 s a
    // restart took here (clean stop: ~7.5 s, loaded machine); 3 s with a 0.5 s heartbeat brings
    // the kill -9 restart down to the clean one's time (bench/RESULTS.md, broker restart). In a
    // cluster the same session bounds how long a killed broker's partitions stay leaderless.
    'broker.session.timeout.ms=3000',
    'broker.heartbeat.interval.ms=500',
    'num.network.threads=2',
    'num.io.threads=2',
    'background.threads=2',
  ];
  const overridden = new Set(Object.keys(overrides));
  return [
    ...defaults.filter((line) => !overridden.has(line.slice(0, line.indexOf('=')))),
    ...Object.entries(overrides).map(([key, value]) => `${key}=${value}`),
    '',
  ].join('\n');
}

/**
 * The broker runs under a watchdog that kills it when this process dies, however it dies (even
 * SIGKILL), so an aborted test run never leaves a JVM behind. The shell starts the watchdog in
 * the background and then becomes the JVM (`exec`), so the child this process holds is the
 * broker itself: a signal sent to it (SIGKILL in a fault test) reaches the JVM, not a wrapper.
 * The watchdog polls both ends once a second and ends with the broker.
 */
function spawnWithParentWatchdog(command: string, args: string[], logFile: string): ChildProcess {
  const quoted = [command, ...args].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `broker=$$
(while kill -0 $broker 2>/dev/null; do
  if ! kill -0 ${process.pid} 2>/dev/null; then
    kill -TERM $broker 2>/dev/null; sleep 20; kill -KILL $broker 2>/dev/null; exit 0
  fi
  sleep 1
done) </dev/null &
exec ${quoted}`;
  const logFd = openSync(logFile, 'a');
  try {
    return spawn('sh', ['-c', script], { stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
}

async function stopBroker({ process: broker, exited }: RunningBroker): Promise<void> {
  if (broker.exitCode !== null || broker.signalCode !== null) return;
  broker.kill('SIGTERM');
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolveTimeout) => setTimeout(() => resolveTimeout(true), 20_000).unref()),
  ]);
  if (timedOut) {
    broker.kill('SIGKILL');
    await exited;
  }
}

/**
 * Usable: every partition of every topic has a leader (after an unclean shutdown they stay
 * offline until the broker has recovered its logs and the controller has unfenced it), and the
 * group coordinator answers. The first group operation on a new broker answers "coordinator
 * loading" for a moment; waiting for it here keeps that noise (and the retry delay) out of every
 * test and service. `replicated` also waits until every replica is back in sync, which is what
 * an operator waits for before restarting the next broker of a cluster.
 */
export async function waitUntilUsable(
  bootstrapServers: string,
  timeoutMs: number,
  wanted: 'leaders' | 'replicated',
): Promise<void> {
  const admin = new Kafka({
    clientId: 'skyhook-warm-up',
    brokers: bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  const giveUpAt = Date.now() + timeoutMs;
  let lastProblem = 'not answering';
  try {
    for (;;) {
      try {
        await admin.connect();
        const topics = await admin.listTopics();
        const metadata = await admin.fetchTopicMetadata({ topics });
        const partitions = metadata.topics.flatMap((topic) => topic.partitions);
        const offline = partitions.filter(
          (partition) => partition.leader < 0 || partition.partitionErrorCode !== 0,
        ).length;
        const underReplicated = partitions.filter(
          (partition) => partition.isr.length < partition.replicas.length,
        ).length;
        if (offline > 0) {
          lastProblem = `${offline} partitions without a leader`;
        } else if (wanted === 'replicated' && underReplicated > 0) {
          lastProblem = `${underReplicated} partitions under-replicated`;
        } else {
          await admin.describeGroups(['skyhook-warm-up']);
          return;
        }
      } catch (error) {
        lastProblem = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() > giveUpAt) {
        throw new Error(`Kafka on ${bootstrapServers} not usable after ${timeoutMs} ms: ${lastProblem}`);
      }
      await new Promise((resolveDelay) => setTimeout(resolveDelay, 100));
    }
  } finally {
    await admin.disconnect();
  }
}
