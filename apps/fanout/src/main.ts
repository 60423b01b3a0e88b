import 'reflect-metadata';
import { assertKafkaReachable } from '@skyhook/messaging';
import { runService } from '@skyhook/service-runtime';
import { loadFanoutConfig } from './fanout.config';
import { FanoutModule } from './fanout.module';

void runService({
  name: 'fanout',
  loadConfig: loadFanoutConfig,
  preflight: async ({ config }) => {
    await assertKafkaReachable(config.kafka);
  },
  rootModule: (context) => FanoutModule.forRoot(context),
});
