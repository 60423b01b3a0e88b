import { z } from 'zod';
import { eventTypeNameSchema } from './event-type-name';
import { defineMessageContract } from './message-contract';
import { KAFKA_TOPICS } from './topics';

/** Identifiers are opaque to Skyhook but bounded and printable, so they are safe in keys, headers and logs. */
export const identifierSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits and . _ : - only');

export const MAX_SCOPE_KEYS = 16;

/** Scope keys the seeds filter on (`centerId`, `operatorId`, `partnerId`, …); values are identifiers. */
export const eventScopeSchema = z
  .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'scope keys are identifiers'), identifierSchema)
  .refine((scope) => Object.keys(scope).length <= MAX_SCOPE_KEYS, `at most ${MAX_SCOPE_KEYS} scope keys`);

export const inboundEventSchema = z.strictObject({
  id: identifierSchema,
  type: eventTypeNameSchema,
  organisationId: identifierSchema,
  scope: eventScopeSchema.default({}),
  occurredAt: z.iso.datetime({ offset: true }),
  data: z.record(z.string(), z.unknown()),
  /**
   * Set only on test events sent through POST /v1/subscriptions/{id}/test (`webhook.test`, or a
   * catalogue type carrying its example): that one subscription receives it, as a test delivery,
   * through the normal delivery path.
   */
  deliverTo: identifierSchema.optional(),
});

/** The event type of test deliveries; it needs no catalogue entry. */
export const TEST_EVENT_TYPE = 'webhook.test';

export type InboundEvent = z.infer<typeof inboundEventSchema>;

/**
 * A domain event entering Skyhook. Keyed by organisation so one tenant's events are read in
 * the order they were published.
 */
export const inboundEventContract = defineMessageContract<InboundEvent>({
  topic: KAFKA_TOPICS.inboundEvents,
  schemaId: 'inbound-event',
  schemaVersion: 1,
  schema: inboundEventSchema,
  keyOf: (event) => event.organisationId,
});
