import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { PeriodicTask } from '@skyhook/service-runtime';
import { type Clock } from '@skyhook/subscriptions';
import { API_CONFIG, type ApiConfig } from '../api.config';
import { CLOCK } from '../clock.provider';
import { SubscriptionCommandsService } from './subscription-commands.service';
import { SubscriptionReadModelRepository } from './subscription-read-model.repository';

const EXPIRY_BATCH = 200;

/**
 * Emits SubscriptionExpired once `expiresAt` has passed, so expiry is an event every service
 * sees (fan-out stops matching), not a check each reader must remember. The command is a
 * no-op if another replica got there first.
 */
@Injectable()
export class SubscriptionExpiryScheduler implements OnModuleInit, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    private readonly readModel: SubscriptionReadModelRepository,
    private readonly commands: SubscriptionCommandsService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {
    this.task = new PeriodicTask(
      async () => {
        const count = await this.expireDue();
        if (count > 0) this.logger.info({ count }, 'subscriptions expired');
      },
      config.EXPIRY_SCAN_INTERVAL_MS,
      (error) => this.logger.warn({ err: error }, 'expiry scan failed; retrying'),
    );
  }

  onModuleInit(): void {
    this.task.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /**
   * One scan: expires everything due now. Returns how many subscriptions expired. One that
   * fails is logged and skipped, so it cannot hold back the expiry of all the others.
   */
  async expireDue(): Promise<number> {
    let expired = 0;
    for (;;) {
      const due = await this.readModel.findDueForExpiry(this.clock.now(), EXPIRY_BATCH);
      let failed = 0;
      for (const subscription of due) {
        try {
          await this.commands.expire(subscription.organisationId, subscription.id);
          expired += 1;
        } catch (error) {
          failed += 1;
          this.logger.error({ err: error, subscriptionId: subscription.id }, 'could not expire subscription');
        }
      }
      // A short batch means nothing else is due; a batch of nothing but failures would repeat forever.
      if (due.length < EXPIRY_BATCH || failed === due.length) return expired;
    }
  }
}
