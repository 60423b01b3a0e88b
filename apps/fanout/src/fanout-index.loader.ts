import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type Kafka } from 'kafkajs';
import { organisationSnapshotContract, subscriptionEventContract } from '@skyhook/contracts';
import { OrganisationDirectory, SubscriptionIndex } from '@skyhook/fanout';
import { KAFKA_CLIENT, KAFKA_SETTINGS, type KafkaSettings, TopicFollower } from '@skyhook/messaging';
import { ReadinessRegistry, SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';

/**
 * Builds the subscription index and the organisation directory from their topics before the
 * inbound consumer starts (Nest runs this at bootstrap, and the consumer is only attached
 * afterwards): no event is ever matched against a half-built index. Then keeps both current.
 */
@Injectable()
export class FanoutIndexLoader implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly followers: { caughtUp: boolean; stop(): Promise<void> }[] = [];

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(KAFKA_SETTINGS) private readonly settings: KafkaSettings,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
    private readonly index: SubscriptionIndex,
    private readonly directory: OrganisationDirectory,
    private readonly readiness: ReadinessRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const organisations = new TopicFollower(
      this.kafka,
      this.settings,
      {
        name: 'fanout-organisations',
        topicKey: 'organisationSnapshots',
        contract: organisationSnapshotContract,
        apply: (snapshot) => this.directory.apply(snapshot),
      },
      this.logger,
    );
    const subscriptions = new TopicFollower(
      this.kafka,
      this.settings,
      {
        name: 'fanout-subscriptions',
        topicKey: 'subscriptionEvents',
        contract: subscriptionEventContract,
        apply: (event) => this.index.apply(event),
      },
      this.logger,
    );
    this.followers.push(organisations, subscriptions);
    this.readiness.register({
      name: 'subscription-index',
      check: () =>
        this.followers.every((follower) => follower.caughtUp)
          ? Promise.resolve()
          : Promise.reject(new Error('still reading the subscription log')),
    });
    await Promise.all([organisations.start(), subscriptions.start()]);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.followers.map((follower) => follower.stop()));
  }
}
