import {
  isReservedEventType,
  SUBSCRIPTION_STATUSES,
  type SubscriptionEvent,
  type SubscriptionStatus,
} from '@skyhook/contracts';
import { type WhileDisabled, whileDisabledIn } from '@skyhook/delivery-policy';

/**
 * What fan-out keeps of a subscription: only what matching needs. URLs, secrets and policies
 * stay with the dispatcher; this keeps the index small (the goal is under 2 KiB each).
 */
export interface IndexedSubscription {
  readonly id: string;
  readonly organisationId: string;
  version: number;
  status: SubscriptionStatus;
  filters: readonly string[];
  /** Scope filter as [key, value] pairs: every pair must equal the event's scope. */
  scope: readonly (readonly [string, string])[];
  /** The subscription's own `whileDisabled` override, if it has one. */
  whileDisabled: WhileDisabled | undefined;
  /** The JSON Pointer of its per-key ordering; undefined when its deliveries are not ordered. */
  orderingKey: string | undefined;
}

/** Per organisation: exact type → subscriptions, prefix filters, and `*` subscriptions. */
class OrganisationMatcher {
  readonly byExactType = new Map<string, Set<IndexedSubscription>>();
  readonly byPrefix = new Map<string, Set<IndexedSubscription>>();
  readonly wildcard = new Set<IndexedSubscription>();

  add(subscription: IndexedSubscription): void {
    for (const filter of subscription.filters) this.bucketFor(filter, true)?.add(subscription);
  }

  remove(subscription: IndexedSubscription): void {
    for (const filter of subscription.filters) this.bucketFor(filter, false)?.delete(subscription);
  }

  /** Each subscription once, however many of its filters match. */
  candidates(eventType: string): Set<IndexedSubscription> {
    // `*` is every type of the organisation's own, never Skyhook's notifications (ADR 0030).
    const found = new Set<IndexedSubscription>(isReservedEventType(eventType) ? [] : this.wildcard);
    for (const subscription of this.byExactType.get(eventType) ?? []) found.add(subscription);
    if (this.byPrefix.size > 0) {
      // A type `a.b.c` is under the prefixes `a.` and `a.b.`.
      for (let dot = eventType.indexOf('.'); dot !== -1; dot = eventType.indexOf('.', dot + 1)) {
        for (const subscription of this.byPrefix.get(eventType.slice(0, dot + 1)) ?? [])
          found.add(subscription);
      }
    }
    return found;
  }

  get empty(): boolean {
    return this.byExactType.size === 0 && this.byPrefix.size === 0 && this.wildcard.size === 0;
  }

  private bucketFor(filter: string, create: boolean): Set<IndexedSubscription> | undefined {
    if (filter === '*') return this.wildcard;
    const [map, key] = filter.endsWith('.*')
      ? [this.byPrefix, filter.slice(0, -1)]
      : [this.byExactType, filter];
    let bucket = map.get(key);
    if (bucket === undefined && create) {
      bucket = new Set();
      map.set(key, bucket);
    }
    if (bucket !== undefined && !create && bucket.size === 1) map.delete(key);
    return bucket;
  }
}

/**
 * Every live subscription, grouped by organisation and indexed by filter, built by folding the
 * subscription log. Versions make applying an event twice (re-delivery) harmless.
 */
export class SubscriptionIndex {
  private readonly subscriptions = new Map<string, IndexedSubscription>();
  private readonly matchers = new Map<string, OrganisationMatcher>();
  /** Deleted subscriptions are remembered by version only, so a late re-delivered event cannot revive one. */
  private readonly deletedVersions = new Map<string, number>();

  get size(): number {
    return this.subscriptions.size;
  }

  /** Every status, zero included, so a gauge per status drops to 0 instead of going stale. */
  countsByStatus(): Record<SubscriptionStatus, number> {
    const counts = Object.fromEntries(SUBSCRIPTION_STATUSES.map((status) => [status, 0])) as Record<
      SubscriptionStatus,
      number
    >;
    for (const { status } of this.subscriptions.values()) counts[status] += 1;
    return counts;
  }

  get(subscriptionId: string): IndexedSubscription | undefined {
    return this.subscriptions.get(subscriptionId);
  }

  apply(event: SubscriptionEvent): void {
    const current = this.subscriptions.get(event.subscriptionId);
    const knownVersion = current?.version ?? this.deletedVersions.get(event.subscriptionId) ?? 0;
    if (event.version <= knownVersion) return;

    if (event.type === 'SubscriptionCreated') {
      this.insert({
        id: event.subscriptionId,
        organisationId: event.organisationId,
        version: event.version,
        status: 'active',
        filters: event.fields.eventTypes,
        scope: Object.entries(event.fields.scopeFilter),
        whileDisabled: whileDisabledIn(event.fields.policy),
        orderingKey: event.fields.ordering?.key,
      });
      return;
    }
    if (event.type === 'SubscriptionDeleted') {
      if (current !== undefined) this.removeEntry(current);
      this.deletedVersions.set(event.subscriptionId, event.version);
      return;
    }
    if (current === undefined) return;
    current.version = event.version;
    switch (event.type) {
      case 'SubscriptionUpdated': {
        const { eventTypes, scopeFilter, policy, ordering } = event.changes;
        if (eventTypes !== undefined) {
          this.matcherOf(current.organisationId).remove(current);
          current.filters = eventTypes;
          this.matcherOf(current.organisationId).add(current);
        }
        if (scopeFilter !== undefined) current.scope = Object.entries(scopeFilter);
        if (policy !== undefined) current.whileDisabled = whileDisabledIn(policy);
        if (ordering !== undefined) current.orderingKey = ordering?.key;
        return;
      }
      case 'SubscriptionDisabled':
        current.status = 'disabled';
        return;
      case 'SubscriptionEnabled':
        current.status = 'active';
        return;
      case 'SubscriptionRevoked':
        current.status = 'revoked';
        return;
      case 'SubscriptionExpired':
        current.status = 'expired';
        return;
      case 'SubscriptionSecretRotated':
      case 'SubscriptionRenewed':
        return;
    }
  }

  /** Subscriptions of the organisation whose type filter and scope filter accept the event. */
  matching(
    organisationId: string,
    eventType: string,
    scope: Readonly<Record<string, string>>,
  ): IndexedSubscription[] {
    const matcher = this.matchers.get(organisationId);
    if (matcher === undefined) return [];
    const candidates = matcher.candidates(eventType);
    // Scope filters route the organisation's own events; Skyhook's notifications are about its
    // endpoints, carry no scope, and reach every endpoint that names their type (ADR 0030).
    if (isReservedEventType(eventType)) return [...candidates];
    const matched: IndexedSubscription[] = [];
    for (const subscription of candidates) {
      if (subscription.scope.every(([key, value]) => scope[key] === value)) matched.push(subscription);
    }
    return matched;
  }

  private insert(subscription: IndexedSubscription): void {
    this.subscriptions.set(subscription.id, subscription);
    this.matcherOf(subscription.organisationId).add(subscription);
  }

  private removeEntry(subscription: IndexedSubscription): void {
    this.subscriptions.delete(subscription.id);
    const matcher = this.matcherOf(subscription.organisationId);
    matcher.remove(subscription);
    if (matcher.empty) this.matchers.delete(subscription.organisationId);
  }

  private matcherOf(organisationId: string): OrganisationMatcher {
    let matcher = this.matchers.get(organisationId);
    if (matcher === undefined) {
      matcher = new OrganisationMatcher();
      this.matchers.set(organisationId, matcher);
    }
    return matcher;
  }
}
