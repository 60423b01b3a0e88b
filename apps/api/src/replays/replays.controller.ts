import { Body, Controller, Get, Headers, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { z } from 'zod';
import { DELIVERY_STATUSES, identifierSchema } from '@skyhook/contracts';
import { SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { idempotencyKeyFromHeader } from '../events/publish-event.schema';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { ApiKeyGuard } from '../http/api-key.guard';
import { CurrentOrganisation } from '../http/organisation-context';
import { decodePagePosition, encodePagePosition } from '../http/page-position-cursor';
import { pageSchemaOf } from '../http/page-response';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation } from '../organisations/organisation.repository';
import { subscriptionIdOf } from '../subscriptions/subscriptions.controller';
import { SubscriptionReadModelRepository } from '../subscriptions/subscription-read-model.repository';
import { REPLAY_JOB_STATES, type ReplayJob, ReplayJobRepository } from '@skyhook/delivery-history';
import {
  type ListReplaysQuery,
  listReplaysQuerySchema,
  startReplaySchema,
  type StartReplayRequest,
} from './replay.schemas';
import { StartReplayService } from './start-replay.service';
import { AUTH_AND_TENANT, exampleReplay, REPLAY_START_ERRORS } from '../openapi/examples';
import { Documented, DocumentedGroup } from '../openapi/route-docs';

const instant = z.iso.datetime({ offset: true });

export const replayJobResponseSchema = z.strictObject({
  id: z.string(),
  subscriptionId: z.string(),
  state: z.enum(REPLAY_JOB_STATES).meta({ description: 'running, then completed or failed (see error).' }),
  since: instant,
  until: instant,
  statuses: z.array(z.enum(DELIVERY_STATUSES)),
  matched: z
    .number()
    .int()
    .min(0)
    .meta({ description: 'Deliveries the replay selected when it was created.' }),
  enqueued: z.number().int().min(0).meta({ description: 'Deliveries handed to the dispatcher so far.' }),
  error: z.string().nullable(),
  createdAt: instant,
  updatedAt: instant,
  finishedAt: instant.nullable(),
});
export type ReplayJobResponse = z.infer<typeof replayJobResponseSchema>;

export function replayJobResponseOf(job: ReplayJob): ReplayJobResponse {
  return {
    id: job.id,
    subscriptionId: job.subscriptionId,
    state: job.state,
    since: job.since.toISOString(),
    until: job.until.toISOString(),
    statuses: [...job.statuses],
    matched: job.matched,
    enqueued: job.enqueued,
    error: job.error,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    finishedAt: job.finishedAt === null ? null : job.finishedAt.toISOString(),
  };
}

export const replayNotFound = (jobId?: string) =>
  new ApiError(
    ApiErrorCode.NotFound,
    jobId === undefined ? 'replay not found' : `replay ${jobId} not found`,
    'REPLAY_NOT_FOUND',
  );

/** Replays of a subscription's deliveries: start one, follow its progress, list them. */
@DocumentedGroup({
  tag: 'Replays',
  description: 'Sending a window of past deliveries again, as a job whose progress can be followed.',
})
@Controller('v1/subscriptions/:id')
@UseGuards(ApiKeyGuard)
export class ReplaysController {
  constructor(
    private readonly starter: StartReplayService,
    private readonly jobs: ReplayJobRepository,
    private readonly subscriptions: SubscriptionReadModelRepository,
  ) {}

  /** 202 with the job; the same job again for the same Idempotency-Key, or while the same replay runs. */
  @Documented({
    summary:
      'Replay the deliveries published in [since, until) (until defaults to now) whose status is one of statuses ' +
      '(default failed, dropped, held): a job sends each again, once, with its delivery id. Bounded by ' +
      'REPLAY_MAX_DELIVERIES and by the history retention (422 states the count and the limit). Idempotency-Key: ' +
      'the same key and body answer the same job, another body 422; the same replay while one runs answers the ' +
      'running job. Location: the job.',
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
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Body(new ZodValidationPipe(startReplaySchema)) body: StartReplayRequest,
    @Headers('idempotency-key') idempotencyKey: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReplayJobResponse> {
    const subscriptionId = subscriptionIdOf(id);
    const { job } = await this.starter.start(
      organisation,
      subscriptionId,
      body,
      idempotencyKeyFromHeader(idempotencyKey),
    );
    void reply.status(202).header('location', `/v1/subscriptions/${subscriptionId}/replays/${job.id}`);
    return replayJobResponseOf(job);
  }

  @Documented({
    summary: "The subscription's replay jobs, newest first, cursor-paginated.",
    success: {
      schema: pageSchemaOf(replayJobResponseSchema),
      description: 'a page',
      example: { data: [{ ...exampleReplay, state: 'completed', enqueued: 1234 }], nextCursor: null },
    },
    errors: [ApiErrorCode.ValidationFailed, ...AUTH_AND_TENANT],
  })
  @Get('replays')
  async list(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Query(new ZodValidationPipe(listReplaysQuerySchema, 'query')) query: ListReplaysQuery,
  ): Promise<{ data: ReplayJobResponse[]; nextCursor: string | null }> {
    const subscriptionId = subscriptionIdOf(id);
    if ((await this.subscriptions.findIncludingDeleted(organisation.id, subscriptionId)) === undefined) {
      throw new SubscriptionError(SubscriptionErrorCode.NotFound, `subscription ${id} not found`);
    }
    const page = await this.jobs.list(
      organisation.id,
      subscriptionId,
      query.limit,
      query.cursor === undefined ? undefined : decodePagePosition(query.cursor),
    );
    return {
      data: page.jobs.map(replayJobResponseOf),
      nextCursor: page.next === null ? null : encodePagePosition(page.next),
    };
  }

  @Documented({
    summary:
      'A replay job and its progress: running, then completed (enqueued = what it sent) or failed (error).',
    success: { schema: replayJobResponseSchema, description: 'the replay job', example: exampleReplay },
    errors: AUTH_AND_TENANT,
  })
  @Get('replays/:jobId')
  async get(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Param('jobId') jobId: string,
  ): Promise<ReplayJobResponse> {
    if (!identifierSchema.safeParse(jobId).success) throw replayNotFound();
    const job = await this.jobs.find(organisation.id, subscriptionIdOf(id), jobId);
    if (job === undefined) throw replayNotFound(jobId);
    return replayJobResponseOf(job);
  }
}
