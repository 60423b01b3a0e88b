import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { type ServiceLogger } from '@skyhook/observability';
import { type KafkaSettings } from './kafka-config';
import { KafkaStartupTimeoutError, retryKafkaAtStartup } from './kafka-startup-retry';

export class KafkaUnreachableError extends Error {
  constructor(brokers: readonly string[], reason: string, options?: { cause?: unknown }) {
    super(`Kafka brokers ${brokers.join(',')} unreachable: ${reason}`, options);
    this.name = 'KafkaUnreachableError';
  }
}

/**
 * Waits, up to `startupTimeoutMs`, for the cluster to answer, logging each failed round on
 * `logger`: a broker started together with the service (an orchestrator starting everything
 * at once) is waited for rather than failed on. Past that, or at once when the cluster refuses
 * the client for good (bad credentials), start-up fails in one legible line instead of
 * kafkajs retrying quietly for minutes while the service reports itself started.
 */
export async function assertKafkaReachable(settings: KafkaSettings, logger?: ServiceLogger): Promise<void> {
  try {
    await retryKafkaAtStartup(
      `reaching the brokers ${settings.brokers.join(',')}`,
      () => describeCluster(settings),
      {
        timeoutMs: settings.startupTimeoutMs,
        logger,
      },
    );
  } catch (error) {
    const reason =
      error instanceof KafkaStartupTimeoutError
        ? `${error.lastFailure} (still failing after ${(error.timeoutMs / 1_000).toFixed(1)} s, KAFKA_STARTUP_TIMEOUT_MS)`
        : error instanceof Error
          ? error.message
          : String(error);
    throw new KafkaUnreachableError(settings.brokers, reason, { cause: error });
  }
}

/** One round, on a client of its own: quiet, since the round's one warning replaces kafkajs' log lines. */
async function describeCluster(settings: KafkaSettings): Promise<void> {
  const admin = new Kafka({
    clientId: `${settings.clientId}-preflight`,
    brokers: [...settings.brokers],
    ssl: settings.ssl,
    sasl: settings.sasl as SASLOptions | undefined,
    connectionTimeout: settings.connectTimeoutMs,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
