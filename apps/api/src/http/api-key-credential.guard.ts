import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { ApiError, ApiErrorCode } from './api-error';
import { type AuthenticatedRequest } from './organisation-context';

/**
 * After ApiKeyGuard, on routes a portal session must not use: publishing events and changing the
 * catalogue are the organisation's systems' work, not a partner's in the portal, so a session
 * token (a browser cookie, shorter-lived and more exposed than a key) cannot do them.
 */
@Injectable()
export class ApiKeyCredentialGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const credential = context.switchToHttp().getRequest<AuthenticatedRequest>().credential;
    if (credential?.kind !== 'api-key') {
      throw new ApiError(
        ApiErrorCode.Forbidden,
        'this route takes an API key; a portal session cannot use it',
      );
    }
    return true;
  }
}
