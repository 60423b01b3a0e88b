import { z } from 'zod';
import { ALL_TOPIC_KEYS, KAFKA_TOPICS, type TopicKey } from '@skyhook/contracts';

const brokerAddress = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/, 'expected host:port');

/** `KAFKA_PARTITIONS_DELIVERY_REQUESTS` for the `deliveryRequests` topic, and so on. */
export function partitionVariableFor(key: TopicKey): string {
  return `KAFKA_PARTITIONS_${key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
}

const partitionOverrides = Object.fromEntries(
  ALL_TOPIC_KEYS.map((key) => [
    partitionVariableFor(key),
    z.coerce.number().int().min(1).max(1_000).optional(),
  ]),
);

const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');

export const kafkaEnvironmentSchema = z.object({
  KAFKA_BROKERS: z
    .string()
    .transform((value) => value.split(',').map((broker) => broker.trim()))
    .pipe(z.array(brokerAddress).min(1)),
  KAFKA_SSL: booleanFlag.default(false),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  /** Prefixes every topic and consumer group: isolates tests and lets environments share a cluster. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, . _ - only')
    .max(100)
    .default(''),
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(10).default(1),
  KAFKA_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  /**
   * How long each Kafka step of start-up (reaching the brokers, provisioning topics, connecting
   * producers, subscribing consumers) retries retriable errors before the service fails with a
   * clear error: a broker started together with the services, or a cluster just created whose
   * topic metadata has not reached every broker yet, is waited for, not failed on.
   */
  KAFKA_STARTUP_TIMEOUT_MS: z.coerce.number().int().min(500).max(600_000).default(60_000),
  /**
   * A crashed consumer's partitions move once the group notices it is gone: the session
   * timeout bounds that. 6 s, the broker's default `group.min.session.timeout.ms`, so held work
   * flows again within about 7 s of a kill -9 (10 s took 8–11 s, ADR 0014). Heartbeats go out
   * every second from every consumer loop, so a busy instance stays well inside it.
   */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(6_000),
  KAFKA_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(100).default(1_000),
  KAFKA_REBALANCE_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(15_000),
  ...partitionOverrides,
});

export interface KafkaSaslSettings {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: boolean;
  readonly sasl?: KafkaSaslSettings;
  readonly topicPrefix: string;
  readonly replicationFactor: number;
  readonly partitions: Readonly<Record<TopicKey, number>>;
  readonly connectTimeoutMs: number;
  readonly startupTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
}

export type KafkaEnvironment = z.infer<typeof kafkaEnvironmentSchema>;

export class KafkaSettingsError extends Error {}

export function kafkaSettingsFrom(environment: KafkaEnvironment, clientId: string): KafkaSettings {
  const values = environment as KafkaEnvironment & Record<string, unknown>;
  const partitions = Object.fromEntries(
    ALL_TOPIC_KEYS.map((key) => {
      const override = values[partitionVariableFor(key)];
      return [key, typeof override === 'number' ? override : KAFKA_TOPICS[key].defaultPartitions];
    }),
  ) as Record<TopicKey, number>;
  return {
    brokers: environment.KAFKA_BROKERS,
    clientId,
    ssl: environment.KAFKA_SSL,
    sasl: saslFrom(environment),
    topicPrefix: environment.KAFKA_TOPIC_PREFIX,
    replicationFactor: environment.KAFKA_REPLICATION_FACTOR,
    partitions,
    connectTimeoutMs: environment.KAFKA_CONNECT_TIMEOUT_MS,
    startupTimeoutMs: environment.KAFKA_STARTUP_TIMEOUT_MS,
    sessionTimeoutMs: environment.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: environment.KAFKA_HEARTBEAT_INTERVAL_MS,
    rebalanceTimeoutMs: environment.KAFKA_REBALANCE_TIMEOUT_MS,
  };
}

function saslFrom(environment: KafkaEnvironment): KafkaSaslSettings | undefined {
  const mechanism = environment.KAFKA_SASL_MECHANISM;
  if (mechanism === undefined) {
    return undefined;
  }
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = environment;
  if (username === undefined || password === undefined) {
    throw new KafkaSettingsError(
      'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required when KAFKA_SASL_MECHANISM is set',
    );
  }
  return { mechanism, username, password };
}

export function topicNameOf(settings: Pick<KafkaSettings, 'topicPrefix'>, key: TopicKey): string {
  return `${settings.topicPrefix}${KAFKA_TOPICS[key].name}`;
}

export function consumerGroupIdOf(settings: Pick<KafkaSettings, 'topicPrefix'>, group: string): string {
  return `${settings.topicPrefix}skyhook.${group}`;
}
