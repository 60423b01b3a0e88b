import { z } from 'zod';

const organisationSettingsSchema = {
  name: z.string().min(1).max(200),
  /** null: subscriptions never expire (the default). */
  subscriptionLifetimeDays: z.number().int().min(1).max(3650).nullable(),
  renewalWindowDays: z.number().int().min(0).max(365),
  defaultPolicy: z.record(z.string(), z.unknown()),
};

export const organisationCreationSchema = z.strictObject({
  name: organisationSettingsSchema.name,
  subscriptionLifetimeDays: organisationSettingsSchema.subscriptionLifetimeDays.default(null),
  renewalWindowDays: organisationSettingsSchema.renewalWindowDays.default(5),
  defaultPolicy: organisationSettingsSchema.defaultPolicy.default({}),
});
export type CreateOrganisationRequest = z.infer<typeof organisationCreationSchema>;

export const organisationUpdateSchema = z.strictObject({
  name: organisationSettingsSchema.name.optional(),
  subscriptionLifetimeDays: organisationSettingsSchema.subscriptionLifetimeDays.optional(),
  renewalWindowDays: organisationSettingsSchema.renewalWindowDays.optional(),
  defaultPolicy: organisationSettingsSchema.defaultPolicy.optional(),
});
export type UpdateOrganisationRequest = z.infer<typeof organisationUpdateSchema>;

export const apiKeyCreationSchema = z.strictObject({ label: z.string().max(200).default('') });

export type CreateApiKeyRequest = z.infer<typeof apiKeyCreationSchema>;
