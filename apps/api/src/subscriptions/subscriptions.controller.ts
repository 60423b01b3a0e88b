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
import { type Clock, SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { CLOCK } from '../clock.provider';
import { ApiKeyGuard } from '../http/api-key.guard';
import { expectedVersionOf } from '../http/if-match';
import { CurrentOrganisation } from '../http/organisation-context';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation } from '../organisations/organisation.repository';
import { SubscriptionCommandsService, type TestEventSent } from './subscription-commands.service';
import { decodeCursor, encodeCursor } from './subscription-page-cursor';
import { SubscriptionReadModelRepository } from './subscription-read-model.repository';
import { type SubscriptionResponse, subscriptionResponseOf } from './subscription.response';
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

@Controller('v1/subscriptions')
@UseGuards(ApiKeyGuard)
export class SubscriptionsController {
  constructor(
    private readonly commands: SubscriptionCommandsService,
    private readonly readModel: SubscriptionReadModelRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  async create(
    @CurrentOrganisation() organisation: Organisation,
    @Body(new ZodValidationPipe(createSubscriptionSchema)) body: CreateSubscriptionRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SubscriptionResponse & { signingSecret: string }> {
    const { subscription, signingSecret } = await this.commands.create(organisation, body);
    void reply
      .status(201)
      .header('etag', `"${subscription.version}"`)
      .header('location', `/v1/subscriptions/${subscription.id}`);
    return { ...subscriptionResponseOf(subscription, organisation, this.clock.now()), signingSecret };
  }

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
      data: page.map((subscription) => subscriptionResponseOf(subscription, organisation, this.clock.now())),
      nextCursor:
        rows.length > query.limit && last !== undefined
          ? encodeCursor({ createdAt: last.createdAt, id: last.id })
          : null,
    };
  }

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
    return subscriptionResponseOf(subscription, organisation, this.clock.now());
  }

  @Patch(':id')
  async update(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Body(new ZodValidationPipe(updateSubscriptionSchema)) body: UpdateSubscriptionRequest,
    @Headers('if-match') ifMatch: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SubscriptionResponse> {
    const subscription = await this.commands.update(
      organisation,
      subscriptionIdOf(id),
      body,
      expectedVersionOf(ifMatch),
    );
    void reply.header('etag', `"${subscription.version}"`);
    return subscriptionResponseOf(subscription, organisation, this.clock.now());
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<void> {
    await this.commands.remove(organisation, subscriptionIdOf(id), expectedVersionOf(ifMatch));
  }

  @Post(':id/disable')
  @HttpCode(200)
  async disable(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<SubscriptionResponse> {
    return subscriptionResponseOf(
      await this.commands.disable(organisation, subscriptionIdOf(id), expectedVersionOf(ifMatch)),
      organisation,
      this.clock.now(),
    );
  }

  @Post(':id/enable')
  @HttpCode(200)
  async enable(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<SubscriptionResponse> {
    return subscriptionResponseOf(
      await this.commands.enable(organisation, subscriptionIdOf(id), expectedVersionOf(ifMatch)),
      organisation,
      this.clock.now(),
    );
  }

  @Post(':id/revoke')
  @HttpCode(200)
  async revoke(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<SubscriptionResponse> {
    return subscriptionResponseOf(
      await this.commands.revoke(organisation, subscriptionIdOf(id), expectedVersionOf(ifMatch)),
      organisation,
      this.clock.now(),
    );
  }

  @Post(':id/renewals')
  @HttpCode(200)
  async renew(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<SubscriptionResponse> {
    return subscriptionResponseOf(
      await this.commands.renew(organisation, subscriptionIdOf(id), expectedVersionOf(ifMatch)),
      organisation,
      this.clock.now(),
    );
  }

  @Post(':id/test')
  @HttpCode(202)
  async sendTestEvent(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Body(new ZodValidationPipe(sendTestEventSchema)) body: SendTestEventRequest,
  ): Promise<TestEventSent> {
    return this.commands.sendTestEvent(organisation, subscriptionIdOf(id), body);
  }

  @Post(':id/secret-rotations')
  @HttpCode(200)
  async rotateSecret(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Body(new ZodValidationPipe(rotateSecretSchema)) body: RotateSecretRequest,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<SubscriptionResponse & { signingSecret: string; secretId: string }> {
    const { subscription, signingSecret, secretId } = await this.commands.rotateSecret(
      organisation,
      subscriptionIdOf(id),
      body,
      expectedVersionOf(ifMatch),
    );
    return {
      ...subscriptionResponseOf(subscription, organisation, this.clock.now()),
      signingSecret,
      secretId,
    };
  }

  /** A pending secret (rotated with `activation: "manual"`, or scheduled) signs from now on. */
  @Post(':id/secrets/:secretId/activation')
  @HttpCode(200)
  async activateSecret(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Param('secretId') secretId: string,
    @Body(new ZodValidationPipe(activateSecretSchema)) body: ActivateSecretRequest,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<SubscriptionResponse> {
    const subscription = await this.commands.activateSecret(
      organisation,
      subscriptionIdOf(id),
      secretIdOf(secretId),
      body,
      expectedVersionOf(ifMatch),
    );
    return subscriptionResponseOf(subscription, organisation, this.clock.now());
  }
}
