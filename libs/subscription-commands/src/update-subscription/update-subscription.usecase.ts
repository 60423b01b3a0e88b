import { type SubscriptionFields } from '@skyhook/contracts';
import {
  decideDisable,
  decideEnable,
  decideUpdate,
  evolveSubscription,
  type SubscriptionState,
} from '@skyhook/subscriptions';
import { changeSubscription } from '../apply-decisions';
import { checkEventTypesInCatalogue } from '../event-type-check';
import { assertSecretsSignUnder } from '../signing-secret-seal';
import {
  checkPolicyOverride,
  checkScopeFilter,
  effectiveSignatureOf,
  statusUnderProfile,
} from '../subscriber-organisation';
import { type SubscriptionCommandDependencies } from '../subscription-command-dependencies';
import { type UpdateSubscriptionCommand } from './update-subscription.command';

/**
 * Changes a subscription's fields and, in the same command, its status: the input is checked like
 * a creation's first, then the update and the status change are decided on the locked state, the
 * second seeing the first.
 */
export class UpdateSubscription {
  constructor(private readonly dependencies: SubscriptionCommandDependencies) {}

  async execute(command: UpdateSubscriptionCommand): Promise<SubscriptionState> {
    const { store, urlPolicy, catalogue, clock } = this.dependencies;
    const { organisation } = command;
    const status = statusUnderProfile(organisation, command.status);
    const changes: Partial<SubscriptionFields> = {};
    if (command.url !== undefined) changes.url = await urlPolicy.check(command.url);
    if (command.eventTypes !== undefined) {
      await checkEventTypesInCatalogue(catalogue, organisation.id, command.eventTypes);
      changes.eventTypes = [...command.eventTypes];
    }
    if (command.policy !== undefined) changes.policy = checkPolicyOverride(organisation, command.policy);
    if (command.description !== undefined) changes.description = command.description;
    if (command.ordering !== undefined) changes.ordering = command.ordering;
    if (command.rateLimit !== undefined) changes.rateLimit = command.rateLimit;
    if (command.scopeFilter !== undefined) {
      checkScopeFilter(organisation, command.scopeFilter);
      changes.scopeFilter = { ...command.scopeFilter };
    }
    const target = { ...command, organisationId: organisation.id };
    const { state } = await changeSubscription(store, clock, target, (current, now) => {
      if (changes.policy !== undefined)
        assertSecretsSignUnder(effectiveSignatureOf(organisation, changes.policy), current.secrets, now);
      const updated = decideUpdate(current, changes, now);
      const afterUpdate = updated === null ? current : evolveSubscription(current, updated);
      const statusChange =
        status === 'disabled'
          ? decideDisable(afterUpdate, 'partner', null, now)
          : status === 'active'
            ? decideEnable(afterUpdate, now)
            : null;
      return [updated, statusChange];
    });
    return state;
  }
}
