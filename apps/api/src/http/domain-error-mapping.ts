import { DeliveryPolicyError } from '@skyhook/delivery-policy';
import { SecretsError } from '@skyhook/secrets';
import { UrlPolicyViolation } from '@skyhook/url-policy';
import { ApiError, ApiErrorCode } from './api-error';

/** Input rejected by a domain library is the caller's mistake: 400, with the library's own code. */
export function domainErrorToApiError(error: unknown): ApiError | undefined {
  if (error instanceof UrlPolicyViolation) {
    return new ApiError(ApiErrorCode.ValidationFailed, error.message, error.code, { field: 'url' });
  }
  if (error instanceof DeliveryPolicyError) {
    return new ApiError(ApiErrorCode.ValidationFailed, error.message, error.code, error.issues);
  }
  if (error instanceof SecretsError) {
    return new ApiError(ApiErrorCode.ValidationFailed, error.message, error.code, { field: 'secret' });
  }
  return undefined;
}
