import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { type SubscriptionEvent } from '@skyhook/contracts';
import { type ConsumedRecord } from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { evolveSubscription, SubscriptionFoldError } from '@skyhook/subscriptions';
import { SubscriptionReadModelRepository } from './subscription-read-model.repository';

/**
 * Projects the subscription log into the read model. Versions make it idempotent: an event
 * at or below the row's version was applied already (by the command path or an earlier
 * delivery) and is skipped, so re-delivery after a crash never applies anything twice.
 */
@Controller()
export class SubscriptionReadModelProjector {
  constructor(
    private readonly dataSource: DataSource,
    private readonly readModel: SubscriptionReadModelRepository,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  @EventPattern('subscriptionEvents')
  async apply(@Payload() record: ConsumedRecord<SubscriptionEvent>): Promise<void> {
    await applySubscriptionEvent(this.dataSource, this.readModel, record.value, this.logger);
  }
}

export async function applySubscriptionEvent(
  dataSource: DataSource,
  readModel: SubscriptionReadModelRepository,
  event: SubscriptionEvent,
  logger: ServiceLogger,
): Promise<void> {
  await dataSource.transaction(async (manager) => {
    const current = await readModel.findAnyById(manager, event.subscriptionId);
    if (current !== undefined && current.version >= event.version) return;
    try {
      await readModel.saveIfNewer(manager, evolveSubscription(current, event));
    } catch (error) {
      if (!(error instanceof SubscriptionFoldError)) throw error;
      // An event whose aggregate has no creation in this read model cannot be applied; it is
      // logged for an operator rather than blocking every later subscription change.
      logger.error({ subscriptionId: event.subscriptionId, version: event.version }, error.message);
    }
  });
}
