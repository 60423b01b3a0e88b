import { Inject, Injectable } from '@nestjs/common';
import { type DeliveryRequest, orderedDeliveryContract } from '@skyhook/contracts';
import { ContractProducer } from '@skyhook/messaging';
import { type Clock } from '@skyhook/subscriptions';
import { DeliveryHistoryRepository, RedeliveryAttemptNumbers } from '@skyhook/delivery-history';
import { API_METRICS, type ApiMetrics } from '../api-metrics';
import { CLOCK } from '../clock.provider';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { type Organisation } from '../organisations/organisation.repository';
import { SubscriptionReadModelRepository } from '../subscriptions/subscription-read-model.repository';
import { type ResendAccepted, type SkipAccepted } from './delivery.response';
import {
  recordedRequestOf,
  REDELIVERY_TOPIC_KEY,
  redeliveryContract,
  redeliveryOf,
  redeliveryRefusal,
} from '@skyhook/delivery';

/**
 * POST /v1/deliveries/{id}/resend: one more attempt of a recorded delivery, same delivery id,
 * through the dispatcher's retry path (acks=all before the 202). A delivery made in order (its
 * request has an ordering key) is resent in order: through the ordered topic, where it releases
 * its key if it is the key's held head, and otherwise waits its key's turn (ADR 0031).
 * POST /v1/deliveries/{id}/skip: a held ordered delivery's key goes on without it.
 *
 * The attempt number is reserved (`RedeliveryAttemptNumbers`): one past both what history has
 * recorded and what earlier resends or replays of the delivery were given.
 */
@Injectable()
export class ResendDeliveryService {
  constructor(
    private readonly history: DeliveryHistoryRepository,
    private readonly attemptNumbers: RedeliveryAttemptNumbers,
    private readonly subscriptions: SubscriptionReadModelRepository,
    private readonly producer: ContractProducer,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
  ) {}

  async resend(organisation: Organisation, deliveryId: string): Promise<ResendAccepted> {
    const { delivery, request } = await this.sendable(organisation, deliveryId);
    const reserved = await this.attemptNumbers.reserve([delivery]);
    const retry = redeliveryOf(request, reserved.get(deliveryId) as number, this.clock.now());
    if (request.orderingKey === undefined) {
      await this.producer.send(redeliveryContract, REDELIVERY_TOPIC_KEY, [retry]);
    } else {
      await this.producer.send(orderedDeliveryContract, 'deliveryOrdered', [
        {
          kind: 'release',
          release: {
            ...this.releaseOf(retry.request, 'resend'),
            request: retry.request,
            attemptNumber: retry.attemptNumber,
          },
        },
      ]);
    }
    this.metrics.deliveriesResent.inc();
    return { deliveryId, attemptNumber: retry.attemptNumber, status: 'enqueued' };
  }

  async skip(organisation: Organisation, deliveryId: string): Promise<SkipAccepted> {
    const { request } = await this.sendable(organisation, deliveryId);
    if (request.orderingKey === undefined) {
      throw new ApiError(
        ApiErrorCode.Conflict,
        `delivery ${deliveryId} was not made in order: only a held delivery of an ordered subscription can be skipped`,
        'DELIVERY_NOT_ORDERED',
        { deliveryId },
      );
    }
    await this.producer.send(orderedDeliveryContract, 'deliveryOrdered', [
      { kind: 'release', release: this.releaseOf(request, 'skip') },
    ]);
    return { deliveryId, orderingKey: request.orderingKey, status: 'enqueued' };
  }

  private releaseOf(request: DeliveryRequest, action: 'skip' | 'resend') {
    return {
      subscriptionId: request.subscriptionId,
      organisationId: request.organisationId,
      orderingKey: request.orderingKey ?? '',
      deliveryId: request.deliveryId,
      action,
      requestedAt: this.clock.now().toISOString(),
    };
  }

  /** The recorded delivery and its request, when its subscription may still receive it. */
  private async sendable(organisation: Organisation, deliveryId: string) {
    const delivery = await this.history.find(organisation.id, deliveryId);
    if (delivery === undefined) {
      throw new ApiError(ApiErrorCode.NotFound, `delivery ${deliveryId} not found`, 'DELIVERY_NOT_FOUND');
    }
    const request = recordedRequestOf(delivery.request, delivery);
    if (request === undefined) {
      throw new ApiError(
        ApiErrorCode.Conflict,
        `delivery ${deliveryId} has no recorded request yet; retry once its first attempt is in the history`,
        'DELIVERY_REQUEST_NOT_RECORDED',
        { deliveryId },
      );
    }
    const refusal = redeliveryRefusal(
      delivery.subscriptionId,
      await this.subscriptions.findIncludingDeleted(organisation.id, delivery.subscriptionId),
    );
    if (refusal !== undefined) throw refusal;
    return { delivery, request };
  }
}
