import {
  type DeliveryProfileName,
  deliveryProfile,
  missingScopeKey,
  parseDeliveryPolicyOverride,
  resolveEffectivePolicy,
  type SignaturePolicy,
} from '@skyhook/delivery-policy';
import { type SubscriptionLifetime } from '@skyhook/subscriptions';
import { SubscriptionInputError, SubscriptionInputErrorCode } from './subscription-command.error';

/** What the commands need to know of the organisation a subscription belongs to. */
export interface SubscriberOrganisation {
  readonly id: string;
  /** The delivery profile under `defaultPolicy`. */
  readonly profile: DeliveryProfileName;
  /** At most one of the lifetimes is set; neither: subscriptions never expire. */
  readonly subscriptionLifetimeDays: number | null;
  readonly subscriptionLifetimeMonths: number | null;
  readonly renewalWindowDays: number;
  readonly defaultPolicy: Record<string, unknown>;
}

export function lifetimeOf(organisation: SubscriberOrganisation, timeScale: number): SubscriptionLifetime {
  const { subscriptionLifetimeDays: days, subscriptionLifetimeMonths: months } = organisation;
  return {
    lifetime: months !== null ? { months } : days !== null ? { days } : null,
    renewalWindowDays: organisation.renewalWindowDays,
    timeScale,
  };
}

/**
 * A profile that subscribes per tenant (AviationAlley per center, FL3XX per operator) needs
 * the scope filter on that key: without it a subscription would receive every tenant's events.
 */
export function checkScopeFilter(
  organisation: SubscriberOrganisation,
  scopeFilter: Readonly<Record<string, string>>,
): void {
  const missing = missingScopeKey(organisation.profile, scopeFilter);
  if (missing !== undefined) {
    throw new SubscriptionInputError(
      SubscriptionInputErrorCode.ScopeFilterRequired,
      `the ${organisation.profile} profile subscribes per ${missing}: give scopeFilter.${missing}`,
      { field: `scopeFilter.${missing}` },
    );
  }
}

/** Validates the override and that it combines with the organisation's default into a complete policy. */
export function checkPolicyOverride(
  organisation: SubscriberOrganisation,
  input: Record<string, unknown>,
): Record<string, unknown> {
  const override = parseDeliveryPolicyOverride(input);
  resolveEffectivePolicy(
    parseDeliveryPolicyOverride(organisation.defaultPolicy),
    override,
    organisation.profile,
  );
  return override;
}

/** The signature the subscription's deliveries are made with: its override over the organisation's. */
export function effectiveSignatureOf(
  organisation: SubscriberOrganisation,
  policyOverride: Record<string, unknown>,
): SignaturePolicy {
  return resolveEffectivePolicy(
    parseDeliveryPolicyOverride(organisation.defaultPolicy),
    parseDeliveryPolicyOverride(policyOverride),
    organisation.profile,
  ).signature;
}

/**
 * The status a change asks for, in Skyhook's words: a profile may accept its seed's own word for
 * one (FL3XX's `inactive` is `disabled`); under a profile without it, the word is refused rather
 * than guessed at.
 */
export function statusUnderProfile(
  organisation: SubscriberOrganisation,
  status: string | undefined,
): 'active' | 'disabled' | undefined {
  if (status === undefined || status === 'active' || status === 'disabled') return status;
  // Own keys only: a word such as `constructor` must not find the prototype's.
  const aliases = deliveryProfile(organisation.profile).subscriptions.statusAliases ?? {};
  if (Object.hasOwn(aliases, status)) return aliases[status];
  throw new SubscriptionInputError(
    SubscriptionInputErrorCode.Invalid,
    `status "${status}" is not a status under the ${organisation.profile} profile; use "active" or "disabled"`,
    [{ path: 'status', message: `${status} is accepted only under a profile that names it` }],
  );
}
