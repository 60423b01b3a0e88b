import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { constantTimeEqual } from '@skyhook/secrets';
import { API_CONFIG, type ApiConfig } from '../api.config';
import { ApiError, ApiErrorCode } from './api-error';
import { bearerTokenOf } from './api-key.guard';

/** Operators' API: `Authorization: Bearer <SKYHOOK_ADMIN_TOKEN>`; off when no token is configured. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.SKYHOOK_ADMIN_TOKEN;
    if (expected === undefined) {
      throw new ApiError(
        ApiErrorCode.Unauthenticated,
        'the admin API is disabled: set SKYHOOK_ADMIN_TOKEN to enable it',
      );
    }
    const request = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    const presented = bearerTokenOf(request.headers['authorization']);
    if (presented === undefined || !constantTimeEqual(presented, expected)) {
      throw new ApiError(ApiErrorCode.Unauthenticated, 'missing or invalid admin token');
    }
    return true;
  }
}
