import { z } from 'zod';
import { deliveryRequestSchema } from './delivery-request.contract';
import { type DecodableContract, defineMessageContract, type MessageContract } from './message-contract';
import { KAFKA_TOPICS, type TopicKey } from './topics';

/** A retry waiting in a delay tier: the request, which attempt comes next and when it is due. */
export const deliveryRetrySchema = z.strictObject({
  request: deliveryRequestSchema,
  attemptNumber: z.number().int().min(2),
  dueAt: z.iso.datetime({ offset: true }),
});

export type DeliveryRetry = z.infer<typeof deliveryRetrySchema>;

/** The delay tiers, shortest first: a retry waits in the longest tier not longer than its delay. */
export const RETRY_TIERS = [
  { topicKey: 'deliveryRetries1s', delayMs: 1_000 },
  { topicKey: 'deliveryRetries10s', delayMs: 10_000 },
  { topicKey: 'deliveryRetries1m', delayMs: 60_000 },
  { topicKey: 'deliveryRetries10m', delayMs: 600_000 },
  { topicKey: 'deliveryRetries1h', delayMs: 3_600_000 },
  { topicKey: 'deliveryRetries6h', delayMs: 21_600_000 },
] as const satisfies readonly { topicKey: TopicKey; delayMs: number }[];

export type RetryTier = (typeof RETRY_TIERS)[number];
export type RetryTierTopicKey = RetryTier['topicKey'];

/**
 * The tier a retry due in `remainingMs` waits in: the longest whose delay does not exceed
 * it, or the shortest for anything under a second (it then waits only until it is due).
 */
export function retryTierFor(remainingMs: number): RetryTier {
  let chosen: RetryTier = RETRY_TIERS[0];
  for (const tier of RETRY_TIERS) {
    if (tier.delayMs <= remainingMs) chosen = tier;
  }
  return chosen;
}

/** One contract per tier topic (same schema), keyed by endpoint like the requests. */
export const deliveryRetryContracts: Readonly<Record<RetryTierTopicKey, MessageContract<DeliveryRetry>>> =
  Object.fromEntries(
    RETRY_TIERS.map(({ topicKey }) => [
      topicKey,
      defineMessageContract<DeliveryRetry>({
        topic: KAFKA_TOPICS[topicKey],
        schemaId: 'delivery-retry',
        schemaVersion: 1,
        schema: deliveryRetrySchema,
        keyOf: (retry) => retry.request.subscriptionId,
      }),
    ]),
  ) as Record<RetryTierTopicKey, MessageContract<DeliveryRetry>>;

/** What a consumer of any tier decodes with. */
export const deliveryRetryDecoder: DecodableContract<DeliveryRetry> = {
  schemaId: 'delivery-retry',
  schemaVersion: 1,
  schema: deliveryRetrySchema,
};
