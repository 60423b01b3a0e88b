/**
 * Every Kafka topic Skyhook uses, in one place. Apps never spell a topic name: they import
 * this map, so a rename or a new version is one change here.
 *
 * `defaultPartitions` is the fallback when the environment does not set
 * `KAFKA_PARTITIONS_<KEY>`; partitions bound how far each consumer group can scale out.
 */
export interface TopicDefinition {
  /** Name on the broker, versioned so an incompatible change is a new topic. */
  readonly name: string;
  readonly defaultPartitions: number;
  /** Broker-side topic configuration applied when the topic is created. */
  readonly config: Readonly<Record<string, string>>;
  readonly description: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const KIB = 1_024;
const MIB = 1_024 * KIB;

/**
 * The largest record batch (`max.message.bytes`) each topic accepts, set per topic so that the
 * limits form a ladder: every record Skyhook derives from an event carries the whole event, and
 * so is larger than the event. Each step up leaves room for what the next record adds, so an
 * event that fits the inbound topic also fits as a delivery request, a retry, an attempt event
 * and a dead letter. The api keeps `data` under `EVENT_MAX_DATA_BYTES` (at most 900 KiB), so an
 * event it accepts, envelope included, always fits the inbound topic.
 */
export const RECORD_SIZE_LIMITS = {
  /** The broker's own default (`message.max.bytes`), which a topic without an override gets. */
  brokerDefault: 1_048_588,
  /** An event: its data, plus at most a few KiB of id, type, scope and time. */
  inboundEvent: MIB,
  /** The event plus the delivery's ids, times and flags (under 1 KiB). */
  deliveryRequest: MIB + 64 * KIB,
  /** A delivery request plus the attempt number and due time (or, parked, why and when). */
  deliveryRetry: MIB + 128 * KIB,
  /** A first attempt event carries its request, plus headers, a 4 KiB response excerpt and a URL. */
  deliveryEvent: MIB + 256 * KIB,
  /** Any record of any topic above, plus the dead-letter headers (reason at most 2,000 characters). */
  deadLetter: 2 * MIB,
} as const;

export const KAFKA_TOPICS = {
  inboundEvents: {
    name: 'skyhook.events.in.v1',
    defaultPartitions: 12,
    config: {
      'cleanup.policy': 'delete',
      'retention.ms': String(7 * DAY_MS),
      'max.message.bytes': String(RECORD_SIZE_LIMITS.inboundEvent),
    },
    description: 'Domain events published by internal services or POST /v1/events, keyed by organisation.',
  },
  inboundEventsDeadLetter: {
    name: 'skyhook.events.in.dead-letter.v1',
    defaultPartitions: 3,
    config: deadLetterConfig(),
    description: 'Inbound records that failed validation, with the reason, for inspection and re-drive.',
  },
  subscriptionEvents: {
    name: 'skyhook.subscriptions.events.v1',
    defaultPartitions: 6,
    // The subscription log is the source of truth for every subscription: never deleted.
    config: { 'cleanup.policy': 'delete', 'retention.ms': '-1' },
    description:
      'Every change to a subscription aggregate, keyed by subscription id, versioned per aggregate.',
  },
  organisationSnapshots: {
    name: 'skyhook.organisations.snapshots.v1',
    defaultPartitions: 3,
    // Each record is an organisation's whole current configuration: compaction keeps the latest.
    config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000' },
    description: "Each organisation's event-type catalogue and delivery defaults, keyed by organisation.",
  },
  deliveryRequests: {
    name: 'skyhook.deliveries.requests.v1',
    defaultPartitions: 24,
    config: {
      'cleanup.policy': 'delete',
      'retention.ms': String(7 * DAY_MS),
      'max.message.bytes': String(RECORD_SIZE_LIMITS.deliveryRequest),
    },
    description: 'One record per (event, subscription) match, keyed by endpoint so an endpoint is ordered.',
  },
  deliveryRequestsDeadLetter: {
    name: 'skyhook.deliveries.requests.dead-letter.v1',
    defaultPartitions: 3,
    config: deadLetterConfig(),
    description:
      'Delivery requests and retries that can never be delivered as they are (an endpoint that cannot be compiled, a record over its topic size limit), with the reason, for inspection and re-drive.',
  },
  deliveryEvents: {
    name: 'skyhook.deliveries.events.v1',
    defaultPartitions: 12,
    config: {
      'cleanup.policy': 'delete',
      'retention.ms': String(30 * DAY_MS),
      'max.message.bytes': String(RECORD_SIZE_LIMITS.deliveryEvent),
    },
    description: 'Attempt and outcome events of every delivery, projected into PostgreSQL by history.',
  },
  deliveryEventsDeadLetter: {
    name: 'skyhook.deliveries.events.dead-letter.v1',
    defaultPartitions: 3,
    config: deadLetterConfig(),
    description:
      'Delivery events the history projector could not read (a producer bug), with the reason, kept for inspection and re-drive.',
  },
  deliveryParked: {
    name: 'skyhook.deliveries.parked.v1',
    defaultPartitions: 12,
    config: {
      'cleanup.policy': 'delete',
      'retention.ms': String(7 * DAY_MS),
      'max.message.bytes': String(RECORD_SIZE_LIMITS.deliveryRetry),
    },
    description:
      'Deliveries handed on because their endpoint was too slow to take them soon (its queue full or waited on too long), read by a consumer group of their own so that they never hold up other endpoints; keyed by endpoint.',
  },
  deliveryOrdered: {
    name: 'skyhook.deliveries.ordered.v1',
    defaultPartitions: 12,
    config: {
      'cleanup.policy': 'delete',
      'retention.ms': String(7 * DAY_MS),
      'max.message.bytes': String(RECORD_SIZE_LIMITS.deliveryRetry),
    },
    description:
      'Deliveries of subscriptions with per-key ordering, and releases of held keys, keyed by subscription and ordering key: a key is read in publish order from one partition, its deliveries one after another.',
  },
  deliveryRetries1s: retryTier('1s', 'under 10 seconds'),
  deliveryRetries10s: retryTier('10s', '10 seconds to a minute'),
  deliveryRetries1m: retryTier('1m', '1 to 10 minutes'),
  deliveryRetries10m: retryTier('10m', '10 minutes to an hour'),
  deliveryRetries1h: retryTier('1h', '1 to 6 hours'),
  deliveryRetries6h: retryTier('6h', '6 hours and more'),
  subscriptionCommands: {
    name: 'skyhook.subscriptions.commands.v1',
    defaultPartitions: 3,
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) },
    description:
      'Commands other services ask the subscription owner (api) to run, e.g. the dispatcher disabling a failing endpoint.',
  },
} as const satisfies Record<string, TopicDefinition>;

/**
 * A delay tier: retries wait in Kafka, not in a process, so a crash loses none. A record sits in
 * the tier at most its tier's delay, then is sent or moved to the tier of what remains.
 */
function retryTier(tier: string, holds: string) {
  return {
    name: `skyhook.deliveries.retry-${tier}.v1`,
    defaultPartitions: 6,
    // Longer than any record's stay in a tier plus an outage of the dispatcher.
    config: {
      'cleanup.policy': 'delete',
      'retention.ms': String(7 * DAY_MS),
      'max.message.bytes': String(RECORD_SIZE_LIMITS.deliveryRetry),
    },
    description: `Scheduled delivery retries due in ${holds}, keyed by endpoint.`,
  } as const;
}

/** Kept a month, and large enough for any record of the topics it takes letters from. */
function deadLetterConfig() {
  return {
    'cleanup.policy': 'delete',
    'retention.ms': String(30 * DAY_MS),
    'max.message.bytes': String(RECORD_SIZE_LIMITS.deadLetter),
  } as const;
}

export type TopicKey = keyof typeof KAFKA_TOPICS;
export type TopicName = (typeof KAFKA_TOPICS)[TopicKey]['name'];

export const ALL_TOPIC_KEYS = Object.keys(KAFKA_TOPICS) as TopicKey[];

/**
 * Where a record meant for, or read from, a topic goes when no retry can ever write or handle
 * it (too large for the topic, an undeliverable request, a broken contract); undefined for
 * topics whose records are small and built from validated input only.
 */
export function deadLetterTopicOf(key: TopicKey): TopicKey | undefined {
  if (key === 'inboundEvents') return 'inboundEventsDeadLetter';
  if (
    key === 'deliveryRequests' ||
    key === 'deliveryParked' ||
    key === 'deliveryOrdered' ||
    key.startsWith('deliveryRetries')
  ) {
    return 'deliveryRequestsDeadLetter';
  }
  if (key === 'deliveryEvents') return 'deliveryEventsDeadLetter';
  return undefined;
}

/** The largest record batch the topic accepts, as provisioned (the broker default where not set). */
export function maxMessageBytesOf(key: TopicKey): number {
  const configured = (KAFKA_TOPICS[key].config as Readonly<Record<string, string>>)['max.message.bytes'];
  return configured === undefined ? RECORD_SIZE_LIMITS.brokerDefault : Number(configured);
}
