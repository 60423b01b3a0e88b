import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import {
  ALL_TOPIC_KEYS,
  type DeliveryOrdering,
  organisationSnapshotContract,
  type SubscriptionEvent,
  type SubscriptionFields,
  subscriptionEventContract,
} from '@skyhook/contracts';
import { type DeliveryProfileName } from '@skyhook/delivery-policy';
import { findFreeLoopbackPort, launchServiceProcess } from '@skyhook/local-infrastructure';
import {
  ContractProducer,
  kafkaEnvironmentSchema,
  kafkaSettingsFrom,
  type KafkaSettings,
  provisionTopics,
} from '@skyhook/messaging';
import { secretCipherFromEnvironment } from '@skyhook/secrets';
import { benchServiceNodeOptions } from './process-cpu';

/** A bench's own Kafka topics (a fresh prefix) and a producer on them. */
export interface BenchKafka {
  /** What every service of the bench is started with: brokers, prefix, partitions, log level. */
  readonly environment: Record<string, string>;
  readonly settings: KafkaSettings;
  readonly kafka: Kafka;
  readonly producer: ContractProducer;
}

/** Creates every topic under a fresh prefix and connects a producer; `extra` adds settings (partitions). */
export async function benchKafka(brokers: string, extra: Record<string, string> = {}): Promise<BenchKafka> {
  const environment = {
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC_PREFIX: `bench-${randomBytes(4).toString('hex')}.`,
    LOG_LEVEL: 'warn',
    ...extra,
  };
  const settings = kafkaSettingsFrom(kafkaEnvironmentSchema.parse(environment), 'bench');
  const kafka = new Kafka({ clientId: 'bench', brokers: [...settings.brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await provisionTopics(admin, settings, ALL_TOPIC_KEYS);
  await admin.disconnect();
  const producer = new ContractProducer(kafka, settings);
  await producer.connect();
  return { environment, settings, kafka, producer };
}

/** A service from dist/ on a free loopback port, once its readiness says so (60 s at most). */
export async function launchBenchService(
  name: 'fanout' | 'dispatcher',
  environment: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  const port = await findFreeLoopbackPort();
  const child = launchServiceProcess(
    name,
    { ...environment, PORT: String(port) },
    { nodeOptions: benchServiceNodeOptions(), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const giveUpAt = Date.now() + 60_000;
  while (
    !(await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    if (Date.now() > giveUpAt) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready within 60 s`);
    }
    await sleep(200);
  }
  return { child, port };
}

/** A subscription a bench creates straight in the subscription log. */
export interface BenchSubscriptionSeed {
  readonly id: string;
  readonly organisationId: string;
  readonly url: string;
  /** The signing secret, kept encrypted with the bench's master key as the api would. */
  readonly secret: string;
  readonly scopeFilter?: SubscriptionFields['scopeFilter'];
  readonly ordering?: DeliveryOrdering;
}

/**
 * Writes the organisations' snapshots (one event type, one profile) and their subscriptions
 * (every type of the organisation, one secret each) to the bench's topics, as the api would.
 */
export async function seedBenchSubscriptions(
  producer: ContractProducer,
  masterKey: string,
  seed: {
    readonly organisationIds: readonly string[];
    readonly eventType: string;
    readonly profile: DeliveryProfileName;
    readonly subscriptions: readonly BenchSubscriptionSeed[];
  },
): Promise<void> {
  const now = new Date().toISOString();
  await producer.send(
    organisationSnapshotContract,
    'organisationSnapshots',
    seed.organisationIds.map((organisationId) => ({
      organisationId,
      eventTypes: [seed.eventType],
      profile: seed.profile,
      defaultPolicy: {},
      updatedAt: now,
    })),
  );
  const cipher = secretCipherFromEnvironment({ SECRETS_MASTER_KEY: masterKey });
  const created: SubscriptionEvent[] = seed.subscriptions.map((subscription) => ({
    type: 'SubscriptionCreated',
    subscriptionId: subscription.id,
    organisationId: subscription.organisationId,
    version: 1,
    occurredAt: now,
    fields: {
      url: subscription.url,
      description: '',
      eventTypes: ['*'],
      scopeFilter: subscription.scopeFilter ?? {},
      policy: {},
      ...(subscription.ordering === undefined ? {} : { ordering: subscription.ordering }),
    },
    secrets: [
      {
        id: 'sec_1',
        encrypted: cipher.encrypt(subscription.secret, `${subscription.id}:sec_1`),
        hint: 'whsec_…',
        createdAt: now,
        retiresAt: null,
      },
    ],
    expiresAt: null,
  }));
  await producer.send(subscriptionEventContract, 'subscriptionEvents', created);
}
