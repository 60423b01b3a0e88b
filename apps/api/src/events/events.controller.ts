import { Body, Controller, Headers, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { ApiKeyGuard } from '../http/api-key.guard';
import { ApiKeyCredentialGuard } from '../http/api-key-credential.guard';
import { CurrentOrganisation } from '../http/organisation-context';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation } from '../organisations/organisation.repository';
import {
  idempotencyKeyFromHeader,
  MAX_EVENTS_PER_BATCH,
  publishAnswerResponseSchema,
  publishBatchResponseSchema,
  type PublishBatchResponse,
  publishEventBatchSchema,
  type PublishEventBatchRequest,
  publishEventSchema,
  type PublishEventRequest,
} from './publish-event.schema';
import { PublishEventService } from './publish-event.service';
import { ApiErrorCode } from '../http/api-error';
import { BAD_INPUT } from '../openapi/examples';
import { Documented, DocumentedGroup } from '../openapi/route-docs';

@DocumentedGroup({ tag: 'Events', description: 'Publishing the domain events that subscriptions receive.' })
@Controller('v1/events')
@UseGuards(ApiKeyGuard, ApiKeyCredentialGuard)
export class EventsController {
  constructor(private readonly publisher: PublishEventService) {}

  /** 202 when accepted, 200 when the event id was published before (a no-op). */
  @Documented({
    summary:
      'Publish a domain event. Idempotency-Key: the same key and body answer the first answer again; the same key with another body is 422. An event id already published with the same body is a no-op (200 duplicate); with another body it is 409 EVENT_ID_REUSED. ' +
      '`data` is at most 256 KiB of JSON by default (the api setting EVENT_MAX_DATA_BYTES; larger is 413); numbers must be finite and integers within ±(2^53 − 1) (send larger ones as strings).',
    success: {
      schema: publishAnswerResponseSchema,
      status: 202,
      description: 'accepted (200: duplicate event id)',
      example: { id: 'evt_…', status: 'accepted' },
    },
    errors: [
      ...BAD_INPUT,
      ApiErrorCode.Unauthenticated,
      ApiErrorCode.Forbidden,
      ApiErrorCode.UnknownEventType,
      ApiErrorCode.IdempotencyKeyReused,
      ApiErrorCode.EventIdReused,
      ApiErrorCode.KafkaUnavailable,
    ],
  })
  @Post()
  async publish(
    @CurrentOrganisation() organisation: Organisation,
    @Body(new ZodValidationPipe(publishEventSchema)) body: PublishEventRequest,
    @Headers('idempotency-key') idempotencyKey: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ id: string; status: string }> {
    const result = await this.publisher.publish(organisation, body, idempotencyKeyFromHeader(idempotencyKey));
    void reply.status(result.status);
    return result.body;
  }

  /** 200 with one result per event, in the request's order. */
  @Documented({
    summary:
      `Publish up to ${MAX_EVENTS_PER_BATCH} domain events in one request: one claim transaction, one produce to the event log. ` +
      'Each event is validated and published as by POST /v1/events, and gets its own result at its index: `accepted`, `duplicate` (its id was published before with the same body) or `rejected` with the error POST /v1/events would answer (an invalid body, an unknown event type, data over EVENT_MAX_DATA_BYTES, an id reused with another body). ' +
      'The answer comes once the broker acknowledged every accepted event; when it could not, the whole batch is answered 503 and its events are held pending: send the same batch again. ' +
      'Idempotency-Key: the same key and batch answer the first answer again; an event without an id gets one derived from the key and its index. The whole body is at most 1 MiB.',
    success: {
      schema: publishBatchResponseSchema,
      status: 200,
      description: 'the batch was processed: see each result',
      example: {
        accepted: 1,
        duplicates: 1,
        rejected: 1,
        results: [
          { index: 0, id: 'evt_…', status: 'accepted' },
          { index: 1, id: 'flight-ba117-departed', status: 'duplicate' },
          {
            index: 2,
            status: 'rejected',
            error: {
              code: 'UNKNOWN_EVENT_TYPE',
              message:
                'event type flight.teleported is not in the catalogue; register it with POST /v1/event-types',
              details: { eventType: 'flight.teleported' },
            },
          },
        ],
      },
    },
    errors: [
      ...BAD_INPUT,
      ApiErrorCode.Unauthenticated,
      ApiErrorCode.Forbidden,
      ApiErrorCode.IdempotencyKeyReused,
      ApiErrorCode.KafkaUnavailable,
    ],
  })
  @Post('batch')
  @HttpCode(200)
  publishBatch(
    @CurrentOrganisation() organisation: Organisation,
    // Each event is checked on its own in the service: one bad event is refused in its result.
    @Body(new ZodValidationPipe(publishEventBatchSchema, 'request body', 'items'))
    body: PublishEventBatchRequest,
    @Headers('idempotency-key') idempotencyKey: unknown,
  ): Promise<PublishBatchResponse> {
    return this.publisher.publishBatch(organisation, body.events, idempotencyKeyFromHeader(idempotencyKey));
  }
}
