import { type INestApplicationContext } from '@nestjs/common';
import { type Kafka } from 'kafkajs';
import {
  METRICS_REGISTRY,
  ReadinessRegistry,
  SERVICE_LOGGER,
  type ServiceLogger,
} from '@skyhook/observability';
import { type Registry } from 'prom-client';
import { ConsumerLagMonitor } from './consumer-lag-monitor';
import { ContractConsumer, type ContractConsumerOptions } from './contract-consumer';
import { type KafkaSettings } from './kafka-config';
import { KafkaConsumerServer } from './kafka-consumer.server';
import { type MessagingMetrics } from './messaging-metrics';
import { KAFKA_CLIENT, KAFKA_SETTINGS, MESSAGING_METRICS } from './messaging.tokens';

export type KafkaConsumerServerOptions = Omit<ContractConsumerOptions, 'handleRecord' | 'handleRecords'> & {
  /** Hand the `@EventPattern` handler arrays of consecutive records instead of one at a time. */
  readonly batched?: boolean;
};

/**
 * Builds the consumer transport from the application's own Kafka client, settings, logger
 * and metrics, and makes the service unready until its consumer has joined its group.
 */
export function createKafkaConsumerServer(
  app: INestApplicationContext,
  options: KafkaConsumerServerOptions,
): KafkaConsumerServer {
  const kafka = app.get<Kafka>(KAFKA_CLIENT);
  const settings = app.get<KafkaSettings>(KAFKA_SETTINGS);
  const logger = app.get<ServiceLogger>(SERVICE_LOGGER);
  const metrics = app.get<MessagingMetrics>(MESSAGING_METRICS);
  const readiness = app.get(ReadinessRegistry);
  const registry = app.get<Registry>(METRICS_REGISTRY);
  return new KafkaConsumerServer(({ handleRecord, handleRecords }) => {
    const consumer = new ContractConsumer(
      kafka,
      settings,
      { ...options, handleRecord, handleRecords: options.batched === true ? handleRecords : undefined },
      logger.child({ consumerGroup: options.group }),
      metrics,
    );
    readiness.register({
      name: `consumer:${options.group}`,
      check: () =>
        consumer.state === 'consuming'
          ? Promise.resolve()
          : Promise.reject(new Error(`consumer group ${consumer.groupId} is ${consumer.state}`)),
    });
    const lag = new ConsumerLagMonitor(
      kafka,
      settings,
      consumer.groupId,
      options.routes.map((route) => route.topicKey),
      registry,
      logger,
    );
    lag.start();
    consumer.onStopped(() => lag.stop());
    return consumer;
  });
}
