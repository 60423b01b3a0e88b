import { type DynamicModule, Module } from '@nestjs/common';
import { type Registry } from 'prom-client';
import { OrganisationDirectory, SubscriptionIndex } from '@skyhook/fanout';
import { MessagingModule } from '@skyhook/messaging';
import { METRICS_REGISTRY, ObservabilityModule } from '@skyhook/observability';
import { type ServiceContext } from '@skyhook/service-runtime';
import { type FanoutConfig } from './fanout.config';
import { FanoutIndexLoader } from './fanout-index.loader';
import { createFanoutMetrics, FANOUT_METRICS } from './fanout-metrics';
import { DeliveryRequestProducers } from './delivery-request-producers';
import { InboundEventsController } from './inbound-events.controller';

/** Matches inbound events against active subscriptions and emits one delivery request per match. */
@Module({})
export class FanoutModule {
  static forRoot({ config, logger, registry }: ServiceContext<FanoutConfig>): DynamicModule {
    return {
      module: FanoutModule,
      imports: [
        ObservabilityModule.forRoot({ registry, logger }),
        MessagingModule.forRoot({
          settings: config.kafka,
          topics: [
            'inboundEvents',
            'inboundEventsDeadLetter',
            'subscriptionEvents',
            'organisationSnapshots',
            'deliveryRequests',
            'deliveryRequestsDeadLetter',
            'deliveryOrdered',
          ],
        }),
      ],
      controllers: [InboundEventsController],
      providers: [
        { provide: SubscriptionIndex, useValue: new SubscriptionIndex() },
        { provide: OrganisationDirectory, useValue: new OrganisationDirectory() },
        {
          provide: FANOUT_METRICS,
          useFactory: (
            metricsRegistry: Registry,
            index: SubscriptionIndex,
            directory: OrganisationDirectory,
          ) => createFanoutMetrics(metricsRegistry, index, directory),
          inject: [METRICS_REGISTRY, SubscriptionIndex, OrganisationDirectory],
        },
        FanoutIndexLoader,
        DeliveryRequestProducers,
      ],
    };
  }
}
