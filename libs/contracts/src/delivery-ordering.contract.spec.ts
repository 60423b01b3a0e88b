import { jsonPointerSchema, orderedDeliveryContract, orderingKeyOf } from './delivery-ordering.contract';

const event = {
  id: 'evt_1',
  type: 'flight.departed',
  scope: { airline: 'SKY' },
  occurredAt: '2026-12-06T10:00:00Z',
  data: {
    flightId: 'SK123',
    leg: 2,
    cancelled: false,
    'a/b': 'slash',
    'm~n': 'tilde',
    crew: ['CPT', 'FO'],
    none: null,
  },
};

describe('per-key ordering contract', () => {
  it('accepts JSON Pointers and refuses what is not one', () => {
    for (const pointer of ['/data/flightId', '/scope/airline', '/data/a~1b', '/data/m~0n', '/data/crew/0']) {
      expect(jsonPointerSchema.safeParse(pointer).success).toBe(true);
    }
    for (const pointer of ['', 'data/flightId', '/data/~2x', '/data/~', 'x'.repeat(300)]) {
      expect(jsonPointerSchema.safeParse(pointer).success).toBe(false);
    }
  });

  it('reads the key: strings as they are, numbers and booleans as JSON, escapes and array indexes resolved', () => {
    expect(orderingKeyOf(event, '/data/flightId')).toBe('SK123');
    expect(orderingKeyOf(event, '/data/leg')).toBe('2');
    expect(orderingKeyOf(event, '/data/cancelled')).toBe('false');
    expect(orderingKeyOf(event, '/data/a~1b')).toBe('slash');
    expect(orderingKeyOf(event, '/data/m~0n')).toBe('tilde');
    expect(orderingKeyOf(event, '/data/crew/1')).toBe('FO');
    expect(orderingKeyOf(event, '/scope/airline')).toBe('SKY');
  });

  it('gives events without a usable value the one empty key, and digests long keys', () => {
    for (const pointer of [
      '/data/missing',
      '/data/none',
      '/data/crew',
      '/data/flightId/x',
      '/data/crew/01',
      '/data/toString',
    ]) {
      expect(orderingKeyOf(event, pointer)).toBe('');
    }
    const long = orderingKeyOf({ data: { id: 'x'.repeat(500) } }, '/data/id');
    expect(long).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(orderingKeyOf({ data: { id: 'x'.repeat(500) } }, '/data/id')).toBe(long);
  });

  it('keys a delivery and a release of the same key alike, so they share a partition', () => {
    const request = {
      deliveryId: 'del_1',
      subscriptionId: 'sub_1',
      organisationId: 'org_1',
      event: { ...event, data: {} },
      publishedAt: '2026-12-06T10:00:00Z',
      held: false,
      test: false,
      orderingKey: 'SK123',
    };
    const release = {
      subscriptionId: 'sub_1',
      organisationId: 'org_1',
      orderingKey: 'SK123',
      deliveryId: 'del_1',
      action: 'skip' as const,
      requestedAt: '2026-12-06T10:00:00Z',
    };
    expect(orderedDeliveryContract.keyOf({ kind: 'delivery', request })).toBe(
      orderedDeliveryContract.keyOf({ kind: 'release', release }),
    );
    expect(
      orderedDeliveryContract.keyOf({ kind: 'delivery', request: { ...request, orderingKey: 'SK124' } }),
    ).not.toBe(orderedDeliveryContract.keyOf({ kind: 'release', release }));
  });
});
