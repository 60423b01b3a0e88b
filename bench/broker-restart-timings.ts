/**
 * How long the local KRaft broker takes to come back after a clean stop and after a SIGKILL,
 * with the default settings and with others to compare. Each measurement starts a broker on a
 * fresh data directory, creates every Skyhook topic (the partitions a real stack has), keeps a
 * producer writing to them, then stops or kills the broker mid-stream and starts it again on
 * the same directory and ports.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { ALL_TOPIC_KEYS } from '@skyhook/contracts';
import {
  type BrokerStartTimings,
  type LocalKafkaBroker,
  silentLog,
  startLocalKafka,
} from '@skyhook/local-infrastructure';
import { kafkaEnvironmentSchema, kafkaSettingsFrom, provisionTopics, topicNameOf } from '@skyhook/messaging';

export interface BrokerRestartVariant {
  readonly name: string;
  readonly properties: Readonly<Record<string, string>>;
}

export interface BrokerRestartTiming {
  readonly variant: string;
  readonly end: 'clean-stop' | 'kill';
  readonly partitions: number;
  /** How long the clean stop itself took (0 for a kill). */
  readonly stopMs: number;
  readonly restart: BrokerStartTimings;
}

/** Writes small records round-robin over every topic until stopped; errors (broker down) are ignored. */
function keepProducing(bootstrapServers: string, topics: readonly string[]): () => Promise<void> {
  const producer = new Kafka({
    clientId: 'bench-broker-restart',
    brokers: [bootstrapServers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  let running = true;
  const loop = (async () => {
    await producer.connect();
    for (let i = 0; running; i += 1) {
      const messages = Array.from({ length: 50 }, (_, j) => ({
        key: `k${i}-${j}`,
        value: JSON.stringify({ i, j, padding: 'x'.repeat(300) }),
      }));
      try {
        await producer.send({ topic: topics[i % topics.length]!, acks: -1, messages });
      } catch {
        await sleep(100);
      }
    }
  })();
  return async () => {
    running = false;
    await loop.catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  };
}

export async function measureBrokerRestart(
  variant: BrokerRestartVariant,
  end: 'clean-stop' | 'kill',
  loadSeconds: number,
): Promise<BrokerRestartTiming> {
  let dataDir = await mkdtemp(join(tmpdir(), 'skyhook-bench-broker-'));
  let broker: LocalKafkaBroker;
  for (let attempt = 1; ; attempt += 1) {
    try {
      broker = await startLocalKafka({
        dataDir,
        persistent: true,
        log: silentLog,
        properties: variant.properties,
      });
      break;
    } catch (error) {
      // Free ports are chosen before the JVM binds them; on a busy machine another process can
      // take one meanwhile. The ports are formatted into the data directory: start over afresh.
      await rm(dataDir, { recursive: true, force: true });
      if (attempt === 3) throw error;
      dataDir = await mkdtemp(join(tmpdir(), 'skyhook-bench-broker-'));
    }
  }
  try {
    const settings = kafkaSettingsFrom(
      kafkaEnvironmentSchema.parse({ KAFKA_BROKERS: broker.bootstrapServers, KAFKA_TOPIC_PREFIX: 'bench' }),
      'bench-broker-restart',
    );
    const admin = new Kafka({
      clientId: 'bench-broker-restart',
      brokers: [broker.bootstrapServers],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    const provisioned = await provisionTopics(admin, settings, ALL_TOPIC_KEYS);
    await admin.disconnect();
    const stopProducing = keepProducing(
      broker.bootstrapServers,
      ALL_TOPIC_KEYS.map((key) => topicNameOf(settings, key)),
    );
    await sleep(loadSeconds * 1_000);
    const stopping = Date.now();
    if (end === 'kill') await broker.kill();
    else await broker.stop();
    const stopMs = end === 'kill' ? 0 : Date.now() - stopping;
    const restart = await broker.start();
    await stopProducing();
    return {
      variant: variant.name,
      end,
      partitions: provisioned.reduce((sum, topic) => sum + topic.partitions, 0),
      stopMs,
      restart,
    };
  } finally {
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
