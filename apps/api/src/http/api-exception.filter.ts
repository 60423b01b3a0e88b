import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Inject,
  ServiceUnavailableException,
} from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { KafkaSendFailedError } from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { isDatabaseUnavailableError } from '@skyhook/persistence';
import { SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import {
  API_ERROR_STATUS,
  ApiError,
  ApiErrorCode,
  type ApiErrorBody,
  RETRY_AFTER_SECONDS,
} from './api-error';
import { domainErrorToApiError } from './domain-error-mapping';

const SUBSCRIPTION_ERROR_CODES: Record<SubscriptionErrorCode, ApiErrorCode> = {
  [SubscriptionErrorCode.NotFound]: ApiErrorCode.NotFound,
  [SubscriptionErrorCode.VersionConflict]: ApiErrorCode.Conflict,
  [SubscriptionErrorCode.InvalidTransition]: ApiErrorCode.Conflict,
  [SubscriptionErrorCode.RenewalNotOpen]: ApiErrorCode.Conflict,
  [SubscriptionErrorCode.RenewalNotApplicable]: ApiErrorCode.Conflict,
  [SubscriptionErrorCode.TooManySecrets]: ApiErrorCode.Conflict,
  [SubscriptionErrorCode.SecretNotFound]: ApiErrorCode.NotFound,
  [SubscriptionErrorCode.InvalidSecretActivation]: ApiErrorCode.Conflict,
  [SubscriptionErrorCode.UnknownEventTypes]: ApiErrorCode.UnknownEventType,
};

const HTTP_STATUS_CODES: Record<number, ApiErrorCode> = {
  400: ApiErrorCode.ValidationFailed,
  401: ApiErrorCode.Unauthenticated,
  404: ApiErrorCode.NotFound,
  409: ApiErrorCode.Conflict,
  413: ApiErrorCode.PayloadTooLarge,
  415: ApiErrorCode.UnsupportedMediaType,
};

/** The one place errors become HTTP: a status and `{ error: { code, message, details } }`. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(@Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const readiness = notReadyReport(exception);
    if (readiness !== undefined) {
      // Readiness speaks the health-check format every service answers (probes and the
      // operators' tools read which check is down from it), not the API's error body.
      void reply.status(503).send(readiness);
      return;
    }
    const apiError = this.toApiError(exception);
    const status = API_ERROR_STATUS[apiError.code];
    const retryAfter = RETRY_AFTER_SECONDS[apiError.code];
    if (retryAfter !== undefined) {
      // An outage: expected to happen, and said by readiness too; one line per request, without
      // the stack, keeps the log readable while it lasts.
      this.logger.warn(
        { code: apiError.code, reason: describe(exception) },
        'request failed: dependency unavailable',
      );
      void reply.header('retry-after', String(retryAfter));
    } else if (status >= 500) {
      this.logger.error({ err: exception }, 'request failed');
    }
    const body: ApiErrorBody = {
      error: {
        code: apiError.reason ?? apiError.code,
        message: apiError.message,
        // Always there, so clients read one shape: empty when there is nothing to add.
        details: apiError.details ?? {},
      },
    };
    void reply.status(status).send(body);
  }

  private toApiError(exception: unknown): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof SubscriptionError) {
      return new ApiError(
        SUBSCRIPTION_ERROR_CODES[exception.code],
        exception.message,
        exception.code,
        exception.details,
      );
    }
    const mapped = domainErrorToApiError(exception);
    if (mapped !== undefined) return mapped;
    // The broker (or its connection) failed: the request's transaction rolled back, and the same
    // request may simply be retried. A send whose outcome is unknown (`KafkaSendFailedError`:
    // every Skyhook producer's failure) may have been stored, so a retry may repeat its record,
    // under the same ids.
    if (
      exception instanceof KafkaSendFailedError ||
      (exception instanceof Error && exception.name.startsWith('KafkaJS'))
    ) {
      return new ApiError(
        ApiErrorCode.KafkaUnavailable,
        'the event log is unavailable; nothing was recorded, retry later',
      );
    }
    // Unreachable, shutting down or not answering within the pool's and statements' bounds: a
    // request that needs PostgreSQL cannot be served now, and may be retried as it was.
    if (isDatabaseUnavailableError(exception)) {
      return new ApiError(ApiErrorCode.DatabaseUnavailable, 'the database is unavailable; retry later');
    }
    // Body parsing (JSON syntax, size, media type) fails in Fastify before any handler runs;
    // those errors carry a status code, some wrapped by Nest as HttpExceptions.
    const parsingError = exception as { statusCode?: number; code?: string; message?: string };
    const status = exception instanceof HttpException ? exception.getStatus() : parsingError.statusCode;
    if (typeof status === 'number' && status < 500) {
      const message =
        status === 415
          ? 'request bodies must be JSON, sent with Content-Type: application/json'
          : (parsingError.message ?? 'bad request');
      const code =
        status === 400 && /JSON/i.test(`${parsingError.code ?? ''} ${message}`)
          ? ApiErrorCode.MalformedJson
          : (HTTP_STATUS_CODES[status] ?? ApiErrorCode.ValidationFailed);
      return new ApiError(code, message);
    }
    return new ApiError(ApiErrorCode.Internal, 'internal error');
  }
}

/** Terminus' report (`{ status: 'error', info, error, details }`) when a readiness check failed. */
function notReadyReport(exception: unknown): object | undefined {
  if (!(exception instanceof ServiceUnavailableException)) return undefined;
  const response = exception.getResponse();
  return typeof response === 'object' && (response as { status?: unknown }).status === 'error'
    ? response
    : undefined;
}

function describe(exception: unknown): string {
  return exception instanceof Error ? `${exception.name}: ${exception.message}` : String(exception);
}
