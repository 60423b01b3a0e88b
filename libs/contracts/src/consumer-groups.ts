import { RETRY_TIERS } from './delivery-retry.contract';
import { type TopicKey } from './topics';

export interface ConsumerGroupDefinition {
  /** Before the environment's prefix; see `consumerGroupIdOf` in the messaging library. */
  readonly name: string;
  readonly topics: readonly TopicKey[];
  readonly service: string;
}

/**
 * Every consumer group Skyhook's services join, with the topics each reads: the services name
 * their groups from here, and operators' tooling (lag) knows them without reading the apps.
 * Keep the names stable: a new group name reads its topics again from the start.
 */
export const CONSUMER_GROUPS = {
  fanout: { name: 'fanout', topics: ['inboundEvents'], service: 'fanout' },
  dispatcher: { name: 'dispatcher', topics: ['deliveryRequests'], service: 'dispatcher' },
  dispatcherRetries: {
    name: 'dispatcher-retries',
    topics: RETRY_TIERS.map(({ topicKey }) => topicKey),
    service: 'dispatcher',
  },
  /** Deliveries their endpoint was too slow to take: apart, so they hold up only each other. */
  dispatcherParked: { name: 'dispatcher-parked', topics: ['deliveryParked'], service: 'dispatcher' },
  /** Deliveries of ordered subscriptions: each key's one after another (ADR 0031). */
  dispatcherOrdered: { name: 'dispatcher-ordered', topics: ['deliveryOrdered'], service: 'dispatcher' },
  history: { name: 'history', topics: ['deliveryEvents'], service: 'history' },
  /** The default; the api's SUBSCRIPTION_READ_MODEL_GROUP renames it to rebuild the read model. */
  subscriptionReadModel: {
    name: 'subscriptions-read-model',
    topics: ['subscriptionEvents'],
    service: 'api',
  },
  /** Never the read model's group: renaming that one must not re-run old commands. */
  subscriptionCommands: {
    name: 'api-subscription-commands',
    topics: ['subscriptionCommands'],
    service: 'api',
  },
} as const satisfies Record<string, ConsumerGroupDefinition>;

export type ConsumerGroupKey = keyof typeof CONSUMER_GROUPS;
