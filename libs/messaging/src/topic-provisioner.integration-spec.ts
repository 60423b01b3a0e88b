import { type Admin } from 'kafkajs';
import { testKafkaClient, testKafkaSettings } from './test/kafka-test-settings';
import { type KafkaSettings, topicNameOf } from './kafka-config';
import { provisionTopics } from './topic-provisioner';

describe('provisionTopics against a real broker', () => {
  let admin: Admin;
  let settings: KafkaSettings;

  beforeEach(async () => {
    settings = testKafkaSettings({
      KAFKA_PARTITIONS_INBOUND_EVENTS: '2',
      KAFKA_PARTITIONS_DELIVERY_EVENTS: '3',
    });
    admin = testKafkaClient(settings).admin();
    await admin.connect();
  });

  afterEach(async () => {
    await admin.disconnect();
  });

  async function partitionsOf(name: string): Promise<number> {
    const metadata = await admin.fetchTopicMetadata({ topics: [name] });
    return metadata.topics[0]?.partitions.length ?? 0;
  }

  it('creates missing topics with the configured partitions and topic configuration', async () => {
    const result = await provisionTopics(admin, settings, ['inboundEvents', 'deliveryEvents']);
    expect(result.map((topic) => topic.action)).toEqual(['created', 'created']);
    expect(await partitionsOf(topicNameOf(settings, 'inboundEvents'))).toBe(2);
    expect(await partitionsOf(topicNameOf(settings, 'deliveryEvents'))).toBe(3);

    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: topicNameOf(settings, 'inboundEvents'), configNames: ['retention.ms'] }],
    });
    expect(described.resources[0]?.configEntries[0]?.configValue).toBe(String(7 * 24 * 60 * 60 * 1000));
  });

  it('is idempotent and only ever grows partitions', async () => {
    await provisionTopics(admin, settings, ['inboundEvents']);
    const again = await provisionTopics(admin, settings, ['inboundEvents']);
    expect(again[0]?.action).toBe('unchanged');

    const grown = await provisionTopics(
      admin,
      { ...settings, partitions: { ...settings.partitions, inboundEvents: 4 } },
      ['inboundEvents'],
    );
    expect(grown[0]?.action).toBe('partitions-increased');
    expect(await partitionsOf(topicNameOf(settings, 'inboundEvents'))).toBe(4);

    const fewer = await provisionTopics(
      admin,
      { ...settings, partitions: { ...settings.partitions, inboundEvents: 1 } },
      ['inboundEvents'],
    );
    expect(fewer[0]).toMatchObject({ action: 'unchanged', partitions: 4 });
  });
});
