import { type DeliveryRequest } from '@skyhook/contracts';

/** A valid delivery request; `overrides.event` replaces the whole event. */
export function aDeliveryRequest(overrides: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return {
    deliveryId: 'del_Q2hhcmxpZU9zY2FyRGVsdGFF',
    subscriptionId: 'sub_7',
    organisationId: 'org_aviation',
    event: {
      id: 'evt_42',
      type: 'booking.created',
      scope: { centerId: 'ctr_9' },
      occurredAt: '2026-05-31T14:03:22.000Z',
      data: { bookingId: 'bkg_1', status: 'confirmed', passenger: { name: 'Zoë Ångström' } },
    },
    publishedAt: '2026-05-31T14:03:22.150Z',
    held: false,
    test: false,
    ...overrides,
  };
}
