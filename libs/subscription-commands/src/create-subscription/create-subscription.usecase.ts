import { randomBytes } from 'node:crypto';
import { type SubscriptionFields } from '@skyhook/contracts';
import { decideCreate, evolveSubscription, type SubscriptionState } from '@skyhook/subscriptions';
import { checkEventTypesInCatalogue } from '../event-type-check';
import {
  newSigningSecret,
  sealSigningSecret,
  verifiedWith,
  type SubscriptionWithSecret,
} from '../signing-secret-seal';
import {
  checkPolicyOverride,
  checkScopeFilter,
  effectiveSignatureOf,
  lifetimeOf,
} from '../subscriber-organisation';
import { type SubscriptionCommandDependencies } from '../subscription-command-dependencies';
import { type CreateSubscriptionCommand } from './create-subscription.command';

/**
 * Creates a subscription: checks its URL (policy and DNS), event types (the catalogue), scope
 * filter and policy override against the organisation, seals its secret, and stores it with its
 * creation event.
 */
export class CreateSubscription {
  constructor(private readonly dependencies: SubscriptionCommandDependencies) {}

  async execute(command: CreateSubscriptionCommand): Promise<SubscriptionWithSecret<SubscriptionState>> {
    const { store, urlPolicy, catalogue, secrets, clock, settings } = this.dependencies;
    const { organisation } = command;
    const url = await urlPolicy.check(command.url);
    await checkEventTypesInCatalogue(catalogue, organisation.id, command.eventTypes);
    checkScopeFilter(organisation, command.scopeFilter);
    const policy = checkPolicyOverride(organisation, command.policy);
    const signingSecret = newSigningSecret(effectiveSignatureOf(organisation, policy), command.secret);
    const subscriptionId = `sub_${randomBytes(16).toString('hex')}`;
    const now = clock.now();
    const fields: SubscriptionFields = {
      url,
      description: command.description,
      eventTypes: [...command.eventTypes],
      scopeFilter: { ...command.scopeFilter },
      policy,
      // Written only when set: an unordered subscription's events read as they always did.
      ...(command.ordering == null ? {} : { ordering: command.ordering }),
      ...(command.rateLimit == null ? {} : { rateLimit: command.rateLimit }),
    };
    const secret = sealSigningSecret(secrets, subscriptionId, signingSecret, now);
    const event = decideCreate({
      subscriptionId,
      organisationId: organisation.id,
      fields,
      secret,
      lifetime: lifetimeOf(organisation, settings.timeScale),
      now,
    });
    const subscription = evolveSubscription(undefined, event);
    await store.insert(subscription, event);
    return { subscription, signingSecret: verifiedWith(signingSecret), secretId: secret.id };
  }
}
