import { Body, Controller, Get, Headers, Param, Post, Res, UseGuards } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { identifierSchema } from '@skyhook/contracts';
import { idempotencyKeyFromHeader } from '../events/publish-event.schema';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation, OrganisationRepository } from '../organisations/organisation.repository';
import { subscriptionIdOf } from '../subscriptions/subscriptions.controller';
import { ReplayJobRepository } from '@skyhook/delivery-history';
import { startReplaySchema, type StartReplayRequest } from './replay.schemas';
import {
  type ReplayJobResponse,
  replayJobResponseOf,
  replayJobResponseSchema,
  replayNotFound,
} from './replays.controller';
import { StartReplayService } from './start-replay.service';
import { AUTH_AND_TENANT, exampleReplay, REPLAY_START_ERRORS } from '../openapi/examples';
import { Documented, DocumentedGroup } from '../openapi/route-docs';

/**
 * Operators start and follow a replay in an organisation's name (Authorization: Bearer
 * <SKYHOOK_ADMIN_TOKEN>) without holding one of its API keys; the same use case as the
 * partners' POST /v1/subscriptions/{id}/replay, so the same limits and idempotency apply.
 */
@DocumentedGroup({
  tag: 'Admin: replays',
  description: "Replays started and followed by an operator, in an organisation's name.",
})
@Controller('admin/v1/organisations/:organisationId/subscriptions/:id')
@UseGuards(AdminTokenGuard)
export class AdminReplaysController {
  constructor(
    private readonly starter: StartReplayService,
    private readonly jobs: ReplayJobRepository,
    private readonly organisations: OrganisationRepository,
  ) {}

  @Documented({
    summary:
      "Start a replay in the organisation's name: the same job, limits and Idempotency-Key handling as " +
      'POST /v1/subscriptions/{id}/replay. Location: the job.',
    success: {
      schema: replayJobResponseSchema,
      status: 202,
      description: 'the replay job',
      example: exampleReplay,
    },
    errors: REPLAY_START_ERRORS,
  })
  @Post('replay')
  async start(
    @Param('organisationId') organisationId: string,
    @Param('id') id: string,
    @Body(new ZodValidationPipe(startReplaySchema)) body: StartReplayRequest,
    @Headers('idempotency-key') idempotencyKey: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReplayJobResponse> {
    const organisation = await this.organisationOf(organisationId);
    const subscriptionId = subscriptionIdOf(id);
    const { job } = await this.starter.start(
      organisation,
      subscriptionId,
      body,
      idempotencyKeyFromHeader(idempotencyKey),
    );
    void reply
      .status(202)
      .header(
        'location',
        `/admin/v1/organisations/${organisation.id}/subscriptions/${subscriptionId}/replays/${job.id}`,
      );
    return replayJobResponseOf(job);
  }

  @Documented({
    summary: 'A replay job and its progress, as the partners see it.',
    success: { schema: replayJobResponseSchema, description: 'the replay job', example: exampleReplay },
    errors: AUTH_AND_TENANT,
  })
  @Get('replays/:jobId')
  async get(
    @Param('organisationId') organisationId: string,
    @Param('id') id: string,
    @Param('jobId') jobId: string,
  ): Promise<ReplayJobResponse> {
    const organisation = await this.organisationOf(organisationId);
    if (!identifierSchema.safeParse(jobId).success) throw replayNotFound();
    const job = await this.jobs.find(organisation.id, subscriptionIdOf(id), jobId);
    if (job === undefined) throw replayNotFound(jobId);
    return replayJobResponseOf(job);
  }

  private async organisationOf(id: string): Promise<Organisation> {
    const organisation = identifierSchema.safeParse(id).success
      ? await this.organisations.findById(id)
      : undefined;
    if (organisation === undefined) throw new ApiError(ApiErrorCode.NotFound, `organisation ${id} not found`);
    return organisation;
  }
}
