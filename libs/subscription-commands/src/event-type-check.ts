import { filtersOutsideCatalogue, SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { type EventCatalogue } from './ports';

/** Every filter names (or matches) a type of the organisation's catalogue: 422 otherwise. */
export async function checkEventTypesInCatalogue(
  catalogue: EventCatalogue,
  organisationId: string,
  filters: readonly string[],
): Promise<void> {
  const unknown = filtersOutsideCatalogue(filters, await catalogue.names(organisationId));
  if (unknown.length > 0) {
    throw new SubscriptionError(
      SubscriptionErrorCode.UnknownEventTypes,
      `unknown event types: ${unknown.join(', ')}; register them in the catalogue first (GET /v1/event-types lists it)`,
      { unknownEventTypes: unknown },
    );
  }
}
