import { decideExpire, SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { changeSubscription } from '../apply-decisions';
import { type SubscriptionCommandDependencies } from '../subscription-command-dependencies';
import { type ExpireSubscriptionCommand } from './expire-subscription.command';

/**
 * Expires a subscription whose `expiresAt` has passed; a no-op when it is not yet due, was renewed
 * meanwhile, was deleted since it was found due, or another replica got there first. Returns
 * whether it expired it.
 */
export class ExpireSubscription {
  constructor(private readonly dependencies: SubscriptionCommandDependencies) {}

  async execute(command: ExpireSubscriptionCommand): Promise<boolean> {
    const { store, clock } = this.dependencies;
    try {
      const { events } = await changeSubscription(store, clock, command, (current, now) => [
        decideExpire(current, now),
      ]);
      return events.length > 0;
    } catch (error) {
      if (error instanceof SubscriptionError && error.code === SubscriptionErrorCode.NotFound) return false;
      throw error;
    }
  }
}
