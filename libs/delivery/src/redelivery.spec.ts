import { type DeliveryRequest, deliveryRetrySchema, RETRY_TIERS } from '@skyhook/contracts';
import { recordedRequestOf, REDELIVERY_TOPIC_KEY, redeliveryOf, redeliveryRefusal } from './redelivery';

const request: DeliveryRequest = {
  deliveryId: 'del_1',
  subscriptionId: 'sub_1',
  organisationId: 'org_1',
  event: {
    id: 'evt_1',
    type: 'booking.created',
    scope: {},
    occurredAt: '2026-05-31T18:00:00.000Z',
    data: { a: 1 },
  },
  publishedAt: '2026-05-31T18:00:00.000Z',
  held: true,
  test: false,
};
const identity = { organisationId: 'org_1', subscriptionId: 'sub_1', deliveryId: 'del_1' };

describe('sending a recorded delivery again', () => {
  it('is the reserved attempt, due now, in the shortest retry tier, no longer held', () => {
    const now = new Date('2026-06-01T00:00:00.000Z');
    const retry = redeliveryOf(request, 4, now);
    expect(deliveryRetrySchema.parse(retry)).toEqual({
      request: { ...request, held: false },
      attemptNumber: 4,
      dueAt: '2026-06-01T00:00:00.000Z',
    });
    expect(REDELIVERY_TOPIC_KEY).toBe(RETRY_TIERS[0].topicKey);
  });

  it('sends only a valid request of the same organisation, subscription and delivery', () => {
    expect(recordedRequestOf(request, identity)).toEqual(request);
    expect(recordedRequestOf(null, identity)).toBeUndefined();
    expect(recordedRequestOf({ deliveryId: 'del_1' }, identity)).toBeUndefined();
    expect(recordedRequestOf({ ...request, organisationId: 'org_2' }, identity)).toBeUndefined();
    expect(recordedRequestOf(request, { ...identity, deliveryId: 'del_2' })).toBeUndefined();
  });

  it('is refused with 409 for a deleted or inactive subscription, saying why', () => {
    expect(redeliveryRefusal('sub_1', { status: 'active', deleted: false })).toBeUndefined();
    expect(redeliveryRefusal('sub_1', undefined)?.code).toBe('SUBSCRIPTION_DELETED');
    expect(redeliveryRefusal('sub_1', { status: 'active', deleted: true })?.code).toBe(
      'SUBSCRIPTION_DELETED',
    );
    const disabled = redeliveryRefusal('sub_1', { status: 'disabled', deleted: false });
    expect([disabled?.code, disabled?.message]).toEqual([
      'SUBSCRIPTION_NOT_ACTIVE',
      'subscription sub_1 is disabled; only an active subscription receives deliveries again (enable it first)',
    ]);
  });
});
