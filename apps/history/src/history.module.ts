import { type DynamicModule, Module } from '@nestjs/common';
import { MessagingModule } from '@skyhook/messaging';
import { ObservabilityModule } from '@skyhook/observability';
import { PersistenceModule } from '@skyhook/persistence';
import { type ServiceContext } from '@skyhook/service-runtime';
import { type HistoryConfig } from './history.config';

/** Projects delivery and attempt events into PostgreSQL for the history API. */
@Module({})
export class HistoryModule {
  static forRoot({ config, logger, registry }: ServiceContext<HistoryConfig>): DynamicModule {
    return {
      module: HistoryModule,
      imports: [
        ObservabilityModule.forRoot({ registry, logger }),
        MessagingModule.forRoot({ settings: config.kafka, topics: ['deliveryEvents'] }),
        PersistenceModule.forRoot({ settings: config.database, applicationName: 'skyhook-history' }),
      ],
    };
  }
}
