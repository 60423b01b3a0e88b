import { type DataSource } from 'typeorm';
import { type FinalFailure } from '@skyhook/delivery-history';
import { DeliveryFailedNotifier } from './delivery-failed.notifier';

function failure(
  subscriptionId: string,
  attemptedAt: string,
  deliveryId = `del_${attemptedAt}`,
): FinalFailure {
  return {
    organisationId: 'org_1',
    subscriptionId,
    deliveryId,
    eventId: 'evt_1',
    eventType: 'booking.created',
    url: 'https://partner.example.com/hooks',
    attemptNumber: 3,
    attemptedAt,
    outcome: 'http-error',
    responseStatus: 500,
    errorCode: null,
    responseBody: 'x'.repeat(1_000),
  };
}

const unusedDatabase = {} as DataSource;

describe('skyhook.delivery.failed notices', () => {
  it('names failures of one subscription in one window alike, and other windows and subscriptions apart', () => {
    const notifier = new DeliveryFailedNotifier(unusedDatabase, 900);
    const [first, sameWindow, nextWindow, otherSubscription] = notifier.noticesFor([
      failure('sub_a', '2026-12-01T10:00:01.000Z'),
      failure('sub_a', '2026-12-01T10:14:59.000Z'),
      failure('sub_a', '2026-12-01T10:15:00.000Z'),
      failure('sub_b', '2026-12-01T10:00:01.000Z'),
    ]);
    expect(sameWindow!.id).toBe(first!.id);
    expect(nextWindow!.id).not.toBe(first!.id);
    expect(otherSubscription!.id).not.toBe(first!.id);
    expect(first!.data).toMatchObject({
      deliveryId: 'del_2026-12-01T10:00:01.000Z',
      rateLimitSeconds: 900,
      failure: { responseStatus: 500, attemptNumber: 3 },
    });
    expect(first!.data).toMatchObject({ failure: { responseBodyExcerpt: 'x'.repeat(256) } });
  });

  it('with no interval, notifies every delivery', () => {
    const notifier = new DeliveryFailedNotifier(unusedDatabase, 0);
    const [a, b] = notifier.noticesFor([
      failure('sub_a', '2026-12-01T10:00:01.000Z', 'del_1'),
      failure('sub_a', '2026-12-01T10:00:01.000Z', 'del_2'),
    ]);
    expect(a!.id).not.toBe(b!.id);
  });
});
