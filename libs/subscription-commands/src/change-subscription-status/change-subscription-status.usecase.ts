import { type SubscriptionEvent } from '@skyhook/contracts';
import {
  decideDelete,
  decideDisable,
  decideEnable,
  decideRenew,
  decideRevoke,
  type SubscriptionState,
} from '@skyhook/subscriptions';
import { changeSubscription } from '../apply-decisions';
import { lifetimeOf } from '../subscriber-organisation';
import { type SubscriptionCommandDependencies } from '../subscription-command-dependencies';
import {
  type ChangeSubscriptionStatusCommand,
  type SubscriptionStatusChange,
} from './change-subscription-status.command';

/**
 * Disables (as the partner), enables, revokes, deletes or renews a subscription: the aggregate
 * decides whether the step is allowed from its status (409 if not) and what it changes.
 */
export class ChangeSubscriptionStatus {
  constructor(private readonly dependencies: SubscriptionCommandDependencies) {}

  async execute(command: ChangeSubscriptionStatusCommand): Promise<SubscriptionState> {
    const { store, clock, settings } = this.dependencies;
    const lifetime = lifetimeOf(command.organisation, settings.timeScale);
    const decide = (
      change: SubscriptionStatusChange,
      state: SubscriptionState,
      now: Date,
    ): SubscriptionEvent | null => {
      switch (change) {
        case 'disable':
          return decideDisable(state, 'partner', null, now);
        case 'enable':
          return decideEnable(state, now);
        case 'revoke':
          return decideRevoke(state, now);
        case 'delete':
          return decideDelete(state, now);
        case 'renew':
          return decideRenew(state, lifetime, now);
      }
    };
    const target = { ...command, organisationId: command.organisation.id };
    const { state } = await changeSubscription(store, clock, target, (current, now) => [
      decide(command.change, current, now),
    ]);
    return state;
  }
}
