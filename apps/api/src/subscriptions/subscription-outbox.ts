import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type SubscriptionEvent, subscriptionEventContract } from '@skyhook/contracts';
import { ContractProducer, OutboxRelay } from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';

/**
 * Subscription events, written in the same transaction as the version bump, so an accepted
 * change is never lost and no two commands claim one version (see ADR 5).
 */
@Injectable()
export class SubscriptionOutbox extends OutboxRelay<SubscriptionEvent> {
  constructor(
    dataSource: DataSource,
    producer: ContractProducer,
    @Inject(SERVICE_LOGGER) logger: ServiceLogger,
  ) {
    super(
      {
        table: 'subscription_outbox',
        contract: subscriptionEventContract,
        topicKey: 'subscriptionEvents',
        lockKey: 7_236_014_522_102,
      },
      dataSource,
      producer,
      logger,
    );
  }

  enqueue(manager: EntityManager, event: SubscriptionEvent): Promise<void> {
    return this.insert(manager, { subscription_id: event.subscriptionId, version: event.version }, event);
  }
}
