import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type PortalConfig } from './portal.config';

export const SESSION_COOKIE = 'skyhook_portal';
export const NOTICE_COOKIE = 'skyhook_portal_notice';

/**
 * How the portal's cookies are set: HttpOnly, Secure (PORTAL_COOKIE_SECURE), SameSite=Lax — or
 * None and Partitioned when the portal may be framed by another site (PORTAL_FRAME_ANCESTORS), as a
 * cookie that is Lax is not sent to a frame on another site.
 */
export function cookieOptions(config: PortalConfig) {
  const framed = config.PORTAL_FRAME_ANCESTORS.length > 0;
  return {
    path: '/',
    httpOnly: true,
    secure: config.PORTAL_COOKIE_SECURE || framed,
    sameSite: framed ? ('none' as const) : ('lax' as const),
    // Framed, the cookie is a third-party one, which browsers block more and more; a partitioned
    // cookie (CHIPS) is kept per embedding site instead, and is what they let through.
    ...(framed ? { partitioned: true } : {}),
  };
}

/**
 * Forms, cookies and CSRF protection for the portal's Fastify, before its routes exist:
 * - `application/x-www-form-urlencoded` bodies (the services accept JSON only; the portal's pages
 *   post forms);
 * - @fastify/csrf-protection on every POST: a secret in an HttpOnly cookie and a token in each
 *   form (`_csrf`), checked before the handler runs; a forged or replayed post is refused 403;
 * - headers: a CSP without script (the pages run none), `frame-ancestors` from
 *   PORTAL_FRAME_ANCESTORS, no referrer (a portal link carries its token in the URL), nosniff.
 */
export async function configurePortalHttp(app: NestFastifyApplication, config: PortalConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.register(fastifyCookie);
  await fastify.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
  await fastify.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'skyhook_portal_csrf',
    cookieOpts: cookieOptions(config),
  });
  const frameAncestors =
    config.PORTAL_FRAME_ANCESTORS.length === 0 ? "'none'" : config.PORTAL_FRAME_ANCESTORS.join(' ');
  const logoOrigin = config.PORTAL_LOGO_URL === undefined ? '' : ` ${new URL(config.PORTAL_LOGO_URL).origin}`;
  const policy = [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `img-src 'self'${logoOrigin}`,
    "form-action 'self'",
    "base-uri 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.header('content-security-policy', policy);
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('cache-control', 'no-store');
    done();
  });
  fastify.addHook('preHandler', (request, reply, done) => {
    if (request.method !== 'POST') {
      done();
      return;
    }
    fastify.csrfProtection(request, reply, done);
  });
}
