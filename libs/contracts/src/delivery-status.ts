/**
 * Where a delivery stands after the latest of its events, as history records it and the API and
 * CLI filter by it: the one list of delivery statuses.
 */
export const DELIVERY_STATUSES = ['retrying', 'delivered', 'failed', 'dropped', 'held'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
