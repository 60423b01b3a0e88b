import { z } from 'zod';
import { AFTER_FINAL_FAILURE, type StoredSecret, SUBSCRIPTION_STATUSES } from '@skyhook/contracts';
import {
  DELIVERY_PROFILE_NAMES,
  deliveryPolicySchema,
  parseDeliveryPolicyOverride,
  resolveEffectivePolicy,
  SIGNATURE_SCHEME_TRAITS,
} from '@skyhook/delivery-policy';
import {
  renewalOpensAt,
  type SecretPhase,
  secretPhasesAt,
  signingSecretsAt,
  type SubscriptionState,
} from '@skyhook/subscriptions';
import { type Organisation } from '../organisations/organisation.repository';

const instant = z.iso.datetime({ offset: true });

export const secretSummarySchema = z
  .strictObject({
    id: z.string(),
    hint: z.string().meta({ description: 'The first and last characters, never the secret.' }),
    publicKey: z.string().nullable().meta({
      description:
        'For an ed25519 key pair (standard-webhooks-v1a): the whpk_ public key that verifies its v1a signatures. Null for a shared secret.',
    }),
    phase: z.enum(['pending', 'current', 'retiring']),
    createdAt: instant,
    activatesAt: instant
      .nullable()
      .meta({ description: 'When it signs from (null: waiting for its activation call).' }),
    retiresAt: instant.nullable().meta({
      description: 'When it stops signing (null: not replaced yet, or its replacement is pending).',
    }),
  })
  .readonly();
export type SecretSummary = z.infer<typeof secretSummarySchema>;

/** What partners see of a subscription: secrets only as hints, the version as the ETag. */
export const subscriptionResponseSchema = z
  .strictObject({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(z.string()).readonly(),
    scopeFilter: z.record(z.string(), z.string()).readonly(),
    ordering: z
      .strictObject({ key: z.string(), afterFinalFailure: z.enum(AFTER_FINAL_FAILURE) })
      .nullable()
      .meta({ description: 'Per-key FIFO (null: deliveries are not ordered).' }),
    rateLimit: z
      .strictObject({ perSecond: z.number().int() })
      .nullable()
      .meta({ description: 'The most requests the endpoint is sent per second (null: no limit).' }),
    status: z.enum(SUBSCRIPTION_STATUSES),
    disabledReason: z.string().nullable(),
    disabledDetail: z.string().nullable(),
    expiresAt: instant.nullable(),
    renewalOpensAt: instant.nullable().meta({
      description:
        "When renewal opens (the organisation's renewal window before expiresAt); null when it does not expire.",
    }),
    secretHint: z.string().meta({ description: 'The hint of the secret deliveries are signed with now.' }),
    secretsSigning: z.number().int().min(1).meta({
      description:
        "Signatures each delivery carries now: the current secret's, and retiring ones' where the scheme carries several.",
    }),
    secrets: z.array(secretSummarySchema).readonly().meta({
      description:
        "The live secrets (pending, current, retiring), as hints: what a rotation's steps refer to.",
    }),
    policy: z
      .record(z.string(), z.unknown())
      .readonly()
      .meta({ description: "The subscription's own overrides, as given." }),
    profile: z.enum(DELIVERY_PROFILE_NAMES),
    effectivePolicy: deliveryPolicySchema.meta({
      description:
        'Defaults ← profile ← organisation default ← subscription override: what deliveries actually use.',
    }),
    version: z.number().int().min(1),
    createdAt: instant,
    updatedAt: instant,
  })
  .readonly();
export type SubscriptionResponse = z.infer<typeof subscriptionResponseSchema>;

/** At creation only: the signing secret, shown this once. */
export const createdSubscriptionResponseSchema = subscriptionResponseSchema.unwrap().extend({
  signingSecret: z.string().meta({
    description:
      'What the receiver verifies with, shown this once: the shared secret (whsec_… or your own), or under standard-webhooks-v1a the key pair’s whpk_ public key (the whsk_ signing key never leaves Skyhook).',
  }),
});

/** After a rotation: the new secret, shown this once, and its id for the activation call. */
export const rotatedSubscriptionResponseSchema = createdSubscriptionResponseSchema.extend({
  secretId: z.string(),
});

/** Admin views carry the organisation. */
export const adminSubscriptionResponseSchema = subscriptionResponseSchema
  .unwrap()
  .extend({ organisationId: z.string() });

/** What a test delivery carries, so the partner can compare it with what arrives. */
export const testEventSentSchema = z
  .strictObject({
    eventId: z.string(),
    type: z.string(),
    scope: z.record(z.string(), z.string()).readonly(),
    occurredAt: instant,
    data: z.record(z.string(), z.unknown()).readonly(),
  })
  .readonly();
export type TestEventSent = z.infer<typeof testEventSentSchema>;

export function subscriptionResponseOf(
  state: SubscriptionState,
  organisation: Organisation,
  now: Date,
  /** SKYHOOK_TIME_SCALE: the renewal window shrinks with it, as renewal itself checks. */
  timeScale: number,
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
      publicKey: secret.publicKey ?? null,
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
    ordering: state.ordering ?? null,
    rateLimit: state.rateLimit ?? null,
    status: state.status,
    disabledReason: state.disabledReason,
    disabledDetail: state.disabledDetail,
    expiresAt: state.expiresAt,
    renewalOpensAt:
      state.expiresAt === null
        ? null
        : renewalOpensAt(state.expiresAt, organisation.renewalWindowDays, timeScale).toISOString(),
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
