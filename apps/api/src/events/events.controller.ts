import { Body, Controller, Headers, Post, Res, UseGuards } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { ApiKeyGuard } from '../http/api-key.guard';
import { CurrentOrganisation } from '../http/organisation-context';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation } from '../organisations/organisation.repository';
import {
  idempotencyKeyFromHeader,
  publishAnswerResponseSchema,
  publishEventSchema,
  type PublishEventRequest,
} from './publish-event.schema';
import { PublishEventService } from './publish-event.service';
import { ApiErrorCode } from '../http/api-error';
import { BAD_INPUT } from '../openapi/examples';
import { Documented, DocumentedGroup } from '../openapi/route-docs';

@DocumentedGroup({ tag: 'Events', description: 'Publishing the domain events that subscriptions receive.' })
@Controller('v1/events')
@UseGuards(ApiKeyGuard)
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
}
