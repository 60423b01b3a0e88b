import { type Admin, Kafka, logLevel } from 'kafkajs';
import { inboundEventContract, type InboundEvent } from '@skyhook/contracts';
import {
  type KafkaFaultProxy,
  OUT_OF_ORDER_SEQUENCE_NUMBER,
  pollUntil,
  readTopic,
  startKafkaFaultProxy,
} from '@skyhook/testing';
import { testKafkaSettings } from './test/kafka-test-settings';
import { ContractProducer } from './contract-producer';
import { type KafkaSettings, topicNameOf } from './kafka-config';
import { ProducerHealthBoard } from './producer-health';
import { KafkaRecordsRejectedError, KafkaSendFailedError } from './replaceable-producer';
import { provisionTopics } from './topic-provisioner';

function event(id: string, data: Record<string, unknown> = {}): InboundEvent {
  return {
    id,
    type: 'booking.created',
    organisationId: 'org-1',
    scope: {},
    occurredAt: '2026-12-01T00:00:00.000Z',
    data,
  };
}

/** Sends until the send is acknowledged, as a consumer retrying its record does. */
async function sendUntilAcknowledged(producer: ContractProducer, value: InboundEvent): Promise<number> {
  for (let failures = 0; ; failures += 1) {
    try {
      await producer.send(inboundEventContract, 'inboundEvents', [value]);
      return failures;
    } catch (error) {
      if (!(error instanceof KafkaSendFailedError) || failures >= 20) throw error;
    }
  }
}

describe('producing through a broker connection that fails the way a dying broker does', () => {
  let settings: KafkaSettings;
  let admin: Admin;
  let proxy: KafkaFaultProxy;
  let health: ProducerHealthBoard;
  let producer: ContractProducer;

  beforeEach(async () => {
    // One partition: every record shares its sequence numbers, the worst case for kafkajs' bug.
    settings = testKafkaSettings({ KAFKA_PARTITIONS_INBOUND_EVENTS: '1' });
    const [host, port] = (settings.brokers[0] ?? '').split(':');
    admin = new Kafka({
      clientId: 'admin',
      brokers: [...settings.brokers],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await provisionTopics(admin, settings, ['inboundEvents']);
    proxy = await startKafkaFaultProxy({ host: host ?? '127.0.0.1', port: Number(port) });
    const kafka = new Kafka({
      clientId: 'proxied',
      brokers: [...settings.brokers],
      socketFactory: proxy.socketFactory,
      // A swallowed acknowledgement is given up on quickly, as a broker that died would be.
      requestTimeout: 1_500,
      logLevel: logLevel.NOTHING,
    });
    health = new ProducerHealthBoard();
    producer = new ContractProducer(kafka, settings, { name: 'proxied', health });
    await producer.connect();
    // Connections and metadata exist before the fault, as in a running service.
    await producer.send(inboundEventContract, 'inboundEvents', [event('warm-up')]);
  });

  afterEach(async () => {
    await producer.disconnect();
    await proxy.close();
    await admin.disconnect();
  });

  async function storedIds(expected: readonly string[]): Promise<string[]> {
    const reader = await readTopic(settings.brokers, topicNameOf(settings, 'inboundEvents'));
    try {
      await pollUntil(
        () => expected.every((id) => reader.records.some((record) => record.value.includes(`"${id}"`))),
        { timeoutMs: 20_000, description: `records ${expected.join(', ')} in the topic` },
      ).catch(() => undefined);
      return reader.records.map((record) => (JSON.parse(record.value) as InboundEvent).id);
    } finally {
      await reader.stop();
    }
  }

  it('stores both records when the broker stored a request whose answer never came and another send waited behind it', async () => {
    // kafkajs' idempotent producer lost `second` here: it rolled the sequence back after the
    // first request timed out, sent `second` under the first's numbers, and the broker answered
    // "duplicate" for a record it had never seen.
    const swallowed = proxy.swallowNextProduceResponse();
    const sends = [
      sendUntilAcknowledged(producer, event('first')),
      sendUntilAcknowledged(producer, event('second')),
    ];
    await swallowed;
    await Promise.all(sends);

    const ids = await storedIds(['first', 'second']);
    expect(ids).toEqual(expect.arrayContaining(['warm-up', 'first', 'second']));
    // The unanswered request was stored and sent again: a duplicate, which consumers absorb.
    expect(ids.filter((id) => id === 'first').length).toBeGreaterThanOrEqual(1);
  });

  it('replaces a producer whose broker answers out of sequence on every send, and says so until it is replaced', async () => {
    proxy.poisonOpenConnections(OUT_OF_ORDER_SEQUENCE_NUMBER);

    const failed = producer.send(inboundEventContract, 'inboundEvents', [event('poisoned')]);
    await expect(failed).rejects.toBeInstanceOf(KafkaSendFailedError);
    const [failing, ...others] = health.failing();
    expect(others).toEqual([]);
    expect(failing?.producer).toBe('proxied');
    expect(failing?.reason).toMatch(/sequence/i);

    // The successor has connections of its own: the next send is acknowledged, and readiness follows.
    await sendUntilAcknowledged(producer, event('after'));
    await pollUntil(() => health.failing().length === 0, {
      timeoutMs: 10_000,
      description: 'the producer ready again',
    });
    await expect(health.assertReady()).resolves.toBeUndefined();
    expect(await storedIds(['after'])).toContain('after');
  });

  it('refuses a record too large for the topic without replacing the producer', async () => {
    const tooLarge = event('too-large', { blob: 'x'.repeat(2 * 1024 * 1024) });

    const refused = producer.send(inboundEventContract, 'inboundEvents', [tooLarge]);
    await expect(refused).rejects.toBeInstanceOf(KafkaRecordsRejectedError);
    await expect(refused).rejects.toMatchObject({ brokerError: 'MESSAGE_TOO_LARGE' });
    expect(health.failing()).toEqual([]);
    await expect(
      producer.send(inboundEventContract, 'inboundEvents', [event('next')]),
    ).resolves.toBeUndefined();
  });
});
