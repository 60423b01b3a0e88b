import { z } from 'zod';
import {
  DELIVERY_STATUSES,
  type DeliveryStatus,
  instantSchema,
} from '../deliveries/delivery-history.schemas';

/** What a replay resends when the request names no statuses: what never reached the endpoint. */
export const DEFAULT_REPLAY_STATUSES: readonly DeliveryStatus[] = ['failed', 'dropped', 'held'];

/**
 * POST /v1/subscriptions/{id}/replay. Defaults are applied by the use case, not here, so the
 * idempotency fingerprint is of what the caller sent (an absent `until` means "now", whenever
 * that is).
 */
export const startReplaySchema = z
  .strictObject({
    /** Deliveries published at or after this instant. */
    since: instantSchema,
    /** Published before this instant; default: now. */
    until: instantSchema.optional(),
    statuses: z
      .array(z.enum(DELIVERY_STATUSES))
      .min(1)
      .max(DELIVERY_STATUSES.length)
      .refine((statuses) => new Set(statuses).size === statuses.length, 'statuses must not repeat')
      .optional(),
  })
  .refine((body) => body.until === undefined || Date.parse(body.since) < Date.parse(body.until), {
    message: 'until must be after since',
    path: ['until'],
  });
export type StartReplayRequest = z.infer<typeof startReplaySchema>;

export const listReplaysQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
});
export type ListReplaysQuery = z.infer<typeof listReplaysQuerySchema>;
