import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { type Registry } from 'prom-client';
import { RETRY_TIERS } from '@skyhook/contracts';
import { MessagingModule } from '@skyhook/messaging';
import { METRICS_REGISTRY, ObservabilityModule } from '@skyhook/observability';
import { PersistenceModule } from '@skyhook/persistence';
import { type ServiceContext } from '@skyhook/service-runtime';
import { systemClock } from '@skyhook/subscriptions';
import {
  DeliveryHistoryRepository,
  RedeliveryAttemptNumbers,
  ReplayJobRepository,
} from '@skyhook/delivery-history';
import { API_CONFIG, type ApiConfig } from './api.config';
import { API_METRICS, createApiMetrics } from './api-metrics';
import { CLOCK } from './clock.provider';
import { ResendDeliveryService } from './deliveries/resend-delivery.service';
import { PublishClaimsRepository } from './events/publish-claims.repository';
import { PublishClaimsRetention } from './events/publish-claims-retention';
import { InboundEventProducer } from './events/inbound-event-producer';
import { PublishEventService } from './events/publish-event.service';
import { EventTypeRepository } from './event-types/event-type.repository';
import { AdminTokenGuard } from './http/admin-token.guard';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { ApiKeyGuard } from './http/api-key.guard';
import { OrganisationOutbox } from './organisations/organisation-outbox';
import { OrganisationRepository } from './organisations/organisation.repository';
import { PortalLinkGuard } from './http/portal-link.guard';
import { ApiKeyCredentialGuard } from './http/api-key-credential.guard';
import { PortalSessionRepository } from './portal-sessions/portal-session.repository';
import { API_HTTP_CONTROLLERS } from './api-http-controllers';
import { DocsController } from './openapi/docs.controller';
import { ReplayJobRunner } from './replays/replay-job.runner';
import { StartReplayService } from './replays/start-replay.service';
import { SubscriptionCommandsConsumer } from './subscriptions/subscription-commands.consumer';
import {
  PostgresSubscriptionStore,
  subscriptionCommandsProvider,
} from './subscriptions/subscription-commands.provider';
import { SubscriptionExpiryScheduler } from './subscriptions/subscription-expiry.scheduler';
import { ExpiryNoticeScheduler } from './partner-notifications/expiry-notice.scheduler';
import { PartnerNotificationOutbox } from './partner-notifications/partner-notification.outbox';
import { SubscriptionOutbox } from './subscriptions/subscription-outbox';
import { SubscriptionReadModelProjector } from './subscriptions/subscription-read-model.projector';
import { SubscriptionReadModelRepository } from './subscriptions/subscription-read-model.repository';

/** The partner-facing REST API; publishes commands and events to Kafka, reads projections from Postgres. */
@Module({})
export class ApiModule {
  static forRoot({ config, logger, registry }: ServiceContext<ApiConfig>): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        ObservabilityModule.forRoot({ registry, logger }),
        MessagingModule.forRoot({
          settings: config.kafka,
          topics: [
            'inboundEvents',
            'subscriptionEvents',
            'organisationSnapshots',
            'subscriptionCommands',
            // Resend and replay hand deliveries to the dispatcher through its retry tiers.
            ...RETRY_TIERS.map(({ topicKey }) => topicKey),
            // Resends and skips of ordered deliveries go through the ordered topic (ADR 0031).
            'deliveryOrdered',
          ],
        }),
        PersistenceModule.forRoot({ settings: config.database, applicationName: 'skyhook-api' }),
      ],
      controllers: [
        ...API_HTTP_CONTROLLERS,
        DocsController,
        SubscriptionReadModelProjector,
        SubscriptionCommandsConsumer,
      ],
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: CLOCK, useValue: systemClock },
        {
          provide: API_METRICS,
          useFactory: (metricsRegistry: Registry) => createApiMetrics(metricsRegistry),
          inject: [METRICS_REGISTRY],
        },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        ApiKeyGuard,
        AdminTokenGuard,
        PortalLinkGuard,
        ApiKeyCredentialGuard,
        PortalSessionRepository,
        OrganisationRepository,
        OrganisationOutbox,
        EventTypeRepository,
        SubscriptionReadModelRepository,
        SubscriptionOutbox,
        PostgresSubscriptionStore,
        subscriptionCommandsProvider,
        SubscriptionExpiryScheduler,
        PartnerNotificationOutbox,
        ExpiryNoticeScheduler,
        PublishClaimsRepository,
        PublishClaimsRetention,
        InboundEventProducer,
        PublishEventService,
        DeliveryHistoryRepository,
        RedeliveryAttemptNumbers,
        ResendDeliveryService,
        ReplayJobRepository,
        StartReplayService,
        ReplayJobRunner,
      ],
    };
  }
}
