import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { type KafkaSettings, kafkaEnvironmentSchema, kafkaSettingsFrom } from '@skyhook/messaging';
import { createServiceLogger, type ServiceLogger } from '@skyhook/observability';
import { testKafkaBrokers } from './test-infrastructure-env';
import { uniqueTopicPrefix } from './unique-names';

/**
 * Kafka settings for one test: the run's broker and a topic/group prefix no other test uses,
 * built through the same environment parsing the services use.
 */
export function testKafkaSettings(overrides: NodeJS.ProcessEnv = {}): KafkaSettings {
  const environment = kafkaEnvironmentSchema.parse({
    KAFKA_BROKERS: testKafkaBrokers(),
    KAFKA_TOPIC_PREFIX: uniqueTopicPrefix(),
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    ...overrides,
  });
  return kafkaSettingsFrom(environment, 'skyhook-test');
}

export function testKafkaClient(settings: KafkaSettings): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    logLevel: logLevel.NOTHING,
  });
}

/** Quiet unless a test is being debugged with LOG_LEVEL set. */
export function testLogger(): ServiceLogger {
  const level = process.env['LOG_LEVEL'];
  return level === undefined
    ? pino({ level: 'silent' })
    : createServiceLogger({ service: 'test', level: level as 'debug' });
}
