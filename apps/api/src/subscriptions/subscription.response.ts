import {
  type DeliveryPolicy,
  type DeliveryProfileName,
  parseDeliveryPolicyOverride,
  resolveEffectivePolicy,
} from '@skyhook/delivery-policy';
import { type SubscriptionState } from '@skyhook/subscriptions';
import { type Organisation } from '../organisations/organisation.repository';

/** What partners see of a subscription: secrets only as a hint, the version as the ETag. */
export interface SubscriptionResponse {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  readonly eventTypes: readonly string[];
  readonly scopeFilter: Readonly<Record<string, string>>;
  readonly status: string;
  readonly disabledReason: string | null;
  readonly disabledDetail: string | null;
  readonly expiresAt: string | null;
  readonly secretHint: string;
  readonly secretsSigning: number;
  /** The subscription's own overrides, as given. */
  readonly policy: Readonly<Record<string, unknown>>;
  /** The organisation's delivery profile, the layer under its default policy. */
  readonly profile: DeliveryProfileName;
  /**
   * Defaults ← profile ← organisation default ← subscription override: what deliveries
   * actually use.
   */
  readonly effectivePolicy: DeliveryPolicy;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function subscriptionResponseOf(
  state: SubscriptionState,
  organisation: Organisation,
): SubscriptionResponse {
  const current = state.secrets.find((secret) => secret.retiresAt === null) ?? state.secrets[0];
  return {
    id: state.id,
    url: state.url,
    description: state.description,
    eventTypes: state.eventTypes,
    scopeFilter: state.scopeFilter,
    status: state.status,
    disabledReason: state.disabledReason,
    disabledDetail: state.disabledDetail,
    expiresAt: state.expiresAt,
    secretHint: current?.hint ?? '',
    secretsSigning: state.secrets.length,
    policy: state.policy,
    profile: organisation.profile,
    effectivePolicy: resolveEffectivePolicy(
      parseDeliveryPolicyOverride(organisation.defaultPolicy),
      parseDeliveryPolicyOverride(state.policy),
      organisation.profile,
    ),
    version: state.version,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
}
