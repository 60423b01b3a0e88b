import { z } from 'zod';
import { DELIVERY_STATUSES, type DeliveryStatus, eventTypeNameSchema } from '@skyhook/contracts';

export { DELIVERY_STATUSES, type DeliveryStatus };

export const DELIVERY_PAGE_LIMIT_MAX = 200;

/**
 * An ISO 8601 date-time with an offset, from 1970 on: the database refuses some instants the
 * format allows (year 0), and nothing in the history is older anyway.
 */
export const instantSchema = z.iso
  .datetime({ offset: true })
  .refine((value) => Date.parse(value) >= 0, 'must be 1970-01-01T00:00:00Z or later');

/**
 * `status=failed&status=dropped` (the parameter repeated) or `status=failed,dropped`; each value
 * one of the five statuses.
 */
const statusFilterSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((raw) =>
    (Array.isArray(raw) ? raw : [raw]).flatMap((value) => value.split(',')).map((value) => value.trim()),
  )
  .pipe(z.array(z.enum(DELIVERY_STATUSES)).min(1).max(DELIVERY_STATUSES.length))
  .transform((statuses) => [...new Set(statuses)])
  .meta({
    description: `One or more of ${DELIVERY_STATUSES.join(', ')}: repeat the parameter or separate values with commas.`,
  });

export const listDeliveriesQuerySchema = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(DELIVERY_PAGE_LIMIT_MAX).default(50),
    cursor: z.string().max(500).optional(),
    status: statusFilterSchema.optional(),
    eventType: eventTypeNameSchema.optional(),
    /** Published at or after this instant. */
    since: instantSchema.optional().meta({ description: 'Published at or after (ISO 8601).' }),
    /** Published before this instant. */
    until: instantSchema.optional().meta({ description: 'Published before (ISO 8601); not before since.' }),
  })
  .refine(
    (query) =>
      query.since === undefined ||
      query.until === undefined ||
      Date.parse(query.since) <= Date.parse(query.until),
    { message: 'until must not be before since', path: ['until'] },
  );
export type ListDeliveriesQuery = z.infer<typeof listDeliveriesQuerySchema>;
