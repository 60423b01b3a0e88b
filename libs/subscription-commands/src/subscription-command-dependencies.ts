import { type Clock } from '@skyhook/subscriptions';
import {
  type EventCatalogue,
  type InboundEventPublisher,
  type SecretSealer,
  type SubscriptionStore,
  type WebhookUrlPolicy,
} from './ports';

/** Settings the commands apply (the api's configuration). */
export interface SubscriptionCommandSettings {
  /** How much faster than real time lifetimes and renewal windows run (1 in production). */
  readonly timeScale: number;
  /** How long a replaced secret keeps signing when the caller does not say. */
  readonly defaultRotationGraceMs: number;
  /** The largest test event `data` a caller may send, in bytes of JSON. */
  readonly eventMaxDataBytes: number;
}

/** Everything a subscription command reaches outside itself: each port has a typed fake in `test/`. */
export interface SubscriptionCommandDependencies {
  readonly store: SubscriptionStore;
  readonly catalogue: EventCatalogue;
  readonly urlPolicy: WebhookUrlPolicy;
  readonly secrets: SecretSealer;
  readonly publisher: InboundEventPublisher;
  readonly clock: Clock;
  readonly settings: SubscriptionCommandSettings;
}
