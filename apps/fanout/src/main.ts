import 'reflect-metadata';
import './tracing';
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

const FETCH_BYTES_PER_PARTITION = 4 * 1_024 * 1_024;

void runService({
  name: 'fanout',
  loadConfig: loadFanoutConfig,
  preflight: async ({ config, logger }) => {
    await assertKafkaReachable(config.kafka, logger);
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
          // kafkajs' 1 MiB a partition holds only three 256 KiB events (the api's default limit):
          // a backlog of large events would be fanned out three at a time. The produce side
          // splits whatever a call brings into requests its topic accepts.
          fetchMaxBytes: { perPartition: FETCH_BYTES_PER_PARTITION, perFetch: 4 * FETCH_BYTES_PER_PARTITION },
          handleRejected: deadLetterTo(app.get(ContractProducer), 'inboundEventsDeadLetter'),
        }),
      },
      { inheritAppConfig: true },
    );
  },
});
