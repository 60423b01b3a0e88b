import 'reflect-metadata';
import { CONSUMER_GROUPS } from '@skyhook/contracts';
import {
  assertKafkaReachable,
  ContractProducer,
  createKafkaConsumerServer,
  deadLetterTo,
} from '@skyhook/messaging';
import { runService } from '@skyhook/service-runtime';
import { loadFanoutConfig } from './fanout.config';
import { FanoutModule } from './fanout.module';
import { INBOUND_ROUTE } from './inbound-events.controller';

void runService({
  name: 'fanout',
  loadConfig: loadFanoutConfig,
  preflight: async ({ config }) => {
    await assertKafkaReachable(config.kafka);
  },
  rootModule: (context) => FanoutModule.forRoot(context),
  attachConsumers: (app) => {
    app.connectMicroservice(
      {
        strategy: createKafkaConsumerServer(app, {
          group: CONSUMER_GROUPS.fanout.name,
          routes: [INBOUND_ROUTE],
          batched: true,
          maxRecordsPerCall: 500,
          partitionsConsumedConcurrently: 3,
          handleRejected: deadLetterTo(app.get(ContractProducer), 'inboundEventsDeadLetter'),
        }),
      },
      { inheritAppConfig: true },
    );
  },
});
