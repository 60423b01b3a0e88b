import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { findFreeLoopbackPort, waitForPort } from './free-port';
import { type InfrastructureLog } from './infrastructure-log';
import { workspaceRoot } from './workspace-root';

const execFileAsync = promisify(execFile);

/** The pom that pins the Kafka version and resolves its jars from Maven Central. */
const KAFKA_RUNTIME_DIR = join(workspaceRoot(), 'deploy', 'kafka');

export interface LocalKafkaBroker {
  readonly bootstrapServers: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface LocalKafkaOptions {
  /** Where the broker keeps its data and log. Reused across starts when `persistent`. */
  readonly dataDir: string;
  /** Keep data (and ports) between starts, for the dev stack; tests start from nothing. */
  readonly persistent: boolean;
  readonly log: InfrastructureLog;
  readonly startTimeoutMs?: number;
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
  const logDir = join(options.dataDir, 'log');
  const propertiesFile = join(options.dataDir, 'server.properties');
  await writeFile(propertiesFile, serverProperties(ports, logDir));

  const jvm = jvmOptions();
  await execFileAsync(
    'java',
    [
      ...jvm,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      `--cluster-id=${ports.clusterId}`,
      '-c',
      propertiesFile,
      '--standalone',
      '--ignore-formatted',
    ],
    { maxBuffer: 4 * 1024 * 1024 },
  );

  const logFile = join(options.dataDir, 'broker.log');
  const started = Date.now();
  const broker = spawnWithParentWatchdog(
    'java',
    [...jvm, '-cp', classpath, 'kafka.Kafka', propertiesFile],
    logFile,
  );
  const exited = new Promise<number | null>((resolveExit) =>
    broker.once('exit', (code) => resolveExit(code)),
  );
  try {
    await Promise.race([
      waitForPort('127.0.0.1', ports.brokerPort, options.startTimeoutMs ?? 60_000),
      exited.then((code) => {
        throw new Error(`Kafka exited with code ${String(code)} during start-up; see ${logFile}`);
      }),
    ]);
    const bootstrapServers = `127.0.0.1:${ports.brokerPort}`;
    await warmUpGroupCoordinator(bootstrapServers);
    options.log(`Kafka started on ${bootstrapServers} in ${Date.now() - started} ms (log: ${logFile})`);
    return { bootstrapServers, logFile, stop: () => stopBroker(broker, exited) };
  } catch (error) {
    await stopBroker(broker, exited);
    throw error;
  }
}

/** `mvn dependency:build-classpath`, once per pom content; later starts read the cached file. */
export async function resolveKafkaClasspath(log: InfrastructureLog): Promise<string> {
  const pomFile = join(KAFKA_RUNTIME_DIR, 'pom.xml');
  const pom = await readFile(pomFile);
  const cacheDir = join(homedir(), '.cache', 'skyhook');
  const cacheFile = join(
    cacheDir,
    `kafka-classpath-${createHash('sha256').update(pom).digest('hex').slice(0, 16)}.txt`,
  );
  if (existsSync(cacheFile)) {
    const cached = (await readFile(cacheFile, 'utf8')).trim();
    if (cached.split(':').every((jar) => existsSync(jar))) return cached;
  }
  await mkdir(cacheDir, { recursive: true });
  log('resolving the Apache Kafka jars with Maven (first run only)');
  await execFileAsync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      pomFile,
      'dependency:build-classpath',
      '-Dmdep.includeScope=runtime',
      `-Dmdep.outputFile=${cacheFile}`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return (await readFile(cacheFile, 'utf8')).trim();
}

function jvmOptions(): string[] {
  return [
    // A test/dev broker: small heap, serial GC and C1 only start fastest and stay near 170 MB.
    '-Xms128m',
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
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

function serverProperties(ports: BrokerPorts, logDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${ports.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${ports.brokerPort},CONTROLLER://127.0.0.1:${ports.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${ports.brokerPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${logDir}`,
    'num.partitions=1',
    // A single node: every internal topic must be replicated once, or groups never find a coordinator.
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=3',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Skyhook provisions its topics explicitly; a typo must fail, not create a topic.
    'auto.create.topics.enable=false',
    'group.initial.rebalance.delay.ms=0',
    // The default 128 MiB dedupe buffer is allocated at start; 8 MiB is plenty here.
    'log.cleaner.dedupe.buffer.size=8388608',
    'num.network.threads=2',
    'num.io.threads=2',
    'background.threads=2',
    '',
  ].join('\n');
}

/**
 * The broker is wrapped in a shell that kills it when this process dies, however it dies
 * (even SIGKILL), so an aborted test run never leaves a JVM behind.
 */
function spawnWithParentWatchdog(command: string, args: string[], logFile: string): ChildProcess {
  const quoted = [command, ...args].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `${quoted} & child=$!
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT
while kill -0 ${process.pid} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1 & wait $!; done
kill -TERM $child 2>/dev/null; wait $child`;
  const logFd = openSync(logFile, 'a');
  try {
    return spawn('sh', ['-c', script], { stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
}

async function stopBroker(broker: ChildProcess, exited: Promise<number | null>): Promise<void> {
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
 * The first group operation on a new broker answers "coordinator loading" for a moment;
 * doing one here keeps that noise (and the retry delay) out of every test and service.
 */
async function warmUpGroupCoordinator(bootstrapServers: string): Promise<void> {
  const admin = new Kafka({
    clientId: 'skyhook-warm-up',
    brokers: [bootstrapServers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const giveUpAt = Date.now() + 30_000;
    for (;;) {
      try {
        await admin.describeGroups(['skyhook-warm-up']);
        return;
      } catch (error) {
        if (Date.now() > giveUpAt) throw error;
        await new Promise((resolveDelay) => setTimeout(resolveDelay, 200));
      }
    }
  } finally {
    await admin.disconnect();
  }
}
