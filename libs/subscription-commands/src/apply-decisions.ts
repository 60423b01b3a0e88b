import { type SubscriptionEvent } from '@skyhook/contracts';
import {
  evolveSubscription,
  SubscriptionError,
  SubscriptionErrorCode,
  type SubscriptionState,
} from '@skyhook/subscriptions';
import { type SubscriptionChange, type SubscriptionStore } from './ports';

/** A command's decisions on the current state; null: that decision changes nothing. */
export type Decide = (state: SubscriptionState, now: Date) => (SubscriptionEvent | null)[];

/** Which subscription a command changes, and the version the caller last read (`If-Match`). */
export interface SubscriptionTarget {
  readonly organisationId: string;
  readonly subscriptionId: string;
  readonly expectedVersion?: number | undefined;
}

/**
 * Applies one command's decisions to the current state: refuses a missing subscription (404) and a
 * stale `expectedVersion` (409), and numbers each event after the one before it, so that later
 * decisions of one command see the earlier ones' effects and versions.
 */
export function applyDecisions(
  target: SubscriptionTarget,
  current: SubscriptionState | undefined,
  decide: Decide,
  now: Date,
): SubscriptionChange {
  const { subscriptionId, expectedVersion } = target;
  if (current === undefined) {
    throw new SubscriptionError(SubscriptionErrorCode.NotFound, `subscription ${subscriptionId} not found`);
  }
  if (expectedVersion !== undefined && current.version !== expectedVersion) {
    throw new SubscriptionError(
      SubscriptionErrorCode.VersionConflict,
      `subscription ${subscriptionId} is at version ${current.version}, not ${expectedVersion}: re-read it and retry`,
      { currentVersion: current.version },
    );
  }
  let state = current;
  const events: SubscriptionEvent[] = [];
  for (const event of decide(current, now)) {
    if (event === null) continue;
    const renumbered = { ...event, version: state.version + 1 };
    state = evolveSubscription(state, renumbered);
    events.push(renumbered);
  }
  return { state, events };
}

/** Runs a command's decisions under the subscription's lock and stores what they changed. */
export function changeSubscription(
  store: SubscriptionStore,
  clock: { now(): Date },
  target: SubscriptionTarget,
  decide: Decide,
): Promise<SubscriptionChange> {
  return store.change(target.organisationId, target.subscriptionId, (current) =>
    applyDecisions(target, current, decide, clock.now()),
  );
}
