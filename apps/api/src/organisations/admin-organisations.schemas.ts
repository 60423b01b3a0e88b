import { z } from 'zod';
import { DELIVERY_PROFILE_NAMES } from '@skyhook/delivery-policy';

const organisationSettingsSchema = {
  name: z.string().min(1).max(200),
  /** The named contract (delivery profile) the organisation's default policy builds on. */
  profile: z.enum(DELIVERY_PROFILE_NAMES),
  /** null: subscriptions never expire (unless the other unit is set). */
  subscriptionLifetimeDays: z.number().int().min(1).max(3650).nullable(),
  /** Calendar months (FL3XX: "1 month"); null: see subscriptionLifetimeDays. */
  subscriptionLifetimeMonths: z.number().int().min(1).max(120).nullable(),
  renewalWindowDays: z.number().int().min(0).max(365),
  defaultPolicy: z.record(z.string(), z.unknown()),
};

/** A lifetime is counted in one unit: days and months together would be ambiguous. */
function oneLifetimeUnit(body: {
  subscriptionLifetimeDays?: number | null | undefined;
  subscriptionLifetimeMonths?: number | null | undefined;
}): boolean {
  return (
    body.subscriptionLifetimeDays === undefined ||
    body.subscriptionLifetimeDays === null ||
    body.subscriptionLifetimeMonths === undefined ||
    body.subscriptionLifetimeMonths === null
  );
}
const ONE_LIFETIME_UNIT = {
  message: 'give subscriptionLifetimeDays or subscriptionLifetimeMonths, not both',
  path: ['subscriptionLifetimeMonths'],
};

/**
 * Lifetimes and the renewal window left out are taken from the profile's subscription rules
 * (FL3XX: one month, renewable 5 days ahead); `null` says "never expires" explicitly.
 */
export const organisationCreationSchema = z
  .strictObject({
    name: organisationSettingsSchema.name,
    profile: organisationSettingsSchema.profile.default('standard-webhooks'),
    subscriptionLifetimeDays: organisationSettingsSchema.subscriptionLifetimeDays.optional(),
    subscriptionLifetimeMonths: organisationSettingsSchema.subscriptionLifetimeMonths.optional(),
    renewalWindowDays: organisationSettingsSchema.renewalWindowDays.optional(),
    defaultPolicy: organisationSettingsSchema.defaultPolicy.default({}),
  })
  .refine(oneLifetimeUnit, ONE_LIFETIME_UNIT);
export type CreateOrganisationRequest = z.infer<typeof organisationCreationSchema>;

/** Changing `profile` adopts its subscription rules too, except those given alongside. */
export const organisationUpdateSchema = z
  .strictObject({
    name: organisationSettingsSchema.name.optional(),
    profile: organisationSettingsSchema.profile.optional(),
    subscriptionLifetimeDays: organisationSettingsSchema.subscriptionLifetimeDays.optional(),
    subscriptionLifetimeMonths: organisationSettingsSchema.subscriptionLifetimeMonths.optional(),
    renewalWindowDays: organisationSettingsSchema.renewalWindowDays.optional(),
    defaultPolicy: organisationSettingsSchema.defaultPolicy.optional(),
  })
  .refine(oneLifetimeUnit, ONE_LIFETIME_UNIT);
export type UpdateOrganisationRequest = z.infer<typeof organisationUpdateSchema>;

export const apiKeyCreationSchema = z.strictObject({ label: z.string().max(200).default('') });

export type CreateApiKeyRequest = z.infer<typeof apiKeyCreationSchema>;

export const organisationResponseSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  profile: z.enum(DELIVERY_PROFILE_NAMES).meta({ description: 'The delivery profile under defaultPolicy.' }),
  subscriptionLifetimeDays: z.number().int().nullable(),
  subscriptionLifetimeMonths: z
    .number()
    .int()
    .nullable()
    .meta({ description: 'At most one of the lifetimes is set; neither: subscriptions never expire.' }),
  renewalWindowDays: z.number().int(),
  defaultPolicy: z.record(z.string(), z.unknown()),
  createdAt: z.iso.datetime({ offset: true }),
});

export const issuedApiKeyResponseSchema = z.strictObject({
  id: z.string(),
  apiKey: z.string().meta({ description: 'Shown once; only its hash is stored.' }),
});

export const createdOrganisationResponseSchema = issuedApiKeyResponseSchema.extend({
  organisation: organisationResponseSchema,
});

export const organisationsResponseSchema = z.strictObject({ data: z.array(organisationResponseSchema) });
