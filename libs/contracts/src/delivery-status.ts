/**
 * Where a delivery stands after the latest of its events, as history records it and the API and
 * CLI filter by it: the one list of delivery statuses. `waiting`: an ordered delivery waiting for
 * the one before it of its ordering key (history names that one).
 */
export const DELIVERY_STATUSES = ['waiting', 'retrying', 'delivered', 'failed', 'dropped', 'held'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
