import { type DynamicModule, Module } from '@nestjs/common';
import { MessagingModule } from '@skyhook/messaging';
import { ObservabilityModule } from '@skyhook/observability';
import { type ServiceContext } from '@skyhook/service-runtime';
import { type DispatcherConfig } from './dispatcher.config';

/** Signs and sends webhook deliveries, schedules retries and trips per-endpoint circuit breakers. */
@Module({})
export class DispatcherModule {
  static forRoot({ config, logger, registry }: ServiceContext<DispatcherConfig>): DynamicModule {
    return {
      module: DispatcherModule,
      imports: [
        ObservabilityModule.forRoot({ registry, logger }),
        MessagingModule.forRoot({
          settings: config.kafka,
          topics: ['deliveryRequests', 'deliveryEvents', 'subscriptionEvents'],
        }),
      ],
    };
  }
}
