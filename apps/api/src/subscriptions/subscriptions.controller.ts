import { API_CONFIG, type ApiConfig } from '../api.config';
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { identifierSchema } from '@skyhook/contracts';
import { SubscriptionCommands, type SubscriptionStatusChange } from '@skyhook/subscription-commands';
import {
  type Clock,
  SubscriptionError,
  SubscriptionErrorCode,
  type SubscriptionState,
} from '@skyhook/subscriptions';
import { CLOCK } from '../clock.provider';
import { ApiKeyGuard } from '../http/api-key.guard';
import { expectedVersionOf } from '../http/if-match';
import { CurrentOrganisation } from '../http/organisation-context';
import { pageSchemaOf } from '../http/page-response';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation } from '../organisations/organisation.repository';
import { decodeCursor, encodeCursor } from './subscription-page-cursor';
import { SubscriptionReadModelRepository } from './subscription-read-model.repository';
import {
  createdSubscriptionResponseSchema,
  rotatedSubscriptionResponseSchema,
  type SubscriptionResponse,
  subscriptionResponseOf,
  subscriptionResponseSchema,
  type TestEventSent,
  testEventSentSchema,
} from './subscription.response';
import {
  type ActivateSecretRequest,
  activateSecretSchema,
  createSubscriptionSchema,
  type CreateSubscriptionRequest,
  listSubscriptionsQuerySchema,
  type ListSubscriptionsQuery,
  rotateSecretSchema,
  type SendTestEventRequest,
  sendTestEventSchema,
  type RotateSecretRequest,
  updateSubscriptionSchema,
  type UpdateSubscriptionRequest,
} from './subscription.schemas';
import { ApiErrorCode } from '../http/api-error';
import { AUTH_AND_TENANT, BAD_INPUT, exampleSubscription } from '../openapi/examples';
import { Documented, DocumentedGroup } from '../openapi/route-docs';

/** A malformed id cannot name a subscription: 404, like any id the caller does not own. */
export function subscriptionIdOf(raw: string): string {
  if (!identifierSchema.safeParse(raw).success) {
    throw new SubscriptionError(SubscriptionErrorCode.NotFound, 'subscription not found');
  }
  return raw;
}

/** Likewise for a secret id. */
function secretIdOf(raw: string): string {
  if (!identifierSchema.safeParse(raw).success) {
    throw new SubscriptionError(
      SubscriptionErrorCode.SecretNotFound,
      `no pending secret ${raw.slice(0, 64)}`,
    );
  }
  return raw;
}

@DocumentedGroup({
  tag: 'Subscriptions',
  description:
    'Webhook endpoints: create and change them, pause and resume, renew, rotate their signing secret, send a test delivery.',
})
@Controller('v1/subscriptions')
@UseGuards(ApiKeyGuard)
export class SubscriptionsController {
  constructor(
    private readonly commands: SubscriptionCommands,
    private readonly readModel: SubscriptionReadModelRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Documented({
    summary: 'Create a subscription (webhook endpoint). The signing secret is in this response only.',
    success: {
      schema: createdSubscriptionResponseSchema,
      status: 201,
      description: 'created',
      example: { ...exampleSubscription, signingSecret: 'whsec_3f9c…' },
    },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated, ApiErrorCode.UnknownEventType],
  })
  @Post()
  async create(
    @CurrentOrganisation() organisation: Organisation,
    @Body(new ZodValidationPipe(createSubscriptionSchema)) body: CreateSubscriptionRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SubscriptionResponse & { signingSecret: string }> {
    const { subscription, signingSecret } = await this.commands.create.execute({ ...body, organisation });
    void reply
      .status(201)
      .header('etag', `"${subscription.version}"`)
      .header('location', `/v1/subscriptions/${subscription.id}`);
    return {
      ...subscriptionResponseOf(subscription, organisation, this.clock.now(), this.config.timeScale),
      signingSecret,
    };
  }

  @Documented({
    summary: 'List subscriptions, newest first, cursor-paginated.',
    success: {
      schema: pageSchemaOf(subscriptionResponseSchema),
      description: 'a page',
      example: { data: [exampleSubscription], nextCursor: null },
    },
    errors: [ApiErrorCode.ValidationFailed, ApiErrorCode.Unauthenticated],
  })
  @Get()
  async list(
    @CurrentOrganisation() organisation: Organisation,
    @Query(new ZodValidationPipe(listSubscriptionsQuerySchema, 'query')) query: ListSubscriptionsQuery,
  ): Promise<{ data: SubscriptionResponse[]; nextCursor: string | null }> {
    const rows = await this.readModel.list(organisation.id, {
      limit: query.limit + 1,
      cursor: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      status: query.status,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      data: page.map((subscription) =>
        subscriptionResponseOf(subscription, organisation, this.clock.now(), this.config.timeScale),
      ),
      nextCursor:
        rows.length > query.limit && last !== undefined
          ? encodeCursor({ createdAt: last.createdAt, id: last.id })
          : null,
    };
  }

  @Documented({
    summary: 'Read a subscription (ETag: its version).',
    success: {
      schema: subscriptionResponseSchema,
      description: 'the subscription',
      example: exampleSubscription,
    },
    errors: AUTH_AND_TENANT,
  })
  @Get(':id')
  async get(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SubscriptionResponse> {
    const subscription = await this.readModel.findLive(organisation.id, subscriptionIdOf(id));
    if (subscription === undefined) {
      throw new SubscriptionError(SubscriptionErrorCode.NotFound, `subscription ${id} not found`);
    }
    void reply.header('etag', `"${subscription.version}"`);
    return subscriptionResponseOf(subscription, organisation, this.clock.now(), this.config.timeScale);
  }

  @Documented({
    summary: 'Update url, description, event types, scope filter, policy, or status (active/disabled).',
    success: {
      schema: subscriptionResponseSchema,
      description: 'the updated subscription',
      example: { ...exampleSubscription, version: 2 },
    },
    errors: [...BAD_INPUT, ...AUTH_AND_TENANT, ApiErrorCode.Conflict, ApiErrorCode.UnknownEventType],
  })
  @Patch(':id')
  async update(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Body(new ZodValidationPipe(updateSubscriptionSchema)) body: UpdateSubscriptionRequest,
    @Headers('if-match') ifMatch: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SubscriptionResponse> {
    const subscription = await this.commands.update.execute({
      ...body,
      organisation,
      subscriptionId: subscriptionIdOf(id),
      expectedVersion: expectedVersionOf(ifMatch),
    });
    void reply.header('etag', `"${subscription.version}"`);
    return subscriptionResponseOf(subscription, organisation, this.clock.now(), this.config.timeScale);
  }

  @Documented({
    summary: 'Delete: deliveries stop at once; history stays queryable.',
    success: { description: 'deleted' },
    errors: [...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  })
  @Delete(':id')
  @HttpCode(204)
  async remove(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<void> {
    await this.changeStatus(organisation, id, ifMatch, 'delete');
  }

  @Documented({
    summary: 'Pause deliveries (events while disabled are dropped or held, per policy).',
    success: {
      schema: subscriptionResponseSchema,
      description: 'the subscription',
      example: exampleSubscription,
    },
    errors: [...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  })
  @Post(':id/disable')
  @HttpCode(200)
  async disable(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<SubscriptionResponse> {
    return subscriptionResponseOf(
      await this.changeStatus(organisation, id, ifMatch, 'disable'),
      organisation,
      this.clock.now(),
      this.config.timeScale,
    );
  }

  @Documented({
    summary: 'Resume deliveries; also closes a tripped circuit breaker.',
    success: {
      schema: subscriptionResponseSchema,
      description: 'the subscription',
      example: exampleSubscription,
    },
    errors: [...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  })
  @Post(':id/enable')
  @HttpCode(200)
  async enable(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<SubscriptionResponse> {
    return subscriptionResponseOf(
      await this.changeStatus(organisation, id, ifMatch, 'enable'),
      organisation,
      this.clock.now(),
      this.config.timeScale,
    );
  }

  @Documented({
    summary: 'Revoke permanently.',
    success: {
      schema: subscriptionResponseSchema,
      description: 'the subscription',
      example: exampleSubscription,
    },
    errors: [...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  })
  @Post(':id/revoke')
  @HttpCode(200)
  async revoke(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<SubscriptionResponse> {
    return subscriptionResponseOf(
      await this.changeStatus(organisation, id, ifMatch, 'revoke'),
      organisation,
      this.clock.now(),
      this.config.timeScale,
    );
  }

  @Documented({
    summary:
      "Extend expiresAt by one lifetime; only inside the organisation's renewal window (409 says when it opens).",
    success: { schema: subscriptionResponseSchema, description: 'renewed', example: exampleSubscription },
    errors: [...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  })
  @Post(':id/renewals')
  @HttpCode(200)
  async renew(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<SubscriptionResponse> {
    return subscriptionResponseOf(
      await this.changeStatus(organisation, id, ifMatch, 'renew'),
      organisation,
      this.clock.now(),
      this.config.timeScale,
    );
  }

  @Documented({
    summary:
      'Send a signed test delivery to this subscription through the normal path, shaped by its profile: the given type and data; ' +
      'else the example of the first catalogue type it receives that has one; else webhook.test.',
    success: {
      schema: testEventSentSchema,
      description: 'accepted',
      example: {
        eventId: 'evt_test_…',
        type: 'webhook.test',
        scope: { centerId: 'ctr-42' },
        occurredAt: '2026-05-31T18:09:12.000Z',
        data: { subscriptionId: 'sub_…', message: 'This is a test delivery from Skyhook.' },
      },
    },
    errors: [
      ...BAD_INPUT,
      ...AUTH_AND_TENANT,
      ApiErrorCode.Conflict,
      ApiErrorCode.UnknownEventType,
      ApiErrorCode.KafkaUnavailable,
    ],
  })
  @Post(':id/test')
  @HttpCode(202)
  async sendTestEvent(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Body(new ZodValidationPipe(sendTestEventSchema)) body: SendTestEventRequest,
  ): Promise<TestEventSent> {
    return this.commands.sendTestEvent.execute({
      ...body,
      organisation,
      subscriptionId: subscriptionIdOf(id),
    });
  }

  @Documented({
    summary:
      'Rotate the signing secret. activation "immediate" (default): the new secret signs at once; "manual": it stays pending ' +
      '(signing nothing) until POST …/secrets/{secretId}/activation; "scheduled": it activates at activateAt. Once it is ' +
      'active, the old one keeps signing for graceSeconds (default 24 h) where the scheme carries several signatures, and ' +
      'a 401/403 within SECRET_SWITCH_GRACE_SECONDS is retried, never counted by the breaker. Steps per profile: docs/profiles.',
    success: {
      schema: rotatedSubscriptionResponseSchema,
      description: 'rotated',
      example: { ...exampleSubscription, signingSecret: 'whsec_9b1f…', secretId: 'sec_5d2a…' },
    },
    errors: [...BAD_INPUT, ...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  })
  @Post(':id/secret-rotations')
  @HttpCode(200)
  async rotateSecret(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Body(new ZodValidationPipe(rotateSecretSchema)) body: RotateSecretRequest,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<SubscriptionResponse & { signingSecret: string; secretId: string }> {
    const { subscription, signingSecret, secretId } = await this.commands.rotateSecret.execute({
      ...body,
      organisation,
      subscriptionId: subscriptionIdOf(id),
      expectedVersion: expectedVersionOf(ifMatch),
    });
    return {
      ...subscriptionResponseOf(subscription, organisation, this.clock.now(), this.config.timeScale),
      signingSecret,
      secretId,
    };
  }

  /** A pending secret (rotated with `activation: "manual"`, or scheduled) signs from now on. */
  @Documented({
    summary:
      'Activate a pending secret: it signs every delivery from now on, and the one it replaces retires after graceSeconds. ' +
      'Activating the current secret again changes nothing; a replaced secret answers 409.',
    success: { schema: subscriptionResponseSchema, description: 'activated', example: exampleSubscription },
    errors: [...BAD_INPUT, ...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  })
  @Post(':id/secrets/:secretId/activation')
  @HttpCode(200)
  async activateSecret(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Param('secretId') secretId: string,
    @Body(new ZodValidationPipe(activateSecretSchema)) body: ActivateSecretRequest,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<SubscriptionResponse> {
    const subscription = await this.commands.activateSecret.execute({
      ...body,
      organisation,
      subscriptionId: subscriptionIdOf(id),
      secretId: secretIdOf(secretId),
      expectedVersion: expectedVersionOf(ifMatch),
    });
    return subscriptionResponseOf(subscription, organisation, this.clock.now(), this.config.timeScale);
  }

  private changeStatus(
    organisation: Organisation,
    id: string,
    ifMatch: unknown,
    change: SubscriptionStatusChange,
  ): Promise<SubscriptionState> {
    return this.commands.changeStatus.execute({
      organisation,
      subscriptionId: subscriptionIdOf(id),
      expectedVersion: expectedVersionOf(ifMatch),
      change,
    });
  }
}
