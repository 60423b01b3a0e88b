import pino from 'pino';
import { createServiceLogger, type ServiceLogger } from '@skyhook/observability';
import { testKafkaBrokers } from './test-infrastructure-env';
import { uniqueTopicPrefix } from './unique-names';

/**
 * The Kafka part of a service environment for one test: the run's broker and a topic/group
 * prefix no other test uses. Parse it with the service's own schema, like a service would.
 */
export function testKafkaEnvironment(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: testKafkaBrokers(),
    KAFKA_TOPIC_PREFIX: uniqueTopicPrefix(),
    // The broker's minimum: a consumer that died mid-test hands its partitions over quickly.
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    ...overrides,
  };
}

/** Quiet unless a test is being debugged with LOG_LEVEL set. */
export function testLogger(): ServiceLogger {
  const level = process.env['LOG_LEVEL'];
  return level === undefined
    ? pino({ level: 'silent' })
    : createServiceLogger({ service: 'test', level: level as 'debug' });
}
