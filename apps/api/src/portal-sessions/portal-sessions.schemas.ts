import { z } from 'zod';

export const portalLinkRequestSchema = z.strictObject({
  /** Minutes the link may wait to be opened; PORTAL_LINK_MINUTES when absent. */
  linkLifetimeMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .optional(),
});
export type PortalLinkRequest = z.infer<typeof portalLinkRequestSchema>;

export const portalLinkResponseSchema = z.strictObject({
  id: z.string().describe('The portal session the link opens (psn_…).'),
  url: z
    .string()
    .describe('Open once, before linkExpiresAt; holds a single-use token, so hand it over privately.'),
  linkExpiresAt: z.iso.datetime(),
});

export const openedPortalSessionResponseSchema = z.strictObject({
  id: z.string(),
  sessionToken: z.string().describe('Acts for the organisation like an API key until expiresAt (sps_…).'),
  expiresAt: z.iso.datetime(),
  organisation: z.strictObject({ id: z.string(), name: z.string() }),
});

export const currentPortalSessionResponseSchema = z.strictObject({
  id: z.string(),
  expiresAt: z.iso.datetime(),
  organisation: z.strictObject({ id: z.string(), name: z.string() }),
});
