import { decideBreakerDisable, type SubscriptionState } from '@skyhook/subscriptions';
import { changeSubscription } from '../apply-decisions';
import { type SubscriptionCommandDependencies } from '../subscription-command-dependencies';
import { type DisableByCircuitBreakerCommand } from './disable-by-circuit-breaker.command';

/**
 * Disables a subscription on the dispatcher's behalf. `applied` is false when it was already
 * disabled (by the breaker or its partner), or re-enabled after the request was issued: no event.
 */
export class DisableByCircuitBreaker {
  constructor(private readonly dependencies: SubscriptionCommandDependencies) {}

  async execute(
    command: DisableByCircuitBreakerCommand,
  ): Promise<{ readonly subscription: SubscriptionState; readonly applied: boolean }> {
    const { store, clock } = this.dependencies;
    const { state, events } = await changeSubscription(store, clock, command, (current, now) => [
      decideBreakerDisable(current, command.detail, command.issuedAt, now),
    ]);
    return { subscription: state, applied: events.length > 0 };
  }
}
