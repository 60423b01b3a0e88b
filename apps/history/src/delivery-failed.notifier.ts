import { type DataSource } from 'typeorm';
import { type FinalFailure } from '@skyhook/delivery-history';
import {
  notifiedFailureOf,
  partnerNotification,
  type PartnerNotification,
  recordPartnerNotifications,
} from '@skyhook/partner-notifications';

/**
 * Turns deliveries that failed for good into `skyhook.delivery.failed` notifications, at most one
 * per subscription per window of `intervalSeconds` (clock-aligned): the notification's id is the
 * subscription and the window, so the first failure of a window is the one notified, and a batch
 * projected again notifies nothing new. The api's outbox relay sends what this records.
 */
export class DeliveryFailedNotifier {
  constructor(
    private readonly dataSource: DataSource,
    private readonly intervalSeconds: number,
  ) {}

  noticesFor(failures: readonly FinalFailure[]): PartnerNotification[] {
    return failures.map((failure) => {
      const window =
        this.intervalSeconds === 0
          ? failure.deliveryId
          : Math.floor(Date.parse(failure.attemptedAt) / (this.intervalSeconds * 1_000));
      return partnerNotification(
        'skyhook.delivery.failed',
        failure.organisationId,
        failure.subscriptionId,
        [failure.subscriptionId, window],
        failure.attemptedAt,
        {
          subscriptionId: failure.subscriptionId,
          url: failure.url,
          deliveryId: failure.deliveryId,
          eventId: failure.eventId,
          eventType: failure.eventType,
          failure: notifiedFailureOf(failure),
          rateLimitSeconds: this.intervalSeconds,
        },
      );
    });
  }

  /** Records the failures' notices (the new ones only); resolves once committed. */
  async record(failures: readonly FinalFailure[]): Promise<number> {
    if (failures.length === 0) return 0;
    const notices = this.noticesFor(failures);
    const fresh = await this.dataSource.transaction((manager) =>
      recordPartnerNotifications(manager, notices),
    );
    return fresh.length;
  }
}
