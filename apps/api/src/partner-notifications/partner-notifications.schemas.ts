import { z } from 'zod';
import { identifierSchema, PARTNER_NOTIFICATION_TYPES } from '@skyhook/contracts';
import { instantSchema } from '../deliveries/delivery-history.schemas';

export const PARTNER_NOTIFICATION_PAGE_MAX = 100;

export const listPartnerNotificationsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(PARTNER_NOTIFICATION_PAGE_MAX).default(20),
  since: instantSchema.optional().meta({
    description: 'Notifications at or after this instant (ISO 8601); by default the last 7 days.',
  }),
  type: z
    .union([z.string(), z.array(z.string())])
    .transform((raw) => (Array.isArray(raw) ? raw : [raw]).flatMap((value) => value.split(',')))
    .pipe(z.array(z.enum(PARTNER_NOTIFICATION_TYPES as [string, ...string[]])).min(1))
    .optional()
    .meta({ description: 'One or more notification types: repeat the parameter or separate with commas.' }),
  subscriptionId: identifierSchema.optional(),
});
export type ListPartnerNotificationsQuery = z.infer<typeof listPartnerNotificationsQuerySchema>;

export const partnerNotificationResponseSchema = z.strictObject({
  id: z.string().meta({ description: 'The event id its deliveries carry.' }),
  type: z.enum(PARTNER_NOTIFICATION_TYPES as [string, ...string[]]),
  subscriptionId: z.string().meta({ description: 'The subscription it is about.' }),
  occurredAt: z.iso.datetime({ offset: true }),
  data: z.record(z.string(), z.unknown()).meta({
    description: "The notification's data, as its type's schema in GET /v1/event-types describes.",
  }),
});

export const partnerNotificationListResponseSchema = z.strictObject({
  data: z.array(partnerNotificationResponseSchema),
});
