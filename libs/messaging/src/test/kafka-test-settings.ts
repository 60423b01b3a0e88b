import { Kafka, logLevel } from 'kafkajs';
import { testKafkaEnvironment } from '@skyhook/testing';
import { kafkaEnvironmentSchema, kafkaSettingsFrom, type KafkaSettings } from '../kafka-config';

/** Settings for one messaging test, parsed exactly as a service parses its environment. */
export function testKafkaSettings(overrides: Record<string, string> = {}): KafkaSettings {
  return kafkaSettingsFrom(kafkaEnvironmentSchema.parse(testKafkaEnvironment(overrides)), 'skyhook-test');
}

export function testKafkaClient(settings: KafkaSettings): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    logLevel: logLevel.NOTHING,
  });
}
