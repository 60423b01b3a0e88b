import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { apiKeyMatches, parseApiKey, portalTokenKindOf, SecretsError } from '@skyhook/secrets';
import { OrganisationRepository } from '../organisations/organisation.repository';
import { PortalSessionRepository } from '../portal-sessions/portal-session.repository';
import { ApiError, ApiErrorCode } from './api-error';
import { type AuthenticatedRequest } from './organisation-context';

/**
 * `Authorization: Bearer <organisation API key>`, or the session token of a partner portal
 * session (ADR 0029), which acts for its organisation like a key. Every failure answers the same
 * 401, so a caller learns nothing about which keys or sessions exist.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly organisations: OrganisationRepository,
    private readonly portalSessions: PortalSessionRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<AuthenticatedRequest & { headers: Record<string, unknown> }>();
    const presented = bearerTokenOf(request.headers['authorization']);
    if (presented === undefined) throw unauthenticated();
    if (portalTokenKindOf(presented) === 'session') {
      const session = await this.portalSessions.findActive(presented);
      if (session === undefined) throw unauthenticated();
      request.organisation = session.organisation;
      request.credential = { kind: 'portal-session', sessionId: session.id };
      return true;
    }
    let publicId: string;
    try {
      publicId = parseApiKey(presented).publicId;
    } catch (error) {
      if (error instanceof SecretsError) throw unauthenticated();
      throw error;
    }
    const found = await this.organisations.findActiveApiKeyWithOrganisation(publicId);
    if (found === undefined || !apiKeyMatches(presented, found.keyHash)) throw unauthenticated();
    request.organisation = found.organisation;
    request.credential = { kind: 'api-key', keyId: publicId };
    return true;
  }
}

/**
 * Made only when refused: an error captures its stack when built, which cost 2 % of the api's CPU
 * per publish when one was built for every request (bench/RESULTS.md, "Ingest").
 */
function unauthenticated(): ApiError {
  return new ApiError(
    ApiErrorCode.Unauthenticated,
    'missing or invalid API key: send Authorization: Bearer <key>',
  );
}

export function bearerTokenOf(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
