import { CodedError } from '@skyhook/contracts';
export enum SubscriptionErrorCode {
  NotFound = 'SUBSCRIPTION_NOT_FOUND',
  VersionConflict = 'SUBSCRIPTION_VERSION_CONFLICT',
  InvalidTransition = 'SUBSCRIPTION_INVALID_TRANSITION',
  RenewalNotOpen = 'SUBSCRIPTION_RENEWAL_NOT_OPEN',
  RenewalNotApplicable = 'SUBSCRIPTION_RENEWAL_NOT_APPLICABLE',
  UnknownEventTypes = 'SUBSCRIPTION_UNKNOWN_EVENT_TYPES',
  TooManySecrets = 'SUBSCRIPTION_TOO_MANY_SECRETS',
  SecretNotFound = 'SUBSCRIPTION_SECRET_NOT_FOUND',
  InvalidSecretActivation = 'SUBSCRIPTION_INVALID_SECRET_ACTIVATION',
}

/** A command the aggregate refuses; the API maps each code to one HTTP status at its edge. */
export class SubscriptionError extends CodedError<SubscriptionErrorCode, Readonly<Record<string, unknown>>> {
  constructor(code: SubscriptionErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}) {
    super(code, message, details);
  }
}
