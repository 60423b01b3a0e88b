import { z } from 'zod';
import { deliveryRequestSchema } from './delivery-request.contract';
import { defineMessageContract } from './message-contract';
import { KAFKA_TOPICS } from './topics';

/**
 * A delivery its endpoint could not take soon (its queue was full, or the delivery waited there
 * the longest allowed), or whose organisation already has a backlog waiting for the dispatcher
 * (`organisation-backlog`, ADR 0032), handed to the parked topic instead of holding its record —
 * and with it every other endpoint of the partition. Nothing was sent for this attempt yet.
 */
export const parkedDeliverySchema = z.strictObject({
  request: deliveryRequestSchema,
  /** The attempt to make next: 1 for a request never tried, or the retry's number. */
  attemptNumber: z.number().int().min(1),
  parkedAt: z.iso.datetime({ offset: true }),
  reason: z.enum(['queue-full', 'queue-wait', 'organisation-backlog']),
  /**
   * The record it was parked from came to this dispatcher as possibly handled before (an earlier
   * dispatcher stopped without recording it): the attempt made from the parked record says so.
   */
  afterUnknownOutcome: z.boolean().optional(),
});

export type ParkedDelivery = z.infer<typeof parkedDeliverySchema>;

export const parkedDeliveryContract = defineMessageContract<ParkedDelivery>({
  topic: KAFKA_TOPICS.deliveryParked,
  schemaId: 'parked-delivery',
  schemaVersion: 1,
  schema: parkedDeliverySchema,
  // Keyed by endpoint like the requests: one endpoint's parked work stays on one partition.
  keyOf: (parked) => parked.request.subscriptionId,
});
