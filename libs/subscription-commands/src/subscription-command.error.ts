import { CodedError } from '@skyhook/contracts';

export enum SubscriptionInputErrorCode {
  /** The input does not fit the organisation or the subscription (400). */
  Invalid = 'VALIDATION_FAILED',
  /** A per-tenant profile's subscription without the scope filter on its tenant key (400). */
  ScopeFilterRequired = 'SCOPE_FILTER_REQUIRED',
  /** A test event of a type the catalogue does not have (422). */
  UnknownEventType = 'UNKNOWN_EVENT_TYPE',
}

/**
 * Input a command refuses before the aggregate is asked: the caller's mistake, answered at the
 * api's edge with the code's status. `details` say which field, as the api's validation does.
 */
export class SubscriptionInputError extends CodedError<SubscriptionInputErrorCode> {
  constructor(code: SubscriptionInputErrorCode, message: string, details?: unknown) {
    super(code, message, details);
  }
}
