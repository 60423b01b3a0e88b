import { createHash, randomBytes } from 'node:crypto';

/**
 * Partner portal credentials (ADR 0029): a single-use link token (`spl_…`, in the URL an
 * organisation hands out) and the session token it is exchanged for (`sps_…`, in the portal's
 * HttpOnly cookie). Both are 32 random bytes: stored as SHA-256 only, which suffices for tokens
 * of that entropy (nothing to guess, so no slow hash is needed), and looked up by that hash.
 */
export const PORTAL_TOKEN_PREFIXES = { link: 'spl_', session: 'sps_' } as const;

export type PortalTokenKind = keyof typeof PORTAL_TOKEN_PREFIXES;

const TOKEN_BODY = /^[A-Za-z0-9_-]{43}$/;

export interface GeneratedPortalToken {
  /** Given out once. */
  readonly token: string;
  /** What is stored. */
  readonly hash: string;
}

export function generatePortalToken(kind: PortalTokenKind): GeneratedPortalToken {
  const token = `${PORTAL_TOKEN_PREFIXES[kind]}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashPortalToken(token) };
}

export function hashPortalToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Which kind of portal token `presented` is shaped as, or undefined for anything else. */
export function portalTokenKindOf(presented: string): PortalTokenKind | undefined {
  for (const kind of ['link', 'session'] as const) {
    const prefix = PORTAL_TOKEN_PREFIXES[kind];
    if (presented.startsWith(prefix) && TOKEN_BODY.test(presented.slice(prefix.length))) return kind;
  }
  return undefined;
}
