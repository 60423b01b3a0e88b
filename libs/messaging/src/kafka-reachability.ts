import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { type KafkaSettings } from './kafka-config';

export class KafkaUnreachableError extends Error {
  constructor(brokers: readonly string[], reason: string) {
    super(`Kafka brokers ${brokers.join(',')} unreachable: ${reason}`);
    this.name = 'KafkaUnreachableError';
  }
}

/**
 * Fails start-up fast and legibly when the cluster does not answer, instead of letting
 * kafkajs retry quietly for minutes while the service reports itself started.
 */
export async function assertKafkaReachable(settings: KafkaSettings): Promise<void> {
  // A quiet client of its own: the one clear error below replaces kafkajs' retry log lines.
  const kafka = new Kafka({
    clientId: `${settings.clientId}-preflight`,
    brokers: [...settings.brokers],
    ssl: settings.ssl,
    sasl: settings.sasl as SASLOptions | undefined,
    connectionTimeout: settings.connectTimeoutMs,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
  });
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new KafkaUnreachableError(settings.brokers, `no answer within ${settings.startupTimeoutMs} ms`),
        ),
      settings.startupTimeoutMs,
    );
  });
  try {
    await Promise.race([
      (async () => {
        await admin.connect();
        await admin.describeCluster();
      })(),
      deadline,
    ]);
  } catch (error) {
    if (error instanceof KafkaUnreachableError) throw error;
    throw new KafkaUnreachableError(settings.brokers, error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
