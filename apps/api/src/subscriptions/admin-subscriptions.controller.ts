import { API_CONFIG, type ApiConfig } from '../api.config';
import { Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { SubscriptionCommands } from '@skyhook/subscription-commands';
import { type Clock, SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { CLOCK } from '../clock.provider';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { expectedVersionOf } from '../http/if-match';
import { pageSchemaOf } from '../http/page-response';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation, OrganisationRepository } from '../organisations/organisation.repository';
import { decodeCursor, encodeCursor } from './subscription-page-cursor';
import { SubscriptionReadModelRepository } from './subscription-read-model.repository';
import {
  adminSubscriptionResponseSchema,
  type SubscriptionResponse,
  subscriptionResponseOf,
} from './subscription.response';
import { type AdminListSubscriptionsQuery, adminListSubscriptionsQuerySchema } from './subscription.schemas';
import { subscriptionIdOf } from './subscriptions.controller';
import { ApiErrorCode } from '../http/api-error';
import { exampleSubscription } from '../openapi/examples';
import { Documented, DocumentedGroup } from '../openapi/route-docs';

/** What operators see of a subscription: the partners' view and whose it is. */
export type AdminSubscriptionResponse = SubscriptionResponse & { readonly organisationId: string };

/**
 * Operators' view across organisations (Authorization: Bearer <SKYHOOK_ADMIN_TOKEN>), e.g. to
 * find endpoints the circuit breaker disabled and enable them again. Commands run through the
 * same service as the partners' API, in the owning organisation's name: same validation, same
 * events.
 */
@DocumentedGroup({
  tag: 'Admin: subscriptions',
  description:
    "Every organisation's subscriptions, and enabling one in its organisation's name (operators only).",
})
@Controller('admin/v1/subscriptions')
@UseGuards(AdminTokenGuard)
export class AdminSubscriptionsController {
  constructor(
    private readonly commands: SubscriptionCommands,
    private readonly readModel: SubscriptionReadModelRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly organisations: OrganisationRepository,
  ) {}

  @Documented({
    summary:
      'Subscriptions of every organisation (or of organisationId), newest first, cursor-paginated; ' +
      'status=disabled lists the endpoints that are switched off, with the reason (partner or circuit-breaker).',
    success: {
      schema: pageSchemaOf(adminSubscriptionResponseSchema),
      description: 'a page',
      example: {
        data: [
          {
            ...exampleSubscription,
            organisationId: 'org_…',
            status: 'disabled',
            disabledReason: 'circuit-breaker',
            disabledDetail: '5 consecutive failures',
          },
        ],
        nextCursor: null,
      },
    },
    errors: [ApiErrorCode.ValidationFailed, ApiErrorCode.Unauthenticated],
  })
  @Get()
  async list(
    @Query(new ZodValidationPipe(adminListSubscriptionsQuerySchema, 'query'))
    query: AdminListSubscriptionsQuery,
  ): Promise<{ data: AdminSubscriptionResponse[]; nextCursor: string | null }> {
    const rows = await this.readModel.listForOperators({
      limit: query.limit + 1,
      cursor: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      status: query.status,
      organisationId: query.organisationId,
    });
    const page = rows.slice(0, query.limit);
    const owners = new Map<string, Organisation>();
    for (const organisationId of new Set(page.map((subscription) => subscription.organisationId))) {
      const organisation = await this.organisations.findById(organisationId);
      if (organisation !== undefined) owners.set(organisationId, organisation);
    }
    const last = page[page.length - 1];
    return {
      data: page.flatMap((subscription) => {
        const organisation = owners.get(subscription.organisationId);
        return organisation === undefined
          ? []
          : [
              {
                ...subscriptionResponseOf(
                  subscription,
                  organisation,
                  this.clock.now(),
                  this.config.timeScale,
                ),
                organisationId: organisation.id,
              },
            ];
      }),
      nextCursor:
        rows.length > query.limit && last !== undefined
          ? encodeCursor({ createdAt: last.createdAt, id: last.id })
          : null,
    };
  }

  @Documented({
    summary:
      "Enable a disabled subscription in its organisation's name: the same command, checks and events as the " +
      "partners' POST /v1/subscriptions/{id}/enable. If-Match: the expected version.",
    success: {
      schema: adminSubscriptionResponseSchema,
      description: 'enabled',
      example: { ...exampleSubscription, organisationId: 'org_…', version: 3 },
    },
    errors: [ApiErrorCode.Unauthenticated, ApiErrorCode.NotFound, ApiErrorCode.Conflict],
  })
  @Post(':id/enable')
  @HttpCode(200)
  async enable(
    @Param('id') id: string,
    @Headers('if-match') ifMatch: unknown,
  ): Promise<AdminSubscriptionResponse> {
    const subscriptionId = subscriptionIdOf(id);
    const organisationId = await this.readModel.findOrganisationIdOf(subscriptionId);
    const organisation =
      organisationId === undefined ? undefined : await this.organisations.findById(organisationId);
    if (organisation === undefined) {
      throw new SubscriptionError(SubscriptionErrorCode.NotFound, `subscription ${id} not found`);
    }
    const enabled = await this.commands.changeStatus.execute({
      organisation,
      subscriptionId,
      expectedVersion: expectedVersionOf(ifMatch),
      change: 'enable',
    });
    return {
      ...subscriptionResponseOf(enabled, organisation, this.clock.now(), this.config.timeScale),
      organisationId: organisation.id,
    };
  }
}
