import { EventDataTooLargeError } from '@skyhook/contracts';
import { RedeliveryRefusedError } from '@skyhook/delivery';
import { DeliveryPolicyError } from '@skyhook/delivery-policy';
import { SecretsError } from '@skyhook/secrets';
import { SubscriptionInputError, SubscriptionInputErrorCode } from '@skyhook/subscription-commands';
import { UrlPolicyViolation } from '@skyhook/url-policy';
import { ApiError, ApiErrorCode } from './api-error';

/**
 * Errors of the domain libraries, each as the answer it gets: input a library rejects is the
 * caller's mistake (400, with the library's own code); a delivery that cannot be sent again is a
 * conflict with the subscription's state (409).
 */
export function domainErrorToApiError(error: unknown): ApiError | undefined {
  if (error instanceof UrlPolicyViolation) {
    return new ApiError(ApiErrorCode.ValidationFailed, error.message, error.code, { field: 'url' });
  }
  if (error instanceof DeliveryPolicyError) {
    return new ApiError(ApiErrorCode.ValidationFailed, error.message, error.code, error.issues);
  }
  if (error instanceof RedeliveryRefusedError) {
    // Not the caller's input: the subscription's state refuses it (409, saying what to do).
    return new ApiError(ApiErrorCode.Conflict, error.message, error.code, error.details);
  }
  if (error instanceof SubscriptionInputError) {
    switch (error.code) {
      case SubscriptionInputErrorCode.Invalid:
        return new ApiError(ApiErrorCode.ValidationFailed, error.message, undefined, error.details);
      case SubscriptionInputErrorCode.ScopeFilterRequired:
        return new ApiError(ApiErrorCode.ValidationFailed, error.message, error.code, error.details);
      case SubscriptionInputErrorCode.UnknownEventType:
        return new ApiError(ApiErrorCode.UnknownEventType, error.message, undefined, error.details);
    }
  }
  if (error instanceof EventDataTooLargeError) {
    return new ApiError(ApiErrorCode.PayloadTooLarge, error.message);
  }
  if (error instanceof SecretsError) {
    return new ApiError(ApiErrorCode.ValidationFailed, error.message, error.code, { field: 'secret' });
  }
  return undefined;
}
