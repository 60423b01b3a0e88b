import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PARTNER_NOTIFICATION_CATALOGUE } from '@skyhook/contracts';
import { type LoggedPartnerNotification, recentPartnerNotifications } from '@skyhook/partner-notifications';
import { type Clock } from '@skyhook/subscriptions';
import { CLOCK } from '../clock.provider';
import { ApiErrorCode } from '../http/api-error';
import { ApiKeyGuard } from '../http/api-key.guard';
import { CurrentOrganisation } from '../http/organisation-context';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { Documented, DocumentedGroup } from '../openapi/route-docs';
import { type Organisation } from '../organisations/organisation.repository';
import {
  type ListPartnerNotificationsQuery,
  listPartnerNotificationsQuerySchema,
  partnerNotificationListResponseSchema,
} from './partner-notifications.schemas';

const DEFAULT_LOOKBACK_MS = 7 * 86_400_000;

/**
 * What Skyhook told the organisation about its subscriptions (ADR 0030), newest first: the same
 * notifications its notification endpoints receive, for a portal banner or a status page.
 */
@DocumentedGroup({
  tag: 'Partner notifications',
  description:
    "Skyhook's own notifications about the organisation's subscriptions (disabled, expiring, renewal window " +
    'opened, expired, a delivery failed for good, a replay finished). Subscribe to them by naming their types ' +
    '(skyhook.*) in a subscription; they are listed here too.',
})
@Controller('v1/partner-notifications')
@UseGuards(ApiKeyGuard)
export class PartnerNotificationsController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Documented({
    summary:
      'Recent partner notifications of the organisation, newest first (by default the last 7 days, kept 30): ' +
      'filter by type (one or several) and subscriptionId.',
    success: {
      schema: partnerNotificationListResponseSchema,
      description: 'the notifications',
      example: {
        data: [
          {
            id: 'ntf_Hk3mQ0b9xVtR2aLp7sW4zYc1dE',
            type: 'skyhook.subscription.disabled',
            subscriptionId: 'sub_2cVb0m3XkTq',
            occurredAt: '2026-12-01T10:15:01.000Z',
            data: PARTNER_NOTIFICATION_CATALOGUE['skyhook.subscription.disabled'].example,
          },
        ],
      },
    },
    errors: [ApiErrorCode.ValidationFailed, ApiErrorCode.Unauthenticated],
  })
  @Get()
  async list(
    @CurrentOrganisation() organisation: Organisation,
    @Query(new ZodValidationPipe(listPartnerNotificationsQuerySchema, 'query'))
    query: ListPartnerNotificationsQuery,
  ): Promise<{ data: LoggedPartnerNotification[] }> {
    const since =
      query.since === undefined
        ? new Date(this.clock.now().getTime() - DEFAULT_LOOKBACK_MS)
        : new Date(query.since);
    const data = await recentPartnerNotifications(this.dataSource, organisation.id, {
      since,
      limit: query.limit,
      types: query.type,
      subscriptionId: query.subscriptionId,
    });
    return { data };
  }
}
