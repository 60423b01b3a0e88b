import { ExpireSubscription } from '../expire-subscription/expire-subscription.usecase';
import { type SubscriptionRef } from '../ports';
import { type SubscriptionCommandDependencies } from '../subscription-command-dependencies';

/** Subscriptions read per batch. */
export const EXPIRY_BATCH = 200;

export interface ExpiryScan {
  /** How many subscriptions this scan expired. */
  readonly expired: number;
  /** The ones that could not be expired (retried by the next scan), with why. */
  readonly failures: readonly { readonly subscription: SubscriptionRef; readonly error: unknown }[];
}

/**
 * One scan: expires everything due now, so that expiry is an event every service sees (fan-out
 * stops matching), not a check each reader must remember. One that fails is reported and
 * skipped, so it cannot hold back the expiry of all the others; one another replica expired
 * first is a no-op.
 */
export class ExpireDueSubscriptions {
  private readonly expireOne: ExpireSubscription;

  constructor(private readonly dependencies: SubscriptionCommandDependencies) {
    this.expireOne = new ExpireSubscription(dependencies);
  }

  async execute(batchSize = EXPIRY_BATCH): Promise<ExpiryScan> {
    const { store, clock } = this.dependencies;
    let expired = 0;
    const failures: { subscription: SubscriptionRef; error: unknown }[] = [];
    // One that failed stays due and comes back in the next batch: tried once per scan only.
    const failed = new Set<string>();
    for (;;) {
      const due = await store.findDueForExpiry(clock.now(), batchSize);
      for (const subscription of due) {
        if (failed.has(subscription.id)) continue;
        try {
          const { organisationId, id: subscriptionId } = subscription;
          if (await this.expireOne.execute({ organisationId, subscriptionId })) expired += 1;
        } catch (error) {
          failed.add(subscription.id);
          failures.push({ subscription, error });
        }
      }
      // A short batch means nothing else is due; a batch of nothing but failures would repeat forever.
      const allFailed = due.every((subscription) => failed.has(subscription.id));
      if (due.length < batchSize || allFailed) return { expired, failures };
    }
  }
}
