import { hash } from 'node:crypto';
import { z } from 'zod';
import { deliveryRequestSchema } from './delivery-request.contract';
import { identifierSchema } from './inbound-event.contract';
import { defineMessageContract } from './message-contract';
import { KAFKA_TOPICS } from './topics';

/**
 * A JSON Pointer (RFC 6901) into the event as a receiver sees it (`/id`, `/type`, `/scope/…`,
 * `/occurredAt`, `/data/…`): `~0` and `~1` are the only escapes, every other `~` is malformed.
 */
export const jsonPointerSchema = z
  .string()
  .max(256)
  .regex(/^(\/([^~/]|~[01])*)+$/, 'a JSON Pointer such as /data/flightId (RFC 6901: ~0 for ~, ~1 for /)');

/** What happens to a key after its head delivery failed for good. */
export const AFTER_FINAL_FAILURE = ['skip', 'hold'] as const;
export type AfterFinalFailure = (typeof AFTER_FINAL_FAILURE)[number];

/**
 * Per-key FIFO for one subscription (ADR 0031): deliveries whose events have the same value at
 * `key` reach the endpoint strictly in publish order, the next only once the one before it was
 * delivered or ended for good. `afterFinalFailure`: `skip` goes on with the next one; `hold`
 * keeps the key waiting until the partner resends or skips the failed delivery.
 */
export const deliveryOrderingSchema = z.strictObject({
  key: jsonPointerSchema,
  afterFinalFailure: z.enum(AFTER_FINAL_FAILURE),
});
export type DeliveryOrdering = z.infer<typeof deliveryOrderingSchema>;

/** Keys longer than this are replaced by their digest: a key names a queue, it is not shown whole. */
const MAX_KEY_LENGTH = 200;

/**
 * The ordering key of an event under `pointer`: a string value as it is, a number or boolean as
 * its JSON text. Events without such a value (missing, null, an object or array) share the empty
 * key, so they are ordered among themselves rather than not at all.
 */
export function orderingKeyOf(event: Readonly<Record<string, unknown>>, pointer: string): string {
  let value: unknown = event;
  for (const token of pointer.slice(1).split('/')) {
    if (value === null || typeof value !== 'object') return '';
    const name = token.replaceAll('~1', '/').replaceAll('~0', '~');
    value = Array.isArray(value)
      ? /^(0|[1-9][0-9]*)$/.test(name)
        ? value[Number(name)]
        : undefined
      : Object.hasOwn(value, name)
        ? (value as Record<string, unknown>)[name]
        : undefined;
  }
  let key: string;
  if (typeof value === 'string') key = value;
  else if (typeof value === 'number' || typeof value === 'boolean') key = JSON.stringify(value);
  else return '';
  return key.length <= MAX_KEY_LENGTH ? key : `sha256:${hash('sha256', key, 'hex')}`;
}

/**
 * A partner's word on a delivery of an ordered subscription. `skip`: if it is its key's held
 * head, the key goes on with the next delivery. `resend` (with the request and the attempt
 * number reserved for it): a held head is attempted again in its place; any other delivery is
 * sent again in its key's turn, after what the key already has in hand.
 */
export const orderedKeyReleaseSchema = z.strictObject({
  subscriptionId: identifierSchema,
  organisationId: identifierSchema,
  orderingKey: z.string().max(300),
  deliveryId: identifierSchema,
  action: z.enum(['skip', 'resend']),
  requestedAt: z.iso.datetime({ offset: true }),
  request: deliveryRequestSchema.optional(),
  attemptNumber: z.number().int().min(1).optional(),
});
export type OrderedKeyRelease = z.infer<typeof orderedKeyReleaseSchema>;

/**
 * A record of the ordered topic: a delivery of an ordered subscription, or a release of a held
 * key. Both are keyed by subscription and ordering key, so a key's deliveries, and the releases of
 * its head, are read in order from one partition.
 */
export const orderedDeliveryRecordSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('delivery'), request: deliveryRequestSchema }),
  z.strictObject({ kind: z.literal('release'), release: orderedKeyReleaseSchema }),
]);
export type OrderedDeliveryRecord = z.infer<typeof orderedDeliveryRecordSchema>;

/** The Kafka key of a subscription's ordering key: one partition per (subscription, key). */
export function orderedLaneOf(subscriptionId: string, orderingKey: string): string {
  return `${subscriptionId}\u0000${orderingKey}`;
}

export const orderedDeliveryContract = defineMessageContract<OrderedDeliveryRecord>({
  topic: KAFKA_TOPICS.deliveryOrdered,
  schemaId: 'ordered-delivery',
  schemaVersion: 1,
  schema: orderedDeliveryRecordSchema,
  keyOf: (record) =>
    record.kind === 'delivery'
      ? orderedLaneOf(record.request.subscriptionId, record.request.orderingKey ?? '')
      : orderedLaneOf(record.release.subscriptionId, record.release.orderingKey),
});
