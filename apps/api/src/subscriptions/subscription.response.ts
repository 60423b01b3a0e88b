import {
  type DeliveryPolicy,
  type DeliveryProfileName,
  parseDeliveryPolicyOverride,
  resolveEffectivePolicy,
  SIGNATURE_SCHEME_TRAITS,
} from '@skyhook/delivery-policy';
import { type StoredSecret } from '@skyhook/contracts';
import {
  type SecretPhase,
  secretPhasesAt,
  signingSecretsAt,
  type SubscriptionState,
} from '@skyhook/subscriptions';
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
  /** The hint of the secret deliveries are signed with now. */
  readonly secretHint: string;
  /** Signatures each delivery carries now: the current secret's, and retiring ones' where the scheme carries several. */
  readonly secretsSigning: number;
  /** The live secrets (pending, current, retiring), as hints: what a rotation's steps refer to. */
  readonly secrets: readonly SecretSummary[];
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

export interface SecretSummary {
  readonly id: string;
  readonly hint: string;
  readonly phase: Exclude<SecretPhase, 'retired'>;
  readonly createdAt: string;
  /** When it signs from (null: waiting for its activation call). */
  readonly activatesAt: string | null;
  /** When it stops signing (null: not replaced yet, or its replacement is pending). */
  readonly retiresAt: string | null;
}

export function subscriptionResponseOf(
  state: SubscriptionState,
  organisation: Organisation,
  now: Date,
): SubscriptionResponse {
  const at = now.getTime();
  const { current, retiring } = signingSecretsAt(state.secrets, at);
  const effectivePolicy = resolveEffectivePolicy(
    parseDeliveryPolicyOverride(organisation.defaultPolicy),
    parseDeliveryPolicyOverride(state.policy),
    organisation.profile,
  );
  const phases = secretPhasesAt(state.secrets, at);
  const secrets = state.secrets
    .map((secret) => ({ secret, phase: phases.get(secret.id) ?? 'retired' }))
    .filter(
      (entry): entry is { secret: StoredSecret; phase: Exclude<SecretPhase, 'retired'> } =>
        entry.phase !== 'retired',
    )
    .map(({ secret, phase }) => ({
      id: secret.id,
      hint: secret.hint,
      phase,
      createdAt: secret.createdAt,
      activatesAt: secret.activatesAt === undefined ? secret.createdAt : secret.activatesAt,
      retiresAt: secret.retiresAt,
    }));
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
    secretHint: current.hint,
    secretsSigning: SIGNATURE_SCHEME_TRAITS[effectivePolicy.signature.scheme].carriesSeveralSignatures
      ? 1 + retiring.length
      : 1,
    secrets,
    policy: state.policy,
    profile: organisation.profile,
    effectivePolicy,
    version: state.version,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
}
