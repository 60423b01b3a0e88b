import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { inboundEventContract } from '@skyhook/contracts';
import { ReadinessRegistry } from '@skyhook/observability';
import {
  type KafkaFaultProxy,
  pollUntil,
  startKafkaFaultProxy,
  UNKNOWN_TOPIC_OR_PARTITION,
} from '@skyhook/testing';
import { numberedEvent } from './test/inbound-events-test-bed';
import { testKafkaClient, testKafkaSettings } from './test/kafka-test-settings';
import { type ConsumedRecord } from './consumed-records';
import { ContractConsumer } from './contract-consumer';
import { ContractProducer } from './contract-producer';
import { type KafkaSettings } from './kafka-config';
import { MessagingLifecycle } from './messaging-lifecycle';
import { ProducerHealthBoard } from './producer-health';
import { provisionTopics } from './topic-provisioner';

interface LogLine {
  readonly level: number;
  readonly msg: string;
}

/** A service logger whose lines the test reads. */
function capturingLogger(): { logger: pino.Logger; warnings: () => string[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  );
  return { logger, warnings: () => lines.filter((line) => line.level === 40).map((line) => line.msg) };
}

/**
 * A client whose every connection goes through `proxy`. kafkajs' own retries of a metadata
 * request (five by default, about ten seconds) would ride out a short fault by themselves; here
 * they give up after one, so a fault of a few seconds outlasts them, as the issue's fresh
 * three-broker cluster outlasted the defaults.
 */
function proxiedClient(settings: KafkaSettings, proxy: KafkaFaultProxy): Kafka {
  return new Kafka({
    clientId: 'starting-service',
    brokers: [...settings.brokers],
    socketFactory: proxy.socketFactory,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 },
    logLevel: logLevel.NOTHING,
  });
}

describe('start-up against a cluster whose brokers do not know the topics yet', () => {
  let proxy: KafkaFaultProxy;

  beforeEach(async () => {
    const [host = '127.0.0.1', port = '9092'] = (testKafkaSettings().brokers[0] ?? '').split(':');
    proxy = await startKafkaFaultProxy({ host, port: Number(port) });
  });

  afterEach(async () => {
    await proxy.close();
  });

  it('a consumer answered "This server does not host this topic-partition" retries with a warning, then joins and consumes', async () => {
    const settings = testKafkaSettings({
      KAFKA_PARTITIONS_INBOUND_EVENTS: '2',
      KAFKA_STARTUP_TIMEOUT_MS: '30000',
    });
    const direct = testKafkaClient(settings);
    const admin = direct.admin();
    await admin.connect();
    await provisionTopics(admin, settings, ['inboundEvents']);
    const { logger, warnings } = capturingLogger();
    const handled: ConsumedRecord[] = [];
    const consumer = new ContractConsumer(
      proxiedClient(settings, proxy),
      settings,
      {
        group: 'starting-service',
        routes: [{ topicKey: 'inboundEvents', contract: inboundEventContract }],
        handleRecord: (record) => {
          handled.push(record);
          return Promise.resolve();
        },
        handleRejected: () => Promise.resolve(),
      },
      logger,
    );
    const producer = new ContractProducer(direct, settings);
    try {
      proxy.failTopicMetadataWith(UNKNOWN_TOPIC_OR_PARTITION);
      const starting = consumer.start();
      await pollUntil(() => warnings().length > 0, {
        timeoutMs: 15_000,
        description: 'a warning that the subscription is retried',
      });
      proxy.failTopicMetadataWith(undefined);
      await starting;

      expect(warnings()[0]).toMatch(
        new RegExp(
          `^Kafka start-up: subscribing consumer group ${consumer.groupId.replace(/\./g, '\\.')} failed ` +
            `\\(This server does not host this topic-partition\\); retrying in \\d+ ms, giving up in \\d+\\.\\d s$`,
        ),
      );
      expect(proxy.metadataResponsesFailed).toBeGreaterThan(0);
      await producer.connect();
      await producer.send(inboundEventContract, 'inboundEvents', [numberedEvent(1)]);
      await pollUntil(() => handled.length > 0, { description: 'the record consumed' });
      expect(handled.map((record) => (record.value as { id: string }).id)).toEqual(['evt-1']);
      expect(consumer.state).toBe('consuming');
    } finally {
      await consumer.stop();
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('topic provisioning and the producer retry until the brokers know the topics, and the service becomes ready', async () => {
    const settings = testKafkaSettings({ KAFKA_STARTUP_TIMEOUT_MS: '30000' });
    const kafka = proxiedClient(settings, proxy);
    const { logger, warnings } = capturingLogger();
    const readiness = new ReadinessRegistry();
    const health = new ProducerHealthBoard();
    const producer = new ContractProducer(kafka, settings, { health, logger });
    const lifecycle = new MessagingLifecycle(
      kafka,
      settings,
      ['inboundEvents'],
      logger,
      producer,
      readiness,
      health,
    );
    try {
      proxy.failTopicMetadataWith(UNKNOWN_TOPIC_OR_PARTITION);
      const starting = lifecycle.onModuleInit();
      await pollUntil(() => warnings().length > 0, {
        timeoutMs: 15_000,
        description: 'a warning that provisioning is retried',
      });
      proxy.failTopicMetadataWith(undefined);
      await starting;

      expect(warnings()[0]).toMatch(
        /^Kafka start-up: provisioning topics failed \(This server does not host this topic-partition\); retrying in \d+ ms, giving up in \d+\.\d s$/,
      );
      for (const check of readiness.checks) await check.check();
      await producer.send(inboundEventContract, 'inboundEvents', [numberedEvent(2)]);
    } finally {
      await lifecycle.onApplicationShutdown();
    }
  });

  it('a topic setting the cluster refuses (a replication factor above its size) fails at once, with no retry', async () => {
    const settings = testKafkaSettings({ KAFKA_REPLICATION_FACTOR: '3', KAFKA_STARTUP_TIMEOUT_MS: '30000' });
    const kafka = proxiedClient(settings, proxy);
    const { logger, warnings } = capturingLogger();
    const health = new ProducerHealthBoard();
    const producer = new ContractProducer(kafka, settings, { health, logger });
    const lifecycle = new MessagingLifecycle(
      kafka,
      settings,
      ['inboundEvents'],
      logger,
      producer,
      new ReadinessRegistry(),
      health,
    );
    const started = Date.now();
    try {
      await expect(lifecycle.onModuleInit()).rejects.toThrow(
        /^the cluster refused to create topics: [^ ]*skyhook\.events\.in\.v1: Replication-factor is invalid \(INVALID_REPLICATION_FACTOR\)$/,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(warnings()).toEqual([]);
    } finally {
      await lifecycle.onApplicationShutdown();
    }
  });
});
