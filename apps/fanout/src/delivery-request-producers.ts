import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Kafka } from 'kafkajs';
import {
  ContractProducer,
  KAFKA_CLIENT,
  KAFKA_SETTINGS,
  type KafkaSettings,
  MESSAGING_METRICS,
  type MessagingMetrics,
} from '@skyhook/messaging';

/** One producer per concurrently consumed inbound partition (see main.ts). */
const PRODUCERS = 3;

/**
 * An idempotent kafkajs producer keeps one request in flight per broker connection, so one
 * producer serialises every partition's produce. Each inbound partition always uses the same
 * producer (partition modulo the pool): one organisation's events are on one partition, so a
 * subscription's requests still leave in order.
 */
@Injectable()
export class DeliveryRequestProducers implements OnModuleInit, OnApplicationShutdown {
  private readonly producers: ContractProducer[];

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(KAFKA_SETTINGS) settings: KafkaSettings,
    @Inject(MESSAGING_METRICS) metrics: MessagingMetrics,
  ) {
    this.producers = Array.from({ length: PRODUCERS }, () => new ContractProducer(kafka, settings, metrics));
  }

  forInboundPartition(partition: number): ContractProducer {
    return this.producers[partition % this.producers.length] as ContractProducer;
  }

  async onModuleInit(): Promise<void> {
    await Promise.all(this.producers.map((producer) => producer.connect()));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.producers.map((producer) => producer.disconnect()));
  }
}
