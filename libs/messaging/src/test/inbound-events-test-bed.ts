import { type Admin, type Kafka } from 'kafkajs';
import { type InboundEvent } from '@skyhook/contracts';
import { ContractProducer } from '../contract-producer';
import { type KafkaSettings } from '../kafka-config';
import { provisionTopics } from '../topic-provisioner';
import { testKafkaClient, testKafkaSettings } from './kafka-test-settings';

/** A consumer test's inbound-events topic of its own, with a client, an admin and a producer for it. */
export interface InboundEventsTestBed {
  readonly settings: KafkaSettings;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly producer: ContractProducer;
  close(): Promise<void>;
}

export async function startInboundEventsTestBed(partitions: number): Promise<InboundEventsTestBed> {
  const settings = testKafkaSettings({ KAFKA_PARTITIONS_INBOUND_EVENTS: String(partitions) });
  const kafka = testKafkaClient(settings);
  const admin = kafka.admin();
  await admin.connect();
  await provisionTopics(admin, settings, ['inboundEvents']);
  const producer = new ContractProducer(kafka, settings);
  await producer.connect();
  return {
    settings,
    kafka,
    admin,
    producer,
    close: async () => {
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

/** Event `n` of a test's stream: its id and time follow `n`. */
export function numberedEvent(n: number, organisationId = `org-${n % 3}`): InboundEvent {
  return {
    id: `evt-${n}`,
    type: 'booking.created',
    organisationId,
    scope: {},
    occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    data: { n },
  };
}

/** A new group's first join on a busy broker can take tens of seconds; later steps are quick. */
export const JOIN_TIMEOUT_MS = 45_000;

/** The offsets from `from` to `to`, both included, as kafkajs gives them (strings). */
export function offsetRange(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
}
