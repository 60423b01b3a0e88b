import { hash } from 'node:crypto';
import { z } from 'zod';
import { eventTypeNameSchema } from './event-type-name';
import { eventScopeSchema, identifierSchema } from './inbound-event.contract';
import { defineMessageContract } from './message-contract';
import { KAFKA_TOPICS } from './topics';

/**
 * One event for one subscription. Keyed by subscription (= endpoint), so one endpoint's
 * deliveries stay in order on one partition and its circuit breaker lives in one place.
 */
export const deliveryRequestSchema = z.strictObject({
  deliveryId: identifierSchema,
  subscriptionId: identifierSchema,
  organisationId: identifierSchema,
  event: z.strictObject({
    id: identifierSchema,
    type: eventTypeNameSchema,
    scope: eventScopeSchema,
    occurredAt: z.iso.datetime({ offset: true }),
    data: z.record(z.string(), z.unknown()),
  }),
  /** When the event entered Skyhook (the inbound record's timestamp): publish-to-delivery latency starts here. */
  publishedAt: z.iso.datetime({ offset: true }),
  /** The subscription was disabled with the `hold` policy: keep the delivery for replay instead of sending. */
  held: z.boolean(),
  test: z.boolean(),
  /**
   * Set for a subscription with per-key ordering: the event's value at its ordering pointer.
   * Such a request travels the ordered topic and waits for the one before it of the same key.
   */
  orderingKey: z.string().max(300).optional(),
});

export type DeliveryRequest = z.infer<typeof deliveryRequestSchema>;

export const deliveryRequestContract = defineMessageContract<DeliveryRequest>({
  topic: KAFKA_TOPICS.deliveryRequests,
  schemaId: 'delivery-request',
  schemaVersion: 1,
  schema: deliveryRequestSchema,
  keyOf: (request) => request.subscriptionId,
});

/**
 * The same event and subscription always give the same delivery id, across restarts and
 * replays, so receivers can de-duplicate on it.
 */
export function deliveryIdOf(organisationId: string, eventId: string, subscriptionId: string): string {
  // One-shot hashing: fan-out computes one id per match, and a Hash object per id cost 1.1-1.5 µs
  // against 0.4 µs. Same digest, so the same ids as ever.
  const digest = hash('sha256', `${organisationId}\u0000${eventId}\u0000${subscriptionId}`, 'base64url');
  return `del_${digest.slice(0, 26)}`;
}
