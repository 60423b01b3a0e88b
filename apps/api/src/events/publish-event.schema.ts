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
