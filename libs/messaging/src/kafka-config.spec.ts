import { loadEnvironmentConfig, StartupError } from '@skyhook/service-runtime';
import { KAFKA_TOPICS } from '@skyhook/contracts';
import {
  consumerGroupIdOf,
  kafkaEnvironmentSchema,
  kafkaSettingsFrom,
  KafkaSettingsError,
  partitionVariableFor,
  topicNameOf,
} from './kafka-config';

function settingsFor(environment: NodeJS.ProcessEnv) {
  return kafkaSettingsFrom(loadEnvironmentConfig(kafkaEnvironmentSchema, environment), 'test-client');
}

describe('Kafka settings from the environment', () => {
  it('derives one partition variable per topic key', () => {
    expect(partitionVariableFor('deliveryRequests')).toBe('KAFKA_PARTITIONS_DELIVERY_REQUESTS');
    expect(partitionVariableFor('inboundEventsDeadLetter')).toBe(
      'KAFKA_PARTITIONS_INBOUND_EVENTS_DEAD_LETTER',
    );
  });

  it('uses each topic default unless the environment overrides it', () => {
    const settings = settingsFor({ KAFKA_BROKERS: 'a:9092', KAFKA_PARTITIONS_DELIVERY_REQUESTS: '48' });
    expect(settings.partitions.deliveryRequests).toBe(48);
    expect(settings.partitions.inboundEvents).toBe(KAFKA_TOPICS.inboundEvents.defaultPartitions);
  });

  it('splits and trims the broker list', () => {
    expect(settingsFor({ KAFKA_BROKERS: 'a:9092, b:9093' }).brokers).toEqual(['a:9092', 'b:9093']);
  });

  it.each(['a', 'a:port', 'a:9092,,b', 'http://a:9092'])('rejects the broker list %j', (brokers) => {
    expect(() => settingsFor({ KAFKA_BROKERS: brokers })).toThrow(StartupError);
  });

  it('rejects a partition count of zero', () => {
    expect(() => settingsFor({ KAFKA_BROKERS: 'a:1', KAFKA_PARTITIONS_INBOUND_EVENTS: '0' })).toThrow(
      /KAFKA_PARTITIONS_INBOUND_EVENTS/,
    );
  });

  it('gives each Kafka step of start-up 60 s by default, and refuses a budget under half a second or over ten minutes', () => {
    expect(settingsFor({ KAFKA_BROKERS: 'a:1' }).startupTimeoutMs).toBe(60_000);
    expect(settingsFor({ KAFKA_BROKERS: 'a:1', KAFKA_STARTUP_TIMEOUT_MS: '2000' }).startupTimeoutMs).toBe(
      2_000,
    );
    for (const refused of ['100', '600001', 'soon']) {
      expect(() => settingsFor({ KAFKA_BROKERS: 'a:1', KAFKA_STARTUP_TIMEOUT_MS: refused })).toThrow(
        /^invalid configuration: KAFKA_STARTUP_TIMEOUT_MS: /,
      );
    }
  });

  it('requires credentials when a SASL mechanism is chosen', () => {
    expect(() => settingsFor({ KAFKA_BROKERS: 'a:1', KAFKA_SASL_MECHANISM: 'plain' })).toThrow(
      KafkaSettingsError,
    );
  });

  it('prefixes topics and consumer groups alike, isolating environments', () => {
    const settings = settingsFor({ KAFKA_BROKERS: 'a:1', KAFKA_TOPIC_PREFIX: 'staging.' });
    expect(topicNameOf(settings, 'inboundEvents')).toBe('staging.skyhook.events.in.v1');
    expect(consumerGroupIdOf(settings, 'fanout')).toBe('staging.skyhook.fanout');
  });
});
