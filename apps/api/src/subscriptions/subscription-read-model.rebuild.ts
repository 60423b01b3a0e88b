import { randomBytes } from 'node:crypto';
import { type Kafka } from 'kafkajs';
import { type DataSource } from 'typeorm';
import { type SubscriptionEvent, subscriptionEventContract } from '@skyhook/contracts';
import { type KafkaSettings, topicNameOf } from '@skyhook/messaging';
import { decodeMessage } from '@skyhook/contracts';
import { evolveSubscription, type SubscriptionState } from '@skyhook/subscriptions';
import { SubscriptionReadModelRepository } from './subscription-read-model.repository';

export interface RebuildSummary {
  readonly eventsRead: number;
  readonly pendingEventsApplied: number;
  readonly subscriptions: number;
}

/**
 * Rebuilds the subscription read model from the subscription topic alone. Commands are held
 * off (table locks) while it runs; events accepted but not yet relayed (the outbox) are folded
 * in after the log, so no version can be handed out twice afterwards.
 */
export async function rebuildSubscriptionReadModel(
  dataSource: DataSource,
  kafka: Kafka,
  settings: KafkaSettings,
): Promise<RebuildSummary> {
  return dataSource.transaction(async (manager) => {
    await manager.query('LOCK TABLE subscriptions, subscription_outbox IN EXCLUSIVE MODE');
    const states = new Map<string, SubscriptionState>();
    const apply = (event: SubscriptionEvent): void => {
      const current = states.get(event.subscriptionId);
      if (current !== undefined && current.version >= event.version) return;
      states.set(event.subscriptionId, evolveSubscription(current, event));
    };

    const logEvents = await readWholeTopic(kafka, settings);
    logEvents.forEach(apply);
    const pending = await manager.query<{ payload: SubscriptionEvent }[]>(
      'SELECT payload FROM subscription_outbox ORDER BY id',
    );
    pending.forEach((row) => apply(row.payload));

    await manager.query('DELETE FROM subscriptions');
    const readModel = new SubscriptionReadModelRepository(dataSource);
    for (const state of states.values()) {
      await readModel.saveIfNewer(manager, state);
    }
    return { eventsRead: logEvents.length, pendingEventsApplied: pending.length, subscriptions: states.size };
  });
}

/** Every record from the start of each partition up to its end at the time of the call. */
async function readWholeTopic(kafka: Kafka, settings: KafkaSettings): Promise<SubscriptionEvent[]> {
  const topic = topicNameOf(settings, 'subscriptionEvents');
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${settings.topicPrefix}skyhook.subscriptions-rebuild-${randomBytes(6).toString('hex')}`;
  try {
    const ends = new Map(
      (await admin.fetchTopicOffsets(topic)).map((partition) => [
        partition.partition,
        BigInt(partition.high),
      ]),
    );
    const remaining = new Set([...ends].filter(([, high]) => high > 0n).map(([partition]) => partition));
    const byPartition = new Map<number, SubscriptionEvent[]>();
    if (remaining.size > 0) {
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          consumer
            .run({
              eachMessage: ({ partition, message }) => {
                const end = ends.get(partition) ?? 0n;
                if (BigInt(message.offset) < end) {
                  const event = decodeMessage(subscriptionEventContract, message.value, undefined);
                  byPartition.set(partition, [...(byPartition.get(partition) ?? []), event]);
                }
                if (BigInt(message.offset) >= end - 1n) {
                  remaining.delete(partition);
                  if (remaining.size === 0) resolve();
                }
                return Promise.resolve();
              },
            })
            .catch(reject);
        });
      } finally {
        await consumer.disconnect();
      }
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return [...byPartition.values()].flat();
  } finally {
    await admin.disconnect();
  }
}
