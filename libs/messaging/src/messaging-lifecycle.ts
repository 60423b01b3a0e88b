import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Admin, type Kafka } from 'kafkajs';
import { type TopicKey } from '@skyhook/contracts';
import { ReadinessRegistry, SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { ContractProducer } from './contract-producer';
import { type KafkaSettings } from './kafka-config';
import { retryKafkaAtStartup } from './kafka-startup-retry';
import { provisionTopics } from './topic-provisioner';
import { KAFKA_CLIENT, KAFKA_SETTINGS, PRODUCER_HEALTH } from './messaging.tokens';
import { type ProducerHealthBoard } from './producer-health';

export const PROVISIONED_TOPICS = Symbol('PROVISIONED_TOPICS');

/**
 * Provisions the service's topics and connects the producer before anything consumes, and
 * disconnects the producer only at the very end of shutdown, after the consumers have
 * finished the records in hand (Nest closes microservices before `onApplicationShutdown`).
 */
@Injectable()
export class MessagingLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly admin: Admin;
  private adminConnected: Promise<void> | undefined;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(KAFKA_SETTINGS) private readonly settings: KafkaSettings,
    @Inject(PROVISIONED_TOPICS) private readonly topics: readonly TopicKey[],
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
    private readonly producer: ContractProducer,
    private readonly readiness: ReadinessRegistry,
    @Inject(PRODUCER_HEALTH) private readonly producerHealth: ProducerHealthBoard,
  ) {
    this.admin = kafka.admin();
  }

  async onModuleInit(): Promise<void> {
    // Creating topics on a cluster that is still coming up meets transient refusals (no
    // controller yet, a topic another service just created not known to every broker):
    // provisioning is idempotent, so it is run again from the start.
    const provisioned = await retryKafkaAtStartup(
      'provisioning topics',
      async () => {
        await this.connectedAdmin();
        return provisionTopics(this.admin, this.settings, this.topics);
      },
      { timeoutMs: this.settings.startupTimeoutMs, logger: this.logger },
    );
    for (const topic of provisioned.filter((t) => t.action !== 'unchanged')) {
      this.logger.info({ topic: topic.name, partitions: topic.partitions }, `topic ${topic.action}`);
    }
    await this.producer.connect();
    this.readiness.register({
      name: 'kafka',
      check: async () => {
        await this.connectedAdmin();
        await this.admin.describeCluster();
      },
    });
    // A broker that answers is not enough: a producer replaced after a failed send is not
    // ready until its successor connects, and says which and why (ReplaceableProducer).
    this.readiness.register({ name: 'kafka-producers', check: () => this.producerHealth.assertReady() });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect();
    await this.admin.disconnect();
  }

  private connectedAdmin(): Promise<void> {
    this.adminConnected ??= this.admin.connect().catch((error: unknown) => {
      this.adminConnected = undefined;
      throw error;
    });
    return this.adminConnected;
  }
}
