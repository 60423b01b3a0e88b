import 'reflect-metadata';
import { assertKafkaReachable } from '@skyhook/messaging';
import { assertDatabaseReachable } from '@skyhook/persistence';
import { runService } from '@skyhook/service-runtime';
import { loadApiConfig } from './api.config';
import { ApiModule } from './api.module';

void runService({
  name: 'api',
  loadConfig: loadApiConfig,
  preflight: async ({ config }) => {
    await assertKafkaReachable(config.kafka);
    await assertDatabaseReachable(config.database);
  },
  rootModule: (context) => ApiModule.forRoot(context),
});
