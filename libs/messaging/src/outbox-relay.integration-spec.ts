import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { type InboundEvent, inboundEventContract } from '@skyhook/contracts';
import { createServiceLogger } from '@skyhook/observability';
import { createTestDatabase, pollUntil, readTopic, type TestDatabase, uniqueSuffix } from '@skyhook/testing';
import { testKafkaClient, testKafkaSettings } from './test/kafka-test-settings';
import { ContractProducer } from './contract-producer';
import { type KafkaSettings, topicNameOf } from './kafka-config';
import { OutboxRelay } from './outbox-relay';
import { provisionTopics } from './topic-provisioner';

const LOCK_KEY = 7_290_001;

class TestOutbox extends OutboxRelay<InboundEvent> {
  constructor(dataSource: DataSource, producer: ContractProducer) {
    super(
      { table: 'test_outbox', contract: inboundEventContract, topicKey: 'inboundEvents', lockKey: LOCK_KEY },
      dataSource,
      producer,
      createServiceLogger({ service: 'outbox-test', level: 'silent' }),
    );
  }

  enqueue(event: InboundEvent): Promise<void> {
    return this.dataSource.transaction((manager) => this.insert(manager, {}, event));
  }
}

function event(id: string): InboundEvent {
  return {
    id,
    type: 'booking.created',
    organisationId: 'org-outbox',
    scope: {},
    occurredAt: '2026-12-05T00:00:00.000Z',
    data: { id },
  };
}

describe('the outbox relay of two instances sharing one outbox (real PostgreSQL and Kafka)', () => {
  let database: TestDatabase;
  let settings: KafkaSettings;
  let dataSource: DataSource;
  let producer: ContractProducer;
  let inbound: Awaited<ReturnType<typeof readTopic>>;

  beforeAll(async () => {
    database = await createTestDatabase('outbox_relay');
    settings = testKafkaSettings({ KAFKA_TOPIC_PREFIX: `outbox-${uniqueSuffix()}.` });
    const admin = testKafkaClient(settings).admin();
    await admin.connect();
    await provisionTopics(admin, settings, ['inboundEvents']);
    await admin.disconnect();
    dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    await dataSource.query('CREATE TABLE test_outbox (id bigserial PRIMARY KEY, payload jsonb NOT NULL)');
    producer = new ContractProducer(testKafkaClient(settings), settings);
    await producer.connect();
    inbound = await readTopic(settings.brokers, topicNameOf(settings, 'inboundEvents'));
  }, 60_000);

  afterAll(async () => {
    await inbound.stop();
    await producer.disconnect();
    await dataSource.destroy();
    await database.drop();
  });

  it("publishes its rows in the same pass when another instance holds the outbox's lock for a while, instead of leaving them to the next poll", async () => {
    const first = new TestOutbox(dataSource, producer);
    const second = new TestOutbox(dataSource, producer);
    // Another instance in the middle of its pass: it holds the lock for 300 ms.
    const other = new Client({ connectionString: database.url });
    await other.connect();
    await other.query('BEGIN');
    await other.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    const released = new Promise<void>((resolve) =>
      setTimeout(() => {
        void other
          .query('COMMIT')
          .then(() => other.end())
          .then(resolve);
      }, 300),
    );

    await first.enqueue(event('outbox-a'));
    await second.enqueue(event('outbox-b'));
    // Each writer nudges its relay after its commit; neither relay polls (they were never started).
    await Promise.all([first.nudge(), second.nudge()]);
    await released;

    const [left] = await dataSource.query<{ count: string }[]>('SELECT count(*) AS count FROM test_outbox');
    expect(left?.count).toBe('0');
    await pollUntil(
      () =>
        ['outbox-a', 'outbox-b'].every((id) =>
          inbound.records.some((record) => (JSON.parse(record.value) as InboundEvent).id === id),
        ),
      { description: 'both rows on the topic' },
    );
  });
});
