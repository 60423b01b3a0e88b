import { decideActivateSecret, type SubscriptionState } from '@skyhook/subscriptions';
import { changeSubscription } from '../apply-decisions';
import { type SubscriptionCommandDependencies } from '../subscription-command-dependencies';
import { type ActivateSecretCommand } from './activate-secret.command';

/** The pending secret signs from now on; the one it replaces keeps its grace (multi-signature schemes). */
export class ActivateSecret {
  constructor(private readonly dependencies: SubscriptionCommandDependencies) {}

  async execute(command: ActivateSecretCommand): Promise<SubscriptionState> {
    const { store, clock, settings } = this.dependencies;
    const grace = {
      graceMs: command.graceSeconds === undefined ? undefined : command.graceSeconds * 1_000,
      defaultGraceMs: settings.defaultRotationGraceMs,
    };
    const target = { ...command, organisationId: command.organisation.id };
    const { state } = await changeSubscription(store, clock, target, (current, now) => [
      decideActivateSecret(current, command.secretId, grace, now),
    ]);
    return state;
  }
}
