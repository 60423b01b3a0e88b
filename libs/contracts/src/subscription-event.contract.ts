import { z } from 'zod';
import { deliveryOrderingSchema } from './delivery-ordering.contract';
import { eventTypeNameSchema } from './event-type-name';
import { eventScopeSchema, identifierSchema } from './inbound-event.contract';
import { defineMessageContract } from './message-contract';
import { KAFKA_TOPICS } from './topics';

/**
 * `*` (every type of the organisation's own), an exact type name, or `domain.*` (every type under
 * a dotted prefix). Skyhook's notifications (`skyhook.*`) are matched by name or prefix only.
 */
export const eventTypeFilterSchema = z.union([
  z.literal('*'),
  eventTypeNameSchema,
  z.string().regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*\.\*$/, 'prefix filters look like domain.*'),
]);

export const SUBSCRIPTION_STATUSES = ['active', 'disabled', 'revoked', 'expired'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** A signing secret as it travels and rests: encrypted with the master key, never in clear. */
export const storedSecretSchema = z.strictObject({
  id: identifierSchema,
  encrypted: z.string().min(1).max(2_000),
  hint: z.string().max(40),
  /** An ed25519 signing key's public key (`whpk_…`, Standard Webhooks `v1a`); absent for HMAC secrets. */
  publicKey: z.string().max(100).optional(),
  createdAt: z.iso.datetime({ offset: true }),
  /** Set on a rotated-out secret: it keeps signing alongside the new one until then. */
  retiresAt: z.iso.datetime({ offset: true }).nullable(),
  /**
   * When a rotated-in secret starts signing: `null` while it waits for the partner's activation
   * call, a time (past or future) once set. Absent on a subscription's first secret, and on
   * secrets written before activation existed: active since `createdAt`.
   */
  activatesAt: z.iso.datetime({ offset: true }).nullable().optional(),
  /** On a pending secret: how long the secret it replaces keeps signing once it activates. */
  replacedGraceSeconds: z.number().int().min(0).optional(),
});
export type StoredSecret = z.infer<typeof storedSecretSchema>;

/**
 * The delivery policy override as stored on the subscription. Its full schema belongs to the
 * delivery-policy domain library, which validates it when a command is accepted; the
 * contract carries it as an opaque JSON object so the two cannot drift apart.
 */
const policyOverrideSchema = z.record(z.string(), z.unknown());

/** The most requests per second an endpoint is sent (first attempts, retries and resends alike). */
export const ENDPOINT_RATE_LIMIT_MAX_PER_SECOND = 10_000;
export const endpointRateLimitSchema = z.strictObject({
  perSecond: z.number().int().min(1).max(ENDPOINT_RATE_LIMIT_MAX_PER_SECOND),
});
export type EndpointRateLimit = z.infer<typeof endpointRateLimitSchema>;

const subscriptionFieldsSchema = z.strictObject({
  url: z.url().max(2_048),
  description: z.string().max(500),
  eventTypes: z.array(eventTypeFilterSchema).min(1).max(200),
  scopeFilter: eventScopeSchema,
  policy: policyOverrideSchema,
  /** Per-key FIFO; absent or null: deliveries are not ordered (ADR 0031). */
  ordering: deliveryOrderingSchema.nullable().optional(),
  /** At most this many requests a second to the endpoint; absent or null: no limit (ADR 0032). */
  rateLimit: endpointRateLimitSchema.nullable().optional(),
});

const eventBase = {
  subscriptionId: identifierSchema,
  organisationId: identifierSchema,
  /** Per-aggregate version: 1 for creation, +1 for each change. Consumers ignore versions they have seen. */
  version: z.number().int().min(1),
  occurredAt: z.iso.datetime({ offset: true }),
};

export const subscriptionEventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...eventBase,
    type: z.literal('SubscriptionCreated'),
    fields: subscriptionFieldsSchema,
    secrets: z.array(storedSecretSchema).min(1).max(5),
    expiresAt: z.iso.datetime({ offset: true }).nullable(),
  }),
  z.strictObject({
    ...eventBase,
    type: z.literal('SubscriptionUpdated'),
    changes: subscriptionFieldsSchema.partial(),
  }),
  z.strictObject({
    ...eventBase,
    type: z.literal('SubscriptionSecretRotated'),
    secrets: z.array(storedSecretSchema).min(1).max(5),
  }),
  z.strictObject({
    ...eventBase,
    type: z.literal('SubscriptionRenewed'),
    expiresAt: z.iso.datetime({ offset: true }),
  }),
  z.strictObject({ ...eventBase, type: z.literal('SubscriptionExpired') }),
  z.strictObject({
    ...eventBase,
    type: z.literal('SubscriptionDisabled'),
    reason: z.enum(['partner', 'circuit-breaker']),
    detail: z.string().max(1_000).nullable(),
  }),
  z.strictObject({ ...eventBase, type: z.literal('SubscriptionEnabled') }),
  z.strictObject({ ...eventBase, type: z.literal('SubscriptionRevoked') }),
  z.strictObject({ ...eventBase, type: z.literal('SubscriptionDeleted') }),
]);

export type SubscriptionEvent = z.infer<typeof subscriptionEventSchema>;
export type SubscriptionEventType = SubscriptionEvent['type'];
export type SubscriptionFields = z.infer<typeof subscriptionFieldsSchema>;

/** Keyed by subscription: one aggregate's events stay in order on one partition. */
export const subscriptionEventContract = defineMessageContract<SubscriptionEvent>({
  topic: KAFKA_TOPICS.subscriptionEvents,
  schemaId: 'subscription-event',
  schemaVersion: 1,
  schema: subscriptionEventSchema,
  keyOf: (event) => event.subscriptionId,
});
