import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import { type ServiceLogger } from '@skyhook/observability';
import { installCoordinatorFailover } from './coordinator-failover';
import { installFetchFailover } from './fetch-failover';
import { type KafkaSettings } from './kafka-config';
import { installRequestQueueIdleFix } from './request-queue-idle-fix';

const KAFKAJS_TO_PINO_LEVEL: Record<logLevel, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.NOTHING]: 'debug',
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * kafkajs logs every error response a broker sends ("coordinator loading", "unknown topic"
 * right after creation) at ERROR from its connection layer, even when the layer above
 * retries it. Failures that matter surface from that layer (as rejected calls or consumer
 * crashes), so these per-response lines are kept at debug.
 */
function levelFor(namespace: string, level: logLevel, message: string): 'error' | 'warn' | 'info' | 'debug' {
  if (namespace === 'Connection' && message.startsWith('Response ')) return 'debug';
  return KAFKAJS_TO_PINO_LEVEL[level];
}

/** A kafkajs client whose logs go through the service's structured logger. */
export function createKafkaClient(settings: KafkaSettings, logger: ServiceLogger): Kafka {
  installCoordinatorFailover();
  installFetchFailover();
  installRequestQueueIdleFix();
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    ssl: settings.ssl,
    sasl: settings.sasl as SASLOptions | undefined,
    connectionTimeout: settings.connectTimeoutMs,
    // kafkajs logs every broker hiccup at ERROR before it retries; WARN and above is signal.
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _logger, ...extra } = log;
        kafkaLogger[levelFor(namespace, level, message)]({ namespace, ...extra }, message);
      },
  });
}
