import { type InboundEvent, type SubscriptionEvent } from '@skyhook/contracts';
import { type SubscriptionState } from '@skyhook/subscriptions';
import {
  type CatalogueEventType,
  type EventCatalogue,
  type InboundEventPublisher,
  type SecretSealer,
  type SubscriptionChange,
  type SubscriptionRef,
  type SubscriptionStore,
  type WebhookUrlPolicy,
} from '../ports';
import { type SubscriberOrganisation } from '../subscriber-organisation';
import {
  type SubscriptionCommandDependencies,
  type SubscriptionCommandSettings,
} from '../subscription-command-dependencies';

/**
 * Typed fakes of the commands' ports, for unit tests: each keeps what it was given so a test can
 * assert on it, and behaves like the real adapter where the commands rely on it (a change that
 * throws stores nothing; a deleted subscription is not live).
 */
export class InMemorySubscriptionStore implements SubscriptionStore {
  readonly subscriptions = new Map<string, SubscriptionState>();
  /** Every event stored, in order: what the outbox would hand to Kafka. */
  readonly events: SubscriptionEvent[] = [];

  insert(subscription: SubscriptionState, event: SubscriptionEvent): Promise<void> {
    this.subscriptions.set(subscription.id, subscription);
    this.events.push(event);
    return Promise.resolve();
  }

  async change(
    organisationId: string,
    subscriptionId: string,
    change: (current: SubscriptionState | undefined) => SubscriptionChange,
  ): Promise<SubscriptionChange> {
    const result = change(await this.findLive(organisationId, subscriptionId));
    if (result.events.length > 0) {
      this.subscriptions.set(subscriptionId, result.state);
      this.events.push(...result.events);
    }
    return result;
  }

  findDueForExpiry(now: Date, limit: number): Promise<readonly SubscriptionRef[]> {
    const due = [...this.subscriptions.values()]
      .filter(
        (subscription) =>
          !subscription.deleted &&
          (subscription.status === 'active' || subscription.status === 'disabled') &&
          subscription.expiresAt !== null &&
          Date.parse(subscription.expiresAt) <= now.getTime(),
      )
      .sort((a, b) => Date.parse(a.expiresAt ?? '') - Date.parse(b.expiresAt ?? ''))
      .slice(0, limit);
    return Promise.resolve(due.map(({ organisationId, id }) => ({ organisationId, id })));
  }

  findLive(organisationId: string, subscriptionId: string): Promise<SubscriptionState | undefined> {
    const found = this.subscriptions.get(subscriptionId);
    const live = found !== undefined && found.organisationId === organisationId && !found.deleted;
    return Promise.resolve(live ? found : undefined);
  }
}

export class FakeEventCatalogue implements EventCatalogue {
  constructor(private readonly types: readonly CatalogueEventType[] = []) {}

  names(): Promise<ReadonlySet<string>> {
    return Promise.resolve(new Set(this.types.map((type) => type.name)));
  }

  list(): Promise<readonly CatalogueEventType[]> {
    return Promise.resolve(this.types);
  }
}

/** Accepts every URL as given, or refuses with `refusal` (as the URL policy would throw). */
export class FakeUrlPolicy implements WebhookUrlPolicy {
  readonly checked: string[] = [];

  constructor(private readonly refusal?: Error) {}

  check(rawUrl: string): Promise<string> {
    this.checked.push(rawUrl);
    return this.refusal === undefined ? Promise.resolve(new URL(rawUrl).href) : Promise.reject(this.refusal);
  }
}

/** Seals reversibly and visibly, so a test can see which secret was sealed under which context. */
export class VisibleSecretSealer implements SecretSealer {
  encrypt(plaintext: string, context: string): string {
    return `sealed(${context}):${plaintext}`;
  }
}

export class RecordingPublisher implements InboundEventPublisher {
  readonly published: InboundEvent[] = [];

  publish(event: InboundEvent): Promise<void> {
    this.published.push(event);
    return Promise.resolve();
  }
}

/** A clock the test moves. */
export class SettableClock {
  constructor(private current: Date) {}

  now(): Date {
    return new Date(this.current);
  }

  set(at: Date): void {
    this.current = at;
  }
}

export const TEST_SETTINGS: SubscriptionCommandSettings = {
  timeScale: 1,
  defaultRotationGraceMs: 86_400_000,
  eventMaxDataBytes: 1_024,
};

export const ORGANISATION: SubscriberOrganisation = {
  id: 'org_test',
  profile: 'standard-webhooks',
  subscriptionLifetimeDays: null,
  subscriptionLifetimeMonths: null,
  renewalWindowDays: 7,
  defaultPolicy: {},
};

export interface FakeDependencies extends SubscriptionCommandDependencies {
  readonly store: InMemorySubscriptionStore;
  readonly urlPolicy: FakeUrlPolicy;
  readonly publisher: RecordingPublisher;
  readonly clock: SettableClock;
}

export function fakeDependencies(
  overrides: Partial<Omit<FakeDependencies, 'catalogue'>> & {
    catalogue?: readonly CatalogueEventType[];
  } = {},
): FakeDependencies {
  const { catalogue, ...rest } = overrides;
  return {
    store: new InMemorySubscriptionStore(),
    catalogue: new FakeEventCatalogue(
      catalogue ?? [
        { name: 'flight.departed', example: { flightId: 'FL1' } },
        { name: 'booking.created', example: null },
      ],
    ),
    urlPolicy: new FakeUrlPolicy(),
    secrets: new VisibleSecretSealer(),
    publisher: new RecordingPublisher(),
    clock: new SettableClock(new Date('2026-12-01T12:00:00.000Z')),
    settings: TEST_SETTINGS,
    ...rest,
  };
}
