import {
  DELIVERY_POLICY_DEFAULTS,
  type DeliveryPolicy,
  resolveEffectivePolicy,
} from '@skyhook/delivery-policy';
import { deliveryHeaders } from './delivery-headers';
import { aDeliveryRequest } from './test/delivery-request.fixture';

describe('deliveryHeaders', () => {
  it('sends only the content type and user agent when no header is configured', () => {
    expect(deliveryHeaders(DELIVERY_POLICY_DEFAULTS, aDeliveryRequest())).toEqual({
      'content-type': 'application/json',
      'user-agent': 'Skyhook-Webhooks/1.0',
    });
  });

  it("names the event type and delivery id headers as the policy spells them (AviationAlley's seed)", () => {
    const policy = resolveEffectivePolicy(undefined, undefined, 'aviationalley');
    const request = aDeliveryRequest();

    expect(deliveryHeaders(policy, request)).toEqual({
      'content-type': 'application/json',
      'user-agent': 'Skyhook-Webhooks/1.0',
      'X-AviationAlley-Event': 'booking.created',
      'X-AviationAlley-Delivery': request.deliveryId,
    });
  });

  it('adds the extra constant headers, and sends no header whose name is null', () => {
    const policy: DeliveryPolicy = {
      ...DELIVERY_POLICY_DEFAULTS,
      headers: {
        eventType: null,
        deliveryId: 'X-Delivery',
        extra: { 'X-Partner-Environment': 'production', 'X-Tenant': 'acme' },
      },
    };
    const headers = deliveryHeaders(policy, aDeliveryRequest());

    expect(headers).toEqual({
      'content-type': 'application/json',
      'user-agent': 'Skyhook-Webhooks/1.0',
      'X-Delivery': 'del_Q2hhcmxpZU9zY2FyRGVsdGFF',
      'X-Partner-Environment': 'production',
      'X-Tenant': 'acme',
    });
    expect(Object.values(headers)).not.toContain('booking.created');
  });

  it('returns a new object each time, so a caller adding headers cannot leak them into the policy', () => {
    const policy = resolveEffectivePolicy({ headers: { extra: { 'X-Tenant': 'acme' } } }, undefined);
    deliveryHeaders(policy, aDeliveryRequest())['X-Added'] = 'later';
    expect(policy.headers.extra).toEqual({ 'X-Tenant': 'acme' });
    expect(deliveryHeaders(policy, aDeliveryRequest())).not.toHaveProperty('X-Added');
  });
});
