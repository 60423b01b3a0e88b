import 'reflect-metadata';
import './tracing';
import { assertKafkaReachable, createKafkaConsumerServer } from '@skyhook/messaging';
import { assertDatabaseReachable } from '@skyhook/persistence';
import { runService } from '@skyhook/service-runtime';
import { deliveryEventsConsumerOptions } from './delivery-events.consumer';
import { loadHistoryConfig } from './history.config';
import { HistoryModule } from './history.module';

void runService({
  name: 'history',
  loadConfig: loadHistoryConfig,
  preflight: async ({ config, logger }) => {
    await assertKafkaReachable(config.kafka, logger);
    await assertDatabaseReachable(config.database);
  },
  rootModule: (context) => HistoryModule.forRoot(context),
  attachConsumers: (app) => {
    app.connectMicroservice(
      { strategy: createKafkaConsumerServer(app, deliveryEventsConsumerOptions(app)) },
      { inheritAppConfig: true },
    );
  },
});
