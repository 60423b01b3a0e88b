import { Body, Controller, Headers, Post, Res, UseGuards } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { ApiKeyGuard } from '../http/api-key.guard';
import { CurrentOrganisation } from '../http/organisation-context';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation } from '../organisations/organisation.repository';
import {
  idempotencyKeyFromHeader,
  publishEventSchema,
  type PublishEventRequest,
} from './publish-event.schema';
import { PublishEventService } from './publish-event.service';

@Controller('v1/events')
@UseGuards(ApiKeyGuard)
export class EventsController {
  constructor(private readonly publisher: PublishEventService) {}

  /** 202 when accepted, 200 when the event id was published before (a no-op). */
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
