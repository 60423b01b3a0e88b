import { type DynamicModule, Module } from '@nestjs/common';
import { type Kafka } from 'kafkajs';
import { type Registry } from 'prom-client';
import {
  BatchingProducer,
  ContractProducer,
  KAFKA_CLIENT,
  KAFKA_SETTINGS,
  type KafkaSettings,
  MESSAGING_METRICS,
  type MessagingMetrics,
  MessagingModule,
  PRODUCER_HEALTH,
  type ProducerHealthBoard,
} from '@skyhook/messaging';
import {
  METRICS_REGISTRY,
  ObservabilityModule,
  SERVICE_LOGGER,
  type ServiceLogger,
} from '@skyhook/observability';
import { type ServiceContext } from '@skyhook/service-runtime';
import { EndpointBreakers } from '@skyhook/delivery';
import { ALL_RETRY_TIER_TOPIC_KEYS } from './retry-tier-topics';
import { ConcurrencyGate } from './concurrency-gate';
import { DISPATCHER_CONFIG, type DispatcherConfig } from './dispatcher.config';
import { createDispatcherMetrics, DISPATCHER_METRICS, type DispatcherMetrics } from './dispatcher-metrics';
import { OrderedDeliveries } from './ordered-deliveries';
import { EVENT_LOOP_LOAD, EventLoopLoad } from './event-loop-load';
import { DispatcherRuntime } from './dispatcher-runtime';
import {
  CONCURRENCY_GATE,
  DELIVERY_PRODUCER,
  DeliveryDispatcher,
  ENDPOINT_BREAKERS,
  WEBHOOK_HTTP_CLIENT,
} from './delivery-dispatcher';
import { EndpointDirectory } from './endpoint-directory';
import { ProcessCapacity } from './organisation-fair-share';
import { WebhookHttpClient } from './webhook-http-client';

/** How long an attempt event waits for others before its produce request leaves. */
const ATTEMPT_EVENT_LINGER_MS = 5;

/** Signs and sends webhook deliveries, schedules retries and trips per-endpoint circuit breakers. */
@Module({})
export class DispatcherModule {
  static forRoot({ config, logger, registry }: ServiceContext<DispatcherConfig>): DynamicModule {
    const breakers = new EndpointBreakers();
    const capacity = new ProcessCapacity(
      config.DISPATCH_MAX_IN_FLIGHT,
      config.DISPATCH_MIN_IN_FLIGHT_WHEN_SATURATED,
    );
    const gate = new ConcurrencyGate(config.DISPATCH_MAX_IN_FLIGHT_PER_ENDPOINT, () => capacity.current);
    const eventLoop = new EventLoopLoad();
    // Each second: saturated, fewer in flight and the rest shared by organisation; with room, more.
    eventLoop.onSample((utilisation) => {
      capacity.adjust(utilisation > config.DISPATCH_SATURATED_EVENT_LOOP_UTILISATION, gate.inFlight);
      gate.capacityChanged();
    });
    return {
      module: DispatcherModule,
      imports: [
        ObservabilityModule.forRoot({ registry, logger }),
        MessagingModule.forRoot({
          settings: config.kafka,
          topics: [
            'deliveryRequests',
            'deliveryRequestsDeadLetter',
            'deliveryParked',
            'deliveryOrdered',
            'deliveryEvents',
            'deliveryEventsDeadLetter',
            'subscriptionEvents',
            'organisationSnapshots',
            'subscriptionCommands',
            ...ALL_RETRY_TIER_TOPIC_KEYS,
          ],
        }),
      ],
      providers: [
        { provide: DISPATCHER_CONFIG, useValue: config },
        { provide: ENDPOINT_BREAKERS, useValue: breakers },
        { provide: CONCURRENCY_GATE, useValue: gate },
        { provide: EVENT_LOOP_LOAD, useValue: eventLoop },
        {
          provide: WEBHOOK_HTTP_CLIENT,
          useValue: new WebhookHttpClient({
            connectionsPerOrigin: config.DISPATCH_CONNECTIONS_PER_ORIGIN,
            allowLoopback: config.SKYHOOK_ALLOW_HTTP_LOOPBACK,
          }),
        },
        {
          provide: DELIVERY_PRODUCER,
          useFactory: (
            kafka: Kafka,
            settings: KafkaSettings,
            metrics: MessagingMetrics,
            health: ProducerHealthBoard,
            logger: ServiceLogger,
            deadLetters: ContractProducer,
            dispatcherMetrics: DispatcherMetrics,
          ) =>
            // An attempt event or retry too large for its topic is kept in a dead-letter topic:
            // failing its send would have the attempt's webhook sent again, for ever.
            new BatchingProducer(
              kafka,
              settings,
              { name: 'attempt-events', metrics, health, logger },
              {
                producer: deadLetters,
                onDeadLettered: () =>
                  dispatcherMetrics.deliveriesDeadLettered.inc({ reason: 'record-too-large' }),
              },
              // An attempt event leaves after its webhook: waiting a few ms for others costs no
              // delivery any latency, and takes requests to the broker from one or two events each
              // to a few ms' worth (bench/RESULTS.md, "Pipeline").
              { lingerMs: ATTEMPT_EVENT_LINGER_MS },
            ),
          inject: [
            KAFKA_CLIENT,
            KAFKA_SETTINGS,
            MESSAGING_METRICS,
            PRODUCER_HEALTH,
            SERVICE_LOGGER,
            ContractProducer,
            DISPATCHER_METRICS,
          ],
        },
        {
          provide: DISPATCHER_METRICS,
          useFactory: (metricsRegistry: Registry) =>
            createDispatcherMetrics(metricsRegistry, breakers, gate, eventLoop),
          inject: [METRICS_REGISTRY],
        },
        EndpointDirectory,
        DeliveryDispatcher,
        OrderedDeliveries,
        DispatcherRuntime,
      ],
    };
  }
}
