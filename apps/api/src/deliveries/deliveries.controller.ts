import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { identifierSchema } from '@skyhook/contracts';
import { SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { ApiKeyGuard } from '../http/api-key.guard';
import { CurrentOrganisation } from '../http/organisation-context';
import { decodePagePosition, encodePagePosition } from '../http/page-position-cursor';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation } from '../organisations/organisation.repository';
import { SubscriptionReadModelRepository } from '../subscriptions/subscription-read-model.repository';
import {
  type DeliveryListQuery,
  type DeliveryPage,
  DeliveryHistoryRepository,
} from '@skyhook/delivery-history';
import { type ListDeliveriesQuery, listDeliveriesQuerySchema } from './delivery-history.schemas';
import {
  type DeliveryDetailResponse,
  deliveryDetailOf,
  type DeliverySummaryResponse,
  deliverySummaryOf,
} from './delivery.response';
import { type ResendAccepted, ResendDeliveryService } from './resend-delivery.service';

interface DeliveryListResponse {
  readonly data: DeliverySummaryResponse[];
  readonly nextCursor: string | null;
}

function listQueryOf(query: ListDeliveriesQuery): DeliveryListQuery {
  return {
    limit: query.limit,
    after: query.cursor === undefined ? undefined : decodePagePosition(query.cursor),
    statuses: query.status,
    eventType: query.eventType,
    since: query.since === undefined ? undefined : new Date(query.since),
    until: query.until === undefined ? undefined : new Date(query.until),
  };
}

function listResponseOf(page: DeliveryPage): DeliveryListResponse {
  return {
    data: page.deliveries.map(deliverySummaryOf),
    nextCursor: page.next === null ? null : encodePagePosition(page.next),
  };
}

/** A malformed id cannot name a delivery: 404, like any id the caller does not own. */
function deliveryIdOf(raw: string): string {
  if (!identifierSchema.safeParse(raw).success) {
    throw new ApiError(ApiErrorCode.NotFound, 'delivery not found', 'DELIVERY_NOT_FOUND');
  }
  return raw;
}

/** The organisation's delivery history, newest first; one delivery with its attempts; resend. */
@Controller('v1/deliveries')
@UseGuards(ApiKeyGuard)
export class DeliveriesController {
  constructor(
    private readonly history: DeliveryHistoryRepository,
    private readonly resender: ResendDeliveryService,
  ) {}

  @Get()
  async list(
    @CurrentOrganisation() organisation: Organisation,
    @Query(new ZodValidationPipe(listDeliveriesQuerySchema, 'query')) query: ListDeliveriesQuery,
  ): Promise<DeliveryListResponse> {
    return listResponseOf(await this.history.listForOrganisation(organisation.id, listQueryOf(query)));
  }

  @Get(':id')
  async get(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
  ): Promise<DeliveryDetailResponse> {
    const delivery = await this.history.find(organisation.id, deliveryIdOf(id));
    if (delivery === undefined) {
      throw new ApiError(ApiErrorCode.NotFound, `delivery ${id} not found`, 'DELIVERY_NOT_FOUND');
    }
    return deliveryDetailOf(delivery, await this.history.attemptsOf(delivery));
  }

  @Post(':id/resend')
  @HttpCode(202)
  resend(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
  ): Promise<ResendAccepted> {
    return this.resender.resend(organisation, deliveryIdOf(id));
  }
}

/** One subscription's delivery history; a deleted subscription's history stays readable. */
@Controller('v1/subscriptions/:id/deliveries')
@UseGuards(ApiKeyGuard)
export class SubscriptionDeliveriesController {
  constructor(
    private readonly history: DeliveryHistoryRepository,
    private readonly subscriptions: SubscriptionReadModelRepository,
  ) {}

  @Get()
  async list(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
    @Query(new ZodValidationPipe(listDeliveriesQuerySchema, 'query')) query: ListDeliveriesQuery,
  ): Promise<DeliveryListResponse> {
    const known =
      identifierSchema.safeParse(id).success &&
      (await this.subscriptions.findIncludingDeleted(organisation.id, id)) !== undefined;
    if (!known) throw new SubscriptionError(SubscriptionErrorCode.NotFound, `subscription ${id} not found`);
    return listResponseOf(await this.history.listForSubscription(organisation.id, id, listQueryOf(query)));
  }
}
