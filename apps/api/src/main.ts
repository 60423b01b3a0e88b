import 'reflect-metadata';
import './tracing';
import { subscriptionEventContract } from '@skyhook/contracts';
import { assertKafkaReachable, createKafkaConsumerServer } from '@skyhook/messaging';
import { assertDatabaseReachable } from '@skyhook/persistence';
import { runService } from '@skyhook/service-runtime';
import { loadApiConfig } from './api.config';
import { ApiModule } from './api.module';
import { subscriptionCommandsConsumerOptions } from './subscriptions/subscription-commands.consumer';

void runService({
  name: 'api',
  loadConfig: loadApiConfig,
  preflight: async ({ config, logger }) => {
    await assertKafkaReachable(config.kafka, logger);
    await assertDatabaseReachable(config.database);
  },
  rootModule: (context) => ApiModule.forRoot(context),
  attachConsumers: (app, { config }) => {
    app.connectMicroservice(
      {
        strategy: createKafkaConsumerServer(app, {
          group: config.SUBSCRIPTION_READ_MODEL_GROUP,
          routes: [{ topicKey: 'subscriptionEvents', contract: subscriptionEventContract }],
          // The subscription log is written only by Skyhook itself; a record that breaks its
          // contract is a bug to surface, and is logged and skipped rather than blocking.
          handleRejected: () => Promise.resolve(),
        }),
      },
      { inheritAppConfig: true },
    );
    // The dispatcher's commands (circuit breaker): a group of their own, see the consumer.
    app.connectMicroservice(
      { strategy: createKafkaConsumerServer(app, subscriptionCommandsConsumerOptions(app)) },
      { inheritAppConfig: true },
    );
  },
});
