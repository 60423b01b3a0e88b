import 'reflect-metadata';
import './tracing';
import { assertKafkaReachable } from '@skyhook/messaging';
import { runService } from '@skyhook/service-runtime';
import { loadDispatcherConfig } from './dispatcher.config';
import { DispatcherModule } from './dispatcher.module';

void runService({
  name: 'dispatcher',
  loadConfig: loadDispatcherConfig,
  preflight: async ({ config, logger }) => {
    await assertKafkaReachable(config.kafka, logger);
  },
  rootModule: (context) => DispatcherModule.forRoot(context),
});
