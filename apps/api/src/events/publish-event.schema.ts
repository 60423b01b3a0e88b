import { z } from 'zod';
import { eventScopeSchema, eventTypeNameSchema, identifierSchema } from '@skyhook/contracts';
import { ZodValidationPipe } from '../http/zod-body.pipe';

/** POST /v1/events: the organisation comes from the API key, never from the body. */
export const publishEventSchema = z.strictObject({
  /** Unique per organisation; publishing the same id again is a no-op. Generated when absent. */
  id: identifierSchema.optional(),
  type: eventTypeNameSchema,
  scope: eventScopeSchema.default({}),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  data: z.record(z.string(), z.unknown()),
});
export type PublishEventRequest = z.infer<typeof publishEventSchema>;

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/** The `Idempotency-Key` header, validated (400 naming the header), or undefined when absent. */
export function idempotencyKeyFromHeader(header: unknown): string | undefined {
  return header === undefined
    ? undefined
    : new ZodValidationPipe(idempotencyKeySchema, 'Idempotency-Key header').transform(header);
}

/** The answer to a publish: accepted (202), or the same event id published before (200, a no-op). */
export const publishAnswerResponseSchema = z.strictObject({
  id: z.string(),
  status: z.enum(['accepted', 'duplicate']),
});

/** The most events one POST /v1/events/batch takes. */
export const MAX_EVENTS_PER_BATCH = 500;

/**
 * POST /v1/events/batch. Each event is validated on its own (a bad one is refused in its result,
 * the others go on), so the envelope only bounds the list.
 */
export const publishEventBatchSchema = z.strictObject({
  events: z.array(z.unknown()).min(1).max(MAX_EVENTS_PER_BATCH),
});
export type PublishEventBatchRequest = z.infer<typeof publishEventBatchSchema>;

/** One event's result in a batch, at the event's index in the request. */
export const publishBatchResultSchema = z.discriminatedUnion('status', [
  z.strictObject({ index: z.number().int(), id: z.string(), status: z.enum(['accepted', 'duplicate']) }),
  z.strictObject({
    index: z.number().int(),
    /** Absent when the event was refused before it had one (an invalid body without an id). */
    id: z.string().optional(),
    status: z.literal('rejected'),
    error: z.strictObject({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  }),
]);
export type PublishBatchResult = z.infer<typeof publishBatchResultSchema>;

export const publishBatchResponseSchema = z.strictObject({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.number().int(),
  results: z.array(publishBatchResultSchema),
});
export type PublishBatchResponse = z.infer<typeof publishBatchResponseSchema>;
