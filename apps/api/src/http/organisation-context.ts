import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type Organisation } from '../organisations/organisation.repository';

/** What authenticated a request: an organisation's API key, or a partner portal session. */
export type Credential =
  | { readonly kind: 'api-key'; readonly keyId: string }
  | { readonly kind: 'portal-session'; readonly sessionId: string };

export interface AuthenticatedRequest {
  organisation?: Organisation;
  credential?: Credential;
}

/** The organisation the presented API key belongs to; set by ApiKeyGuard. */
export const CurrentOrganisation = createParamDecorator(
  (_: unknown, context: ExecutionContext): Organisation => {
    const organisation = context.switchToHttp().getRequest<AuthenticatedRequest>().organisation;
    if (organisation === undefined) {
      throw new Error('CurrentOrganisation used on a route without ApiKeyGuard');
    }
    return organisation;
  },
);

/** The credential ApiKeyGuard accepted. */
export const CurrentCredential = createParamDecorator((_: unknown, context: ExecutionContext): Credential => {
  const credential = context.switchToHttp().getRequest<AuthenticatedRequest>().credential;
  if (credential === undefined) {
    throw new Error('CurrentCredential used on a route without ApiKeyGuard');
  }
  return credential;
});
