import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { identifierSchema } from '@skyhook/contracts';
import { SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import {
  type DeliveryListQuery,
  type DeliveryPage,
  DeliveryHistoryRepository,
} from '@skyhook/delivery-history';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { ApiKeyGuard } from '../http/api-key.guard';
import { CurrentOrganisation } from '../http/organisation-context';
import { decodePagePosition, encodePagePosition } from '../http/page-position-cursor';
import { pageSchemaOf } from '../http/page-response';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation } from '../organisations/organisation.repository';
import { SubscriptionReadModelRepository } from '../subscriptions/subscription-read-model.repository';
import { type ListDeliveriesQuery, listDeliveriesQuerySchema } from './delivery-history.schemas';
import {
  type DeliveryDetailResponse,
  deliveryDetailOf,
  deliveryDetailResponseSchema,
  type DeliverySummaryResponse,
  deliverySummaryOf,
  deliverySummaryResponseSchema,
  type ResendAccepted,
  resendAcceptedResponseSchema,
  type SkipAccepted,
  skipAcceptedResponseSchema,
} from './delivery.response';
import { ResendDeliveryService } from './resend-delivery.service';
import { AUTH_AND_TENANT, exampleDelivery, exampleSubscription } from '../openapi/examples';
import { Documented, DocumentedGroup } from '../openapi/route-docs';

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
@DocumentedGroup({
  tag: 'Deliveries',
  description: 'Delivery history (every delivery and each of its attempts), and sending a delivery again.',
})
@Controller('v1/deliveries')
@UseGuards(ApiKeyGuard)
export class DeliveriesController {
  constructor(
    private readonly history: DeliveryHistoryRepository,
    private readonly resender: ResendDeliveryService,
  ) {}

  @Documented({
    summary:
      'Delivery history of the organisation, newest first (publish time, then delivery id), cursor-paginated: ' +
      'a page sequence started once returns every delivery that existed then exactly once. Filters: status ' +
      '(one or several), eventType, since (inclusive) and until (exclusive) on the publish time.',
    success: {
      schema: pageSchemaOf(deliverySummaryResponseSchema),
      description: 'a page',
      example: { data: [exampleDelivery], nextCursor: 'eyJ0Ijoi…' },
    },
    errors: [ApiErrorCode.ValidationFailed, ApiErrorCode.Unauthenticated],
  })
  @Get()
  async list(
    @CurrentOrganisation() organisation: Organisation,
    @Query(new ZodValidationPipe(listDeliveriesQuerySchema, 'query')) query: ListDeliveriesQuery,
  ): Promise<DeliveryListResponse> {
    return listResponseOf(await this.history.listForOrganisation(organisation.id, listQueryOf(query)));
  }

  @Documented({
    summary:
      'One delivery with its attempts by attempt number (request headers, body size, response status and first ' +
      '4 KiB of its body, duration, outcome class, error, next attempt time) and what its event was. Every HTTP ' +
      'request that went out is an attempt: one the dispatcher sent again after a crash has the same number, a ' +
      'new attemptId and repeated: true with repeatOf: recorded-attempt. An attempt with repeated: true and ' +
      'repeatOf: unrecorded-attempt may repeat a request a dispatcher sent before it was killed and never ' +
      'recorded: the receiver may have had it once more than the list shows.',
    success: {
      schema: deliveryDetailResponseSchema,
      description: 'the delivery',
      example: {
        ...exampleDelivery,
        event: {
          id: 'evt_8d1c…',
          type: 'booking.created',
          scope: { centerId: 'ctr-42' },
          occurredAt: '2026-05-31T18:09:11.000Z',
        },
        requestRecorded: true,
        attempts: [
          {
            attemptNumber: 1,
            attemptId: 'att_0b7e52c4-5f0e-4c8e-9a51-3f6d2e1c7a90',
            repeated: false,
            repeatOf: null,
            attemptedAt: '2026-05-31T18:09:12.050Z',
            url: exampleSubscription.url,
            requestHeaders: { 'webhook-id': exampleDelivery.id, 'webhook-signature': 'v1,K5oZ…' },
            requestBodyBytes: 412,
            outcome: 'http-error',
            responseStatus: 503,
            responseBody: 'upstream unavailable',
            durationMs: 84.2,
            errorCode: null,
            errorMessage: null,
            result: 'retry-scheduled',
            nextAttemptAt: '2026-05-31T18:14:12.050Z',
          },
        ],
      },
    },
    errors: AUTH_AND_TENANT,
  })
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

  @Documented({
    summary:
      'Send a delivery again now, as its next attempt, with the same delivery id, through the normal dispatch ' +
      'path (signing, breaker, history). 409 when its request is not recorded yet or its subscription is deleted ' +
      'or not active.',
    success: {
      schema: resendAcceptedResponseSchema,
      description: 'handed to the dispatcher',
      example: { deliveryId: exampleDelivery.id, attemptNumber: 4, status: 'enqueued' },
    },
    errors: [...AUTH_AND_TENANT, ApiErrorCode.Conflict, ApiErrorCode.KafkaUnavailable],
  })
  @Post(':id/resend')
  @HttpCode(202)
  resend(
    @CurrentOrganisation() organisation: Organisation,
    @Param('id') id: string,
  ): Promise<ResendAccepted> {
    return this.resender.resend(organisation, deliveryIdOf(id));
  }

  @Documented({
    summary:
      'Skip a held delivery of an ordered subscription (afterFinalFailure: hold): its key goes on with the next ' +
      'delivery, without it. A delivery that is not its key’s held head is not affected. 409 when the delivery ' +
      'was not made in order, its request is not recorded yet, or its subscription is deleted or not active.',
    success: {
      schema: skipAcceptedResponseSchema,
      description: 'handed to the dispatcher',
      example: { deliveryId: exampleDelivery.id, orderingKey: 'SK123', status: 'enqueued' },
    },
    errors: [...AUTH_AND_TENANT, ApiErrorCode.Conflict, ApiErrorCode.KafkaUnavailable],
  })
  @Post(':id/skip')
  @HttpCode(202)
  skip(@CurrentOrganisation() organisation: Organisation, @Param('id') id: string): Promise<SkipAccepted> {
    return this.resender.skip(organisation, deliveryIdOf(id));
  }
}

/** One subscription's delivery history; a deleted subscription's history stays readable. */
@DocumentedGroup({
  tag: 'Deliveries',
  description: 'Delivery history (every delivery and each of its attempts), and sending a delivery again.',
})
@Controller('v1/subscriptions/:id/deliveries')
@UseGuards(ApiKeyGuard)
export class SubscriptionDeliveriesController {
  constructor(
    private readonly history: DeliveryHistoryRepository,
    private readonly subscriptions: SubscriptionReadModelRepository,
  ) {}

  @Documented({
    summary:
      "One subscription's delivery history (also after the subscription was deleted), newest first; same " +
      'filters and cursor as GET /v1/deliveries.',
    success: {
      schema: pageSchemaOf(deliverySummaryResponseSchema),
      description: 'a page',
      example: { data: [exampleDelivery], nextCursor: null },
    },
    errors: [ApiErrorCode.ValidationFailed, ...AUTH_AND_TENANT],
  })
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
