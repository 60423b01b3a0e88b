import 'reflect-metadata';
import { assertKafkaReachable } from '@skyhook/messaging';
import { assertDatabaseReachable } from '@skyhook/persistence';
import { runService } from '@skyhook/service-runtime';
import { loadHistoryConfig } from './history.config';
import { HistoryModule } from './history.module';

void runService({
  name: 'history',
  loadConfig: loadHistoryConfig,
  preflight: async ({ config }) => {
    await assertKafkaReachable(config.kafka);
    await assertDatabaseReachable(config.database);
  },
  rootModule: (context) => HistoryModule.forRoot(context),
});
