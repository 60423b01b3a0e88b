import { isReservedEventType } from '@skyhook/contracts';

/**
 * Subscription filters: `*` (every type of the organisation's own), an exact type
 * (`booking.created`, `FLIGHT_TIME_UPDATE`) or a dotted prefix (`booking.*`, `mel.deferral.*`).
 * Skyhook's notification types (`skyhook.*`) are matched only by name or prefix, never by `*`.
 */
export function matchesEventType(filters: readonly string[], eventType: string): boolean {
  return filters.some((filter) => filterMatches(filter, eventType));
}

function filterMatches(filter: string, eventType: string): boolean {
  if (filter === '*') return !isReservedEventType(eventType);
  if (filter.endsWith('.*')) return eventType.startsWith(filter.slice(0, -1));
  return filter === eventType;
}

/** The filters that name nothing in the organisation's catalogue (typos, removed types). */
export function filtersOutsideCatalogue(
  filters: readonly string[],
  catalogue: ReadonlySet<string>,
): string[] {
  return filters.filter((filter) => {
    if (filter === '*') return false;
    if (filter.endsWith('.*')) {
      const prefix = filter.slice(0, -1);
      return ![...catalogue].some((type) => type.startsWith(prefix));
    }
    return !catalogue.has(filter);
  });
}
