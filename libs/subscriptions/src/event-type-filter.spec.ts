import { filtersOutsideCatalogue, matchesEventType } from './event-type-filter';

describe('event type filters', () => {
  it.each([
    [['*'], 'booking.created', true],
    [['booking.created'], 'booking.created', true],
    [['booking.created'], 'booking.cancelled', false],
    [['booking.*'], 'booking.cancelled', true],
    [['booking.*'], 'bookings.created', false],
    [['mel.deferral.*'], 'mel.deferral.expiring', true],
    [['mel.*'], 'mel.deferral.expiring', true],
    [['FLIGHT_TIME_UPDATE'], 'FLIGHT_TIME_UPDATE', true],
    [['FLIGHT_TIME_UPDATE'], 'flight_time_update', false],
    // Skyhook's notifications: by name or prefix, never by `*`.
    [['*'], 'skyhook.subscription.disabled', false],
    [['skyhook.*'], 'skyhook.subscription.disabled', true],
    [['skyhook.subscription.disabled'], 'skyhook.subscription.disabled', true],
  ])('%j matches %s: %s', (filters, type, expected) => {
    expect(matchesEventType(filters, type)).toBe(expected);
  });

  it('reports filters that name nothing in the catalogue', () => {
    const catalogue = new Set(['booking.created', 'booking.cancelled', 'FLIGHT_CREATE']);
    expect(
      filtersOutsideCatalogue(['*', 'booking.*', 'FLIGHT_CREATE', 'invoice.*', 'booking.updated'], catalogue),
    ).toEqual(['invoice.*', 'booking.updated']);
  });
});
