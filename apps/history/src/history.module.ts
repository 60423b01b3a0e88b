import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { consumerGroupIdOf, MessagingModule } from '@skyhook/messaging';
import {
  METRICS_REGISTRY,
  ObservabilityModule,
  ReadinessRegistry,
  SERVICE_LOGGER,
  type ServiceLogger,
} from '@skyhook/observability';
import { DeliveryHistoryPartitions, PersistenceModule } from '@skyhook/persistence';
import { type ServiceContext } from '@skyhook/service-runtime';
import { DeliveryHistoryWriter, HistoryBatchPreparer } from '@skyhook/delivery-history';
import { DeliveryEventsConsumer, HISTORY_GROUP } from './delivery-events.consumer';
import { DeliveryHistoryProjector } from './delivery-history.projector';
import { DeliveryFailedNotifier } from './delivery-failed.notifier';
import { HISTORY_CONFIG, type HistoryConfig } from './history.config';
import { createHistoryMetrics, HISTORY_METRICS, type HistoryMetrics } from './history-metrics';
import { HistoryRetention } from './history-retention';
import { projectorLagReadiness } from './projector-lag.readiness';

/**
 * Retention runs its first check before the consumer starts (Nest bootstraps providers before
 * microservices), so today's partitions exist before the first write, and stops before the
 * database pool closes. The preparation thread ends after the consumer has stopped (Nest
 * closes microservices before `onApplicationShutdown`), so the calls in hand finish.
 */
@Injectable()
class HistoryLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly retention: HistoryRetention,
    private readonly preparer: HistoryBatchPreparer,
    private readonly readiness: ReadinessRegistry,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(HISTORY_CONFIG) private readonly config: HistoryConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.readiness.register(
      projectorLagReadiness(
        this.registry,
        consumerGroupIdOf(this.config.kafka, HISTORY_GROUP),
        this.config.readyMaxLag,
      ),
    );
    this.preparer.start();
    await this.retention.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.retention.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.preparer.stop();
  }
}

/** Projects delivery and attempt events into PostgreSQL for the history API. */
@Module({})
export class HistoryModule {
  static forRoot({ config, logger, registry }: ServiceContext<HistoryConfig>): DynamicModule {
    return {
      module: HistoryModule,
      imports: [
        ObservabilityModule.forRoot({ registry, logger }),
        MessagingModule.forRoot({
          settings: config.kafka,
          topics: ['deliveryEvents', 'deliveryEventsDeadLetter'],
        }),
        PersistenceModule.forRoot({ settings: config.database, applicationName: 'skyhook-history' }),
      ],
      controllers: [DeliveryEventsConsumer],
      providers: [
        { provide: HISTORY_CONFIG, useValue: config },
        {
          provide: HISTORY_METRICS,
          useFactory: (metricsRegistry: Registry) => createHistoryMetrics(metricsRegistry),
          inject: [METRICS_REGISTRY],
        },
        {
          // One instance for the projector and retention: a day retention drops is forgotten
          // by the cache the projector writes through.
          provide: DeliveryHistoryPartitions,
          useFactory: (dataSource: DataSource) => new DeliveryHistoryPartitions(dataSource),
          inject: [DataSource],
        },
        {
          provide: DeliveryHistoryWriter,
          useFactory: (dataSource: DataSource) => new DeliveryHistoryWriter(dataSource),
          inject: [DataSource],
        },
        {
          provide: HistoryBatchPreparer,
          useFactory: (serviceLogger: ServiceLogger) =>
            new HistoryBatchPreparer(serviceLogger.child({ component: 'preparation' })),
          inject: [SERVICE_LOGGER],
        },
        {
          provide: DeliveryHistoryProjector,
          useFactory: (
            preparer: HistoryBatchPreparer,
            partitions: DeliveryHistoryPartitions,
            writer: DeliveryHistoryWriter,
            metrics: HistoryMetrics,
            serviceLogger: ServiceLogger,
            dataSource: DataSource,
          ) =>
            new DeliveryHistoryProjector(
              preparer,
              partitions,
              writer,
              metrics,
              serviceLogger.child({ component: 'projector' }),
              {
                retentionDays: config.retentionDays,
                failureNotices: new DeliveryFailedNotifier(
                  dataSource,
                  config.deliveryFailedNoticeIntervalSeconds,
                ),
              },
            ),
          inject: [
            HistoryBatchPreparer,
            DeliveryHistoryPartitions,
            DeliveryHistoryWriter,
            HISTORY_METRICS,
            SERVICE_LOGGER,
            DataSource,
          ],
        },
        {
          provide: HistoryRetention,
          useFactory: (
            partitions: DeliveryHistoryPartitions,
            metrics: HistoryMetrics,
            serviceLogger: ServiceLogger,
          ) =>
            new HistoryRetention(partitions, metrics, serviceLogger.child({ component: 'retention' }), {
              retentionDays: config.retentionDays,
              checkIntervalMs: config.retentionCheckIntervalMs,
            }),
          inject: [DeliveryHistoryPartitions, HISTORY_METRICS, SERVICE_LOGGER],
        },
        HistoryLifecycle,
      ],
    };
  }
}
