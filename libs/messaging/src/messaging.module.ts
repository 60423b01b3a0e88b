import { type DynamicModule, Global, Module } from '@nestjs/common';
import { type Kafka } from 'kafkajs';
import { type Registry } from 'prom-client';
import { type TopicKey } from '@skyhook/contracts';
import { METRICS_REGISTRY, SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { ContractProducer } from './contract-producer';
import { createKafkaClient } from './kafka-client';
import { type KafkaSettings } from './kafka-config';
import { createMessagingMetrics, type MessagingMetrics } from './messaging-metrics';
import { MessagingLifecycle, PROVISIONED_TOPICS } from './messaging-lifecycle';
import { KAFKA_CLIENT, KAFKA_SETTINGS, MESSAGING_METRICS, PRODUCER_HEALTH } from './messaging.tokens';
import { ProducerHealthBoard } from './producer-health';

export interface MessagingModuleOptions {
  readonly settings: KafkaSettings;
  /** Every topic the service produces to or consumes from; created at start-up if missing. */
  readonly topics: readonly TopicKey[];
}

@Global()
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: KAFKA_SETTINGS, useValue: options.settings },
        { provide: PROVISIONED_TOPICS, useValue: options.topics },
        {
          provide: KAFKA_CLIENT,
          useFactory: (logger: ServiceLogger) => createKafkaClient(options.settings, logger),
          inject: [SERVICE_LOGGER],
        },
        {
          provide: MESSAGING_METRICS,
          useFactory: (registry: Registry) => createMessagingMetrics(registry),
          inject: [METRICS_REGISTRY],
        },
        {
          provide: PRODUCER_HEALTH,
          useFactory: (registry: Registry) => new ProducerHealthBoard(registry),
          inject: [METRICS_REGISTRY],
        },
        {
          provide: ContractProducer,
          useFactory: (
            kafka: Kafka,
            metrics: MessagingMetrics,
            health: ProducerHealthBoard,
            logger: ServiceLogger,
          ) => new ContractProducer(kafka, options.settings, { name: 'contract', metrics, health, logger }),
          inject: [KAFKA_CLIENT, MESSAGING_METRICS, PRODUCER_HEALTH, SERVICE_LOGGER],
        },
        MessagingLifecycle,
      ],
      exports: [KAFKA_SETTINGS, KAFKA_CLIENT, MESSAGING_METRICS, PRODUCER_HEALTH, ContractProducer],
    };
  }
}
