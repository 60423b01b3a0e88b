import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { PeriodicTask } from '@skyhook/service-runtime';
import { SubscriptionCommands } from '@skyhook/subscription-commands';
import { API_CONFIG, type ApiConfig } from '../api.config';

/** Runs the expiry scan (`ExpireDueSubscriptions`) every `EXPIRY_SCAN_INTERVAL_MS`, in every replica. */
@Injectable()
export class SubscriptionExpiryScheduler implements OnModuleInit, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    private readonly commands: SubscriptionCommands,
    @Inject(API_CONFIG) config: ApiConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {
    this.task = new PeriodicTask(
      async () => {
        await this.expireDue();
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

  /** One scan now; returns how many subscriptions it expired. */
  async expireDue(): Promise<number> {
    const { expired, failures } = await this.commands.expireDue.execute();
    for (const { subscription, error } of failures) {
      this.logger.error({ err: error, subscriptionId: subscription.id }, 'could not expire subscription');
    }
    if (expired > 0) this.logger.info({ count: expired }, 'subscriptions expired');
    return expired;
  }
}
