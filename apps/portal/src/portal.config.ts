import { z } from 'zod';
import {
  loadEnvironmentConfig,
  serviceEnvironmentSchema,
  type ServiceEnvironment,
} from '@skyhook/service-runtime';

const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');

const portalEnvironmentSchema = serviceEnvironmentSchema
  .extend({ PORT: serviceEnvironmentSchema.shape.PORT.default(3100) })
  .extend({
    /** The api the portal acts through, for the partner's organisation only (its session token). */
    SKYHOOK_API_URL: z
      .url({ protocol: /^https?$/ })
      .default('http://127.0.0.1:3000')
      .transform((url) => url.replace(/\/+$/, '')),
    /**
     * The session cookie is `Secure` unless this is false (browsers keep Secure cookies over plain
     * http only on localhost). Never false in production.
     */
    PORTAL_COOKIE_SECURE: booleanFlag.default(true),
    /**
     * Origins allowed to frame the portal (a partner's own product), space-separated, e.g.
     * `https://app.partner.example`; empty: no one may (`frame-ancestors 'none'`). When set, the
     * session cookie is SameSite=None so that it reaches the portal inside the frame.
     */
    PORTAL_FRAME_ANCESTORS: z
      .string()
      .default('')
      .transform((value) => value.split(/\s+/).filter((origin) => origin !== ''))
      .pipe(z.array(z.url({ protocol: /^https?$/ }))),
    /** The theme: the name in the header, an https logo, the accent colour (#rrggbb). */
    PORTAL_BRAND_NAME: z.string().min(1).max(60).default('Skyhook'),
    PORTAL_LOGO_URL: z.url({ protocol: /^https$/ }).optional(),
    PORTAL_ACCENT_COLOUR: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, 'must be #rrggbb')
      .default('#1d4ed8'),
  });

export type PortalConfig = ServiceEnvironment & z.infer<typeof portalEnvironmentSchema>;

export const PORTAL_CONFIG = Symbol('PORTAL_CONFIG');

export function loadPortalConfig(environment: NodeJS.ProcessEnv = process.env): PortalConfig {
  const config = loadEnvironmentConfig(portalEnvironmentSchema, environment);
  if (config.NODE_ENV === 'production' && !config.PORTAL_COOKIE_SECURE) {
    throw new Error('PORTAL_COOKIE_SECURE=false is refused in production');
  }
  return config;
}
