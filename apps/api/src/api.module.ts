import { type DynamicModule, Module } from '@nestjs/common';
import { MessagingModule } from '@skyhook/messaging';
import { ObservabilityModule } from '@skyhook/observability';
import { PersistenceModule } from '@skyhook/persistence';
import { type ServiceContext } from '@skyhook/service-runtime';
import { type ApiConfig } from './api.config';

/** The partner-facing REST API; publishes commands and events to Kafka, reads projections from Postgres. */
@Module({})
export class ApiModule {
  static forRoot({ config, logger, registry }: ServiceContext<ApiConfig>): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        ObservabilityModule.forRoot({ registry, logger }),
        MessagingModule.forRoot({ settings: config.kafka, topics: ['inboundEvents', 'subscriptionEvents'] }),
        PersistenceModule.forRoot({ settings: config.database, applicationName: 'skyhook-api' }),
      ],
    };
  }
}
