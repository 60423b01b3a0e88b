import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type InboundEvent, inboundEventContract } from '@skyhook/contracts';
import { ContractProducer, OutboxRelay } from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { PARTNER_NOTIFICATION_OUTBOX_TABLE } from '@skyhook/partner-notifications';

/**
 * Takes new partner notifications to the inbound topic, where fan-out matches them to the
 * organisation's notification endpoints like any event. The api's writers nudge it after their
 * commit; the history service's final-failure notices wait for its poll (two seconds at most).
 */
@Injectable()
export class PartnerNotificationOutbox extends OutboxRelay<InboundEvent> {
  constructor(
    dataSource: DataSource,
    producer: ContractProducer,
    @Inject(SERVICE_LOGGER) logger: ServiceLogger,
  ) {
    super(
      {
        table: PARTNER_NOTIFICATION_OUTBOX_TABLE,
        contract: inboundEventContract,
        topicKey: 'inboundEvents',
        lockKey: 7_236_014_522_104,
      },
      dataSource,
      producer,
      logger,
    );
  }
}
