import { Inject, Injectable, type Provider } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type InboundEvent, inboundEventContract, type SubscriptionEvent } from '@skyhook/contracts';
import { ContractProducer } from '@skyhook/messaging';
import {
  type SubscriptionChange,
  type SubscriptionRef,
  SubscriptionCommands,
  type SubscriptionStore,
} from '@skyhook/subscription-commands';
import { type Clock, type SubscriptionState } from '@skyhook/subscriptions';
import { checkWebhookUrlAndResolve } from '@skyhook/url-policy';
import { API_CONFIG, type ApiConfig } from '../api.config';
import { CLOCK } from '../clock.provider';
import { EventTypeRepository } from '../event-types/event-type.repository';
import { recordPartnerNotifications } from '@skyhook/partner-notifications';
import { PartnerNotificationOutbox } from '../partner-notifications/partner-notification.outbox';
import {
  latestFailedAttempts,
  needsChangeNotices,
  subscriptionChangeNotices,
} from '../partner-notifications/subscription-notices';
import { SubscriptionOutbox } from './subscription-outbox';
import { SubscriptionReadModelRepository } from './subscription-read-model.repository';

/**
 * The commands' store in PostgreSQL: the read model's row and the outbox's events in one
 * transaction, the row locked while the command decides (see ADR 5); the outbox relay is nudged
 * after the commit so the events reach Kafka at once.
 */
@Injectable()
export class PostgresSubscriptionStore implements SubscriptionStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly readModel: SubscriptionReadModelRepository,
    private readonly outbox: SubscriptionOutbox,
    private readonly notificationOutbox: PartnerNotificationOutbox,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async insert(subscription: SubscriptionState, event: SubscriptionEvent): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.readModel.saveIfNewer(manager, subscription);
      await this.outbox.enqueue(manager, event);
    });
    await this.outbox.nudge();
  }

  async change(
    organisationId: string,
    subscriptionId: string,
    change: (current: SubscriptionState | undefined) => SubscriptionChange,
  ): Promise<SubscriptionChange> {
    const result = await this.dataSource.transaction(async (manager) => {
      const decided = change(await this.readModel.lockLive(manager, organisationId, subscriptionId));
      for (const event of decided.events) await this.outbox.enqueue(manager, event);
      if (decided.events.length > 0) await this.readModel.saveIfNewer(manager, decided.state);
      const notified = await this.notify(manager, decided);
      return { decided, notified };
    });
    if (result.decided.events.length > 0) await this.outbox.nudge();
    if (result.notified) await this.notificationOutbox.nudge();
    return result.decided;
  }

  /** Records the partner notifications the change calls for, in its transaction; whether there were any. */
  private async notify(manager: EntityManager, decided: SubscriptionChange): Promise<boolean> {
    if (!needsChangeNotices(decided.events)) return false;
    const { state } = decided;
    const lastFailures = decided.events.some((event) => event.type === 'SubscriptionDisabled')
      ? await latestFailedAttempts(manager, state.organisationId, state.id, this.clock.now())
      : [];
    const fresh = await recordPartnerNotifications(
      manager,
      subscriptionChangeNotices(decided.events, state, lastFailures),
    );
    return fresh.length > 0;
  }

  findLive(organisationId: string, subscriptionId: string): Promise<SubscriptionState | undefined> {
    return this.readModel.findLive(organisationId, subscriptionId);
  }

  findDueForExpiry(now: Date, limit: number): Promise<readonly SubscriptionRef[]> {
    return this.readModel.findDueForExpiry(now, limit);
  }
}

/** The subscription use cases over the api's adapters: the store above, the catalogue, the URL policy, Kafka. */
export const subscriptionCommandsProvider: Provider = {
  provide: SubscriptionCommands,
  useFactory: (
    store: PostgresSubscriptionStore,
    catalogue: EventTypeRepository,
    producer: ContractProducer,
    config: ApiConfig,
    clock: Clock,
  ) =>
    new SubscriptionCommands({
      store,
      catalogue,
      urlPolicy: {
        check: async (rawUrl) =>
          (await checkWebhookUrlAndResolve(rawUrl, { allowHttpLoopback: config.SKYHOOK_ALLOW_HTTP_LOOPBACK }))
            .url.href,
      },
      secrets: config.secretCipher,
      publisher: {
        publish: async (event: InboundEvent) => {
          await producer.send(inboundEventContract, 'inboundEvents', [event]);
        },
      },
      clock,
      settings: {
        timeScale: config.timeScale,
        defaultRotationGraceMs: config.SECRET_ROTATION_GRACE_SECONDS * 1_000,
        eventMaxDataBytes: config.EVENT_MAX_DATA_BYTES,
      },
    }),
  inject: [PostgresSubscriptionStore, EventTypeRepository, ContractProducer, API_CONFIG, CLOCK],
};
