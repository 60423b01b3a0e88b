import { CodedError } from '@skyhook/contracts';
/**
 * Errors the API answers with, each bound to one status. Domain errors are mapped onto these
 * once, in ApiExceptionFilter; every code is listed in the OpenAPI document.
 */
export enum ApiErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  MalformedJson = 'MALFORMED_JSON',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  UnknownEventType = 'UNKNOWN_EVENT_TYPE',
  IdempotencyKeyReused = 'IDEMPOTENCY_KEY_REUSED',
  EventIdReused = 'EVENT_ID_REUSED',
  ReplayTooLarge = 'REPLAY_TOO_LARGE',
  ReplayWindowTooLong = 'REPLAY_WINDOW_TOO_LONG',
  KafkaUnavailable = 'KAFKA_UNAVAILABLE',
  DatabaseUnavailable = 'DATABASE_UNAVAILABLE',
  Internal = 'INTERNAL',
}

export const API_ERROR_STATUS: Record<ApiErrorCode, number> = {
  [ApiErrorCode.ValidationFailed]: 400,
  [ApiErrorCode.MalformedJson]: 400,
  [ApiErrorCode.PayloadTooLarge]: 413,
  [ApiErrorCode.UnsupportedMediaType]: 415,
  [ApiErrorCode.Unauthenticated]: 401,
  [ApiErrorCode.Forbidden]: 403,
  [ApiErrorCode.NotFound]: 404,
  [ApiErrorCode.Conflict]: 409,
  [ApiErrorCode.UnknownEventType]: 422,
  [ApiErrorCode.IdempotencyKeyReused]: 422,
  [ApiErrorCode.EventIdReused]: 409,
  [ApiErrorCode.ReplayTooLarge]: 422,
  [ApiErrorCode.ReplayWindowTooLong]: 422,
  [ApiErrorCode.KafkaUnavailable]: 503,
  [ApiErrorCode.DatabaseUnavailable]: 503,
  [ApiErrorCode.Internal]: 500,
};

/**
 * `Retry-After` (seconds) sent with an outage's 503: short, so that a client following it loses
 * little once the dependency is back (a broker is usable within seconds of a restart, and the api
 * reconnects within a second of that). It cannot hammer the broker: a publish answered 503 by
 * Kafka has already waited on the producer's reconnect, up to PUBLISH_KAFKA_TIMEOUT_MS. A
 * database outage is answered at once, so its clients wait a little longer between tries.
 */
export const RETRY_AFTER_SECONDS: Partial<Record<ApiErrorCode, number>> = {
  [ApiErrorCode.KafkaUnavailable]: 1,
  [ApiErrorCode.DatabaseUnavailable]: 2,
};

export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details: unknown };
}

export class ApiError extends CodedError<ApiErrorCode> {
  constructor(
    code: ApiErrorCode,
    message: string,
    /** A finer code (e.g. SUBSCRIPTION_RENEWAL_NOT_OPEN) for clients that branch on it. */
    readonly reason?: string,
    details?: unknown,
  ) {
    super(code, message, details);
  }
}
