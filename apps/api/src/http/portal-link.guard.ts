import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { portalTokenKindOf } from '@skyhook/secrets';
import { ApiError, ApiErrorCode } from './api-error';
import { bearerTokenOf } from './api-key.guard';

/**
 * `Authorization: Bearer <portal link token>` (spl_…), the one credential of opening a portal
 * link. Only the token's shape is checked here; the route opens it (once) or refuses it.
 */
@Injectable()
export class PortalLinkGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    const presented = bearerTokenOf(request.headers['authorization']);
    if (presented === undefined || portalTokenKindOf(presented) !== 'link') {
      throw new ApiError(
        ApiErrorCode.Unauthenticated,
        'send the portal link token: Authorization: Bearer spl_…',
      );
    }
    return true;
  }
}
