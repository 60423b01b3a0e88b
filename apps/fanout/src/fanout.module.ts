import { type DynamicModule, Module } from '@nestjs/common';
import { MessagingModule } from '@skyhook/messaging';
import { ObservabilityModule } from '@skyhook/observability';
import { type ServiceContext } from '@skyhook/service-runtime';
import { type FanoutConfig } from './fanout.config';

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
          topics: ['inboundEvents', 'inboundEventsDeadLetter', 'subscriptionEvents', 'deliveryRequests'],
        }),
      ],
    };
  }
}
