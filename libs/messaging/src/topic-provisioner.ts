import { type Admin } from 'kafkajs';
import { KAFKA_TOPICS, type TopicKey } from '@skyhook/contracts';
import { type KafkaSettings, topicNameOf } from './kafka-config';

export interface ProvisionedTopic {
  readonly key: TopicKey;
  readonly name: string;
  readonly partitions: number;
  readonly action: 'created' | 'partitions-increased' | 'unchanged';
}

/**
 * Makes sure every topic a service uses exists with at least the configured partitions.
 * Idempotent, safe to run from every instance at start-up; partitions are only ever
 * increased (Kafka cannot shrink a topic, and shrinking would reorder keys anyway).
 */
export async function provisionTopics(
  admin: Admin,
  settings: KafkaSettings,
  keys: readonly TopicKey[],
): Promise<ProvisionedTopic[]> {
  const wanted = [...new Set(keys)].map((key) => ({
    key,
    name: topicNameOf(settings, key),
    partitions: settings.partitions[key],
  }));
  const existing = new Set(await admin.listTopics());

  const missing = wanted.filter((topic) => !existing.has(topic.name));
  if (missing.length > 0) {
    // kafkajs' own leader wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker
    // answers for a moment after creating a topic; waitForTopicLeaders below tolerates it.
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: settings.replicationFactor,
        configEntries: Object.entries({
          'min.insync.replicas': String(minInSyncReplicasFor(settings.replicationFactor)),
          ...KAFKA_TOPICS[topic.key].config,
        }).map(([name, value]) => ({ name, value })),
      })),
    });
    await waitForTopicLeaders(
      admin,
      missing.map((topic) => topic.name),
    );
  }

  const present = wanted.filter((topic) => existing.has(topic.name));
  const metadata =
    present.length === 0
      ? { topics: [] }
      : await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
  const currentPartitions = new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
  const toGrow = present.filter((topic) => (currentPartitions.get(topic.name) ?? 0) < topic.partitions);
  if (toGrow.length > 0) {
    await admin.createPartitions({
      validateOnly: false,
      topicPartitions: toGrow.map((topic) => ({ topic: topic.name, count: topic.partitions })),
    });
  }

  return wanted.map((topic) => {
    if (!existing.has(topic.name)) return { ...topic, action: 'created' };
    if (toGrow.includes(topic)) return { ...topic, action: 'partitions-increased' };
    return {
      ...topic,
      partitions: currentPartitions.get(topic.name) ?? topic.partitions,
      action: 'unchanged',
    };
  });
}

/**
 * How many replicas must have a record before it is acknowledged (producers send with acks=all):
 * with three or more, two, so that one broker can be down (a rolling restart) while no
 * acknowledged record lives on a single disk; with fewer, one, or a single broker's restart would
 * stop every write. Set on each topic, so it does not depend on the cluster's default (Kafka's is 1).
 */
export function minInSyncReplicasFor(replicationFactor: number): number {
  return replicationFactor >= 3 ? 2 : 1;
}

const LEADER_WAIT_DEADLINE_MS = 30_000;

async function waitForTopicLeaders(admin: Admin, topics: string[]): Promise<void> {
  const giveUpAt = Date.now() + LEADER_WAIT_DEADLINE_MS;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const allLed = metadata.topics.every(
        (topic) =>
          topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0),
      );
      if (allLed && metadata.topics.length === topics.length) return;
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw error;
    }
    if (Date.now() > giveUpAt) {
      throw new Error(`topics ${topics.join(', ')} have no leaders after ${LEADER_WAIT_DEADLINE_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
