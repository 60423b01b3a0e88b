import pino from 'pino';
import { CONSUMER_GROUPS, type TopicKey } from '@skyhook/contracts';
import {
  assertKafkaReachable,
  consumerGroupIdOf,
  createKafkaClient,
  type KafkaSettings,
  KafkaUnreachableError,
  measureConsumerLag,
  topicNameOf,
} from '@skyhook/messaging';
import { CliError } from './cli-error';

export interface GroupTopicLag {
  readonly group: string;
  readonly service: string;
  readonly topic: string;
  /** Sums over partitions; a partition the group never committed counts from the log start. */
  readonly committed: string;
  readonly end: string;
  readonly lag: string;
  /** `no-commits`: the group has not committed on this topic yet; `topic-missing`: no service created it yet. */
  readonly state: 'ok' | 'no-commits' | 'topic-missing';
}

interface WatchedGroup {
  readonly name: string;
  readonly service: string;
  readonly topics: readonly TopicKey[];
}

export function watchedGroups(subscriptionReadModelGroup: string): WatchedGroup[] {
  return Object.values(CONSUMER_GROUPS).map((group) =>
    group === CONSUMER_GROUPS.subscriptionReadModel ? { ...group, name: subscriptionReadModelGroup } : group,
  );
}

/** Committed vs end offsets of every Skyhook consumer group, straight from the brokers. */
export async function readConsumerLag(
  settings: KafkaSettings,
  groups: readonly WatchedGroup[],
): Promise<GroupTopicLag[]> {
  try {
    await assertKafkaReachable({
      ...settings,
      startupTimeoutMs: Math.min(settings.startupTimeoutMs, 10_000),
    });
  } catch (error) {
    if (error instanceof KafkaUnreachableError) throw new CliError(error.message);
    throw error;
  }
  // Silent: kafkajs' own lines would mix with the report; failures surface as rejected calls.
  const admin = createKafkaClient(settings, pino({ level: 'silent' })).admin({ retry: { retries: 2 } });
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const report: GroupTopicLag[] = [];
    for (const group of groups) {
      const groupId = consumerGroupIdOf(settings, group.name);
      const present = group.topics.filter((key) => existing.has(topicNameOf(settings, key)));
      const measured = new Map(
        (await measureConsumerLag(admin, settings, groupId, present)).map((lag) => [lag.topicKey, lag]),
      );
      for (const topicKey of group.topics) {
        const lag = measured.get(topicKey);
        report.push({
          group: groupId,
          service: group.service,
          topic: topicNameOf(settings, topicKey),
          committed: String(lag?.committed ?? 0n),
          end: String(lag?.end ?? 0n),
          lag: String(lag?.lag ?? 0n),
          state: lag === undefined ? 'topic-missing' : lag.hasCommitted ? 'ok' : 'no-commits',
        });
      }
    }
    return report;
  } finally {
    await admin.disconnect();
  }
}
