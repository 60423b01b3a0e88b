import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import {
  ALL_TOPIC_KEYS,
  deliveryIdOf,
  type DeliveryEvent,
  type DeliveryRequest,
  deliveryRequestContract,
  organisationSnapshotContract,
  type SubscriptionCommand,
  type SubscriptionEvent,
  subscriptionEventContract,
} from '@skyhook/contracts';
import {
  ContractProducer,
  kafkaEnvironmentSchema,
  kafkaSettingsFrom,
  type KafkaSettings,
  provisionTopics,
  topicNameOf,
} from '@skyhook/messaging';
import { generateSigningSecret, secretCipherFromEnvironment } from '@skyhook/secrets';
import {
  pollUntil,
  readTopic,
  type ServiceProcess,
  startService,
  TEST_CA_CERT_PATH,
  testKafkaEnvironment,
} from '@skyhook/testing';

export interface TestSubscription {
  readonly id: string;
  readonly organisationId: string;
  readonly secret: string;
}

/**
 * Drives a real dispatcher process through its topics: subscriptions and organisations are
 * written to the log as the api would write them (secrets really encrypted), delivery requests
 * as fan-out would, and what the dispatcher hands on is read back from Kafka.
 */
export class DispatcherHarness {
  private readonly versions = new Map<string, number>();
  private readonly cipher;
  private published = 0;

  private constructor(
    readonly environment: Record<string, string>,
    readonly settings: KafkaSettings,
    private readonly producer: ContractProducer,
    private readonly readers: Record<
      'deliveryEvents' | 'subscriptionCommands',
      Awaited<ReturnType<typeof readTopic>>
    >,
  ) {
    this.cipher = secretCipherFromEnvironment({
      SECRETS_MASTER_KEY: environment['SECRETS_MASTER_KEY'] ?? '',
    });
  }

  static async create(overrides: Record<string, string> = {}): Promise<DispatcherHarness> {
    const environment = {
      ...testKafkaEnvironment(),
      LOG_LEVEL: 'warn',
      SECRETS_MASTER_KEY: randomBytes(32).toString('base64'),
      SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
      // The receiver's certificate comes from the test CA: trusted the way an operator would add a CA.
      NODE_EXTRA_CA_CERTS: TEST_CA_CERT_PATH,
      DISPATCH_UNKNOWN_SUBSCRIPTION_WAIT_MS: '2000',
      ...overrides,
    };
    const settings = kafkaSettingsFrom(kafkaEnvironmentSchema.parse(environment), 'dispatcher-test');
    const kafka = new Kafka({
      clientId: 'dispatcher-test',
      brokers: [...settings.brokers],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await provisionTopics(admin, settings, ALL_TOPIC_KEYS);
    await admin.disconnect();
    const producer = new ContractProducer(kafka, settings);
    await producer.connect();
    const readers = {
      deliveryEvents: await readTopic(settings.brokers, topicNameOf(settings, 'deliveryEvents')),
      subscriptionCommands: await readTopic(settings.brokers, topicNameOf(settings, 'subscriptionCommands')),
    };
    return new DispatcherHarness(environment, settings, producer, readers);
  }

  startDispatcher(overrides: Record<string, string> = {}): Promise<ServiceProcess> {
    return startReady({ ...this.environment, ...overrides });
  }

  async organisation(organisationId: string, defaultPolicy: Record<string, unknown> = {}): Promise<void> {
    await this.producer.send(organisationSnapshotContract, 'organisationSnapshots', [
      {
        organisationId,
        eventTypes: ['booking.created'],
        profile: 'standard-webhooks',
        defaultPolicy,
        updatedAt: new Date().toISOString(),
      },
    ]);
  }

  async subscription(
    url: string,
    policy: Record<string, unknown> = {},
    options: { organisationId?: string; secret?: string; id?: string } = {},
  ): Promise<TestSubscription> {
    const id = options.id ?? `sub_${randomBytes(6).toString('hex')}`;
    const organisationId = options.organisationId ?? 'org_test';
    const secret = options.secret ?? generateSigningSecret();
    const secretId = 'sec_1';
    const now = new Date().toISOString();
    await this.append({
      type: 'SubscriptionCreated',
      subscriptionId: id,
      organisationId,
      version: 0,
      occurredAt: now,
      fields: { url, description: '', eventTypes: ['*'], scopeFilter: {}, policy },
      secrets: [
        {
          id: secretId,
          encrypted: this.cipher.encrypt(secret, `${id}:${secretId}`),
          hint: 'whsec_…',
          createdAt: now,
          retiresAt: null,
        },
      ],
      expiresAt: null,
    });
    return { id, organisationId, secret };
  }

  /**
   * Rotates in a new secret, active now, as the api writes it; the old one retires after
   * `graceMs` (0: at once). Resolves with the new secret.
   */
  async rotateSecret(subscription: TestSubscription, graceMs = 0): Promise<string> {
    const secret = generateSigningSecret();
    const now = new Date();
    const secretId = `sec_${randomBytes(4).toString('hex')}`;
    await this.append({
      type: 'SubscriptionSecretRotated',
      subscriptionId: subscription.id,
      organisationId: subscription.organisationId,
      version: 0,
      occurredAt: now.toISOString(),
      secrets: [
        {
          id: secretId,
          encrypted: this.cipher.encrypt(secret, `${subscription.id}:${secretId}`),
          hint: 'whsec_…',
          createdAt: now.toISOString(),
          retiresAt: null,
          activatesAt: now.toISOString(),
        },
        {
          id: 'sec_1',
          encrypted: this.cipher.encrypt(subscription.secret, `${subscription.id}:sec_1`),
          hint: 'whsec_…',
          createdAt: now.toISOString(),
          retiresAt: new Date(now.getTime() + graceMs).toISOString(),
        },
      ],
    });
    return secret;
  }

  /** Appends the next version of a subscription's events (the harness numbers them like the api). */
  async append(event: SubscriptionEvent): Promise<void> {
    const version = (this.versions.get(event.subscriptionId) ?? 0) + 1;
    this.versions.set(event.subscriptionId, version);
    await this.producer.send(subscriptionEventContract, 'subscriptionEvents', [{ ...event, version }]);
  }

  async lifecycle(
    subscription: TestSubscription,
    type: 'SubscriptionEnabled' | 'SubscriptionRevoked',
  ): Promise<void> {
    await this.append({
      type,
      subscriptionId: subscription.id,
      organisationId: subscription.organisationId,
      version: 0,
      occurredAt: new Date().toISOString(),
    });
  }

  async disable(subscription: TestSubscription): Promise<void> {
    await this.append({
      type: 'SubscriptionDisabled',
      subscriptionId: subscription.id,
      organisationId: subscription.organisationId,
      version: 0,
      occurredAt: new Date().toISOString(),
      reason: 'circuit-breaker',
      detail: 'test',
    });
  }

  /** Publishes delivery requests as fan-out would (`data` as each event's data); returns them. */
  async publish(
    subscription: TestSubscription,
    count = 1,
    extra: Partial<DeliveryRequest> = {},
    data?: Record<string, unknown>,
  ): Promise<DeliveryRequest[]> {
    const requests = Array.from({ length: count }, () => {
      this.published += 1;
      const eventId = `evt_${this.published}_${randomBytes(4).toString('hex')}`;
      return {
        deliveryId: deliveryIdOf(subscription.organisationId, eventId, subscription.id),
        subscriptionId: subscription.id,
        organisationId: subscription.organisationId,
        event: {
          id: eventId,
          type: 'booking.created',
          scope: {},
          occurredAt: new Date().toISOString(),
          data: data ?? { bookingId: `bk_${this.published}`, status: 'confirmed', seats: 2 },
        },
        publishedAt: new Date().toISOString(),
        held: false,
        test: false,
        ...extra,
      };
    });
    await this.producer.send(deliveryRequestContract, 'deliveryRequests', requests);
    return requests;
  }

  deliveryEvents(): DeliveryEvent[] {
    return this.readers.deliveryEvents.records.map((record) => JSON.parse(record.value) as DeliveryEvent);
  }

  /** Polls the delivery events until `predicate` holds for them. */
  async waitForDeliveryEvents(
    predicate: (events: DeliveryEvent[]) => boolean,
    description: string,
    timeoutMs = 20_000,
  ): Promise<DeliveryEvent[]> {
    return pollUntil(
      () => {
        const events = this.deliveryEvents();
        return Promise.resolve(predicate(events) ? events : undefined);
      },
      { timeoutMs, description, intervalMs: 250 },
    );
  }

  commands(): SubscriptionCommand[] {
    return this.readers.subscriptionCommands.records.map(
      (record) => JSON.parse(record.value) as SubscriptionCommand,
    );
  }

  async close(): Promise<void> {
    await Promise.all([
      this.producer.disconnect(),
      ...Object.values(this.readers).map((reader) => reader.stop()),
    ]);
  }
}

async function startReady(environment: Record<string, string>): Promise<ServiceProcess> {
  const service = await startService('dispatcher', environment);
  await pollUntil(async () => (await fetch(`${service.baseUrl}/health/ready`)).status === 200, {
    timeoutMs: 30_000,
    description: 'dispatcher ready',
  });
  return service;
}

export function attemptsOf(events: DeliveryEvent[], deliveryId: string) {
  return events
    .filter((event) => event.deliveryId === deliveryId && event.type === 'DeliveryAttempted')
    .map((event) => event as Extract<DeliveryEvent, { type: 'DeliveryAttempted' }>)
    .sort((a, b) => a.attemptNumber - b.attemptNumber);
}
