import { type InboundEvent, type SubscriptionEvent } from '@skyhook/contracts';
import { type SubscriptionState } from '@skyhook/subscriptions';

/** A subscription's new state and the events that made it, stored together or not at all. */
export interface SubscriptionChange {
  readonly state: SubscriptionState;
  /** Empty: the command decided nothing (a no-op), and nothing is stored. */
  readonly events: readonly SubscriptionEvent[];
}

/**
 * Where subscriptions live: the read model and the outbox of their events, written in one
 * transaction, so that an accepted change is never lost and no two commands claim one version.
 * The events reach Kafka after the commit.
 */
export interface SubscriptionStore {
  /** Stores a new subscription and the event that created it. */
  insert(subscription: SubscriptionState, event: SubscriptionEvent): Promise<void>;
  /**
   * Locks the live subscription (`undefined`: none, or deleted), lets `change` decide, and stores
   * what it returns in the same transaction. What `change` throws rolls the transaction back.
   */
  change(
    organisationId: string,
    subscriptionId: string,
    change: (current: SubscriptionState | undefined) => SubscriptionChange,
  ): Promise<SubscriptionChange>;
  /** The live subscription, read without a lock. */
  findLive(organisationId: string, subscriptionId: string): Promise<SubscriptionState | undefined>;
  /** Up to `limit` live, unexpired subscriptions whose `expiresAt` is at or before `now`, soonest first. */
  findDueForExpiry(now: Date, limit: number): Promise<readonly SubscriptionRef[]>;
}

/** A subscription named with its organisation. */
export interface SubscriptionRef {
  readonly organisationId: string;
  readonly id: string;
}

/** An event type of an organisation's catalogue, as the commands need it. */
export interface CatalogueEventType {
  readonly name: string;
  /** An example of the type's `data`, used by test events; null when none was registered. */
  readonly example: Record<string, unknown> | null;
}

/** The organisation's event catalogue. */
export interface EventCatalogue {
  names(organisationId: string): Promise<ReadonlySet<string>>;
  list(organisationId: string): Promise<readonly CatalogueEventType[]>;
}

/** The URL policy, with its DNS lookups: the normalised URL, or a `UrlPolicyViolation` thrown. */
export interface WebhookUrlPolicy {
  check(rawUrl: string): Promise<string>;
}

/** Encrypts a signing secret at rest; `context` binds the ciphertext to its subscription and id. */
export interface SecretSealer {
  encrypt(plaintext: string, context: string): string;
}

/** Hands an inbound event to fan-out (a test event takes the way every event takes). */
export interface InboundEventPublisher {
  publish(event: InboundEvent): Promise<void>;
}
