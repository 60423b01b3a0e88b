import {
  CodedError,
  type DeliveryRequest,
  deliveryRequestSchema,
  type DeliveryRetry,
  deliveryRetryContracts,
  type MessageContract,
  retryTierFor,
  type RetryTierTopicKey,
} from '@skyhook/contracts';
import { type SubscriptionState } from '@skyhook/subscriptions';

/**
 * Resend and replay go through the dispatcher's own retry path: a retry due now, in the
 * shortest delay tier, which the dispatcher's retry consumer attempts at once. Same delivery id,
 * same signing and breaker as any other attempt; nothing in the api talks HTTP to an endpoint.
 */
const SHORTEST_TIER = retryTierFor(0);
export const REDELIVERY_TOPIC_KEY: RetryTierTopicKey = SHORTEST_TIER.topicKey;
export const redeliveryContract: MessageContract<DeliveryRetry> =
  deliveryRetryContracts[SHORTEST_TIER.topicKey];

/**
 * The retry that sends a recorded delivery again as attempt `attemptNumber` (reserved with
 * `RedeliveryAttemptNumbers`). `held` is cleared: a held delivery is replayed precisely to be
 * sent now that its subscription is active again.
 */
export function redeliveryOf(request: DeliveryRequest, attemptNumber: number, now: Date): DeliveryRetry {
  return { request: { ...request, held: false }, attemptNumber, dueAt: now.toISOString() };
}

/**
 * The recorded request, if it is one that can be sent again: a valid DeliveryRequest of this
 * organisation, subscription and delivery (a row that says otherwise is never sent anywhere).
 */
export function recordedRequestOf(
  recorded: unknown,
  expected: { organisationId: string; subscriptionId: string; deliveryId: string },
): DeliveryRequest | undefined {
  if (recorded === null || recorded === undefined) return undefined;
  const parsed = deliveryRequestSchema.safeParse(recorded);
  if (!parsed.success) return undefined;
  const request = parsed.data;
  return request.organisationId === expected.organisationId &&
    request.subscriptionId === expected.subscriptionId &&
    request.deliveryId === expected.deliveryId
    ? request
    : undefined;
}

export enum RedeliveryRefusalCode {
  SubscriptionDeleted = 'SUBSCRIPTION_DELETED',
  SubscriptionNotActive = 'SUBSCRIPTION_NOT_ACTIVE',
}

/** A delivery its subscription cannot take again now; the api answers it with a 409. */
export class RedeliveryRefusedError extends CodedError<
  RedeliveryRefusalCode,
  { readonly subscriptionId: string; readonly status?: string }
> {
  constructor(
    code: RedeliveryRefusalCode,
    message: string,
    details: { subscriptionId: string; status?: string },
  ) {
    super(code, message, details);
  }
}

/**
 * Why a subscription cannot take a delivery sent again, or undefined when it can. Sending to a
 * deleted, revoked, expired or disabled subscription would only be recorded as skipped, so the
 * partner hears it now, with what to do, instead of finding a skip in the history later.
 */
export function redeliveryRefusal(
  subscriptionId: string,
  subscription: Pick<SubscriptionState, 'status' | 'deleted'> | undefined,
): RedeliveryRefusedError | undefined {
  if (subscription === undefined || subscription.deleted) {
    return new RedeliveryRefusedError(
      RedeliveryRefusalCode.SubscriptionDeleted,
      `subscription ${subscriptionId} is deleted; its deliveries can no longer be sent`,
      { subscriptionId },
    );
  }
  if (subscription.status !== 'active') {
    return new RedeliveryRefusedError(
      RedeliveryRefusalCode.SubscriptionNotActive,
      `subscription ${subscriptionId} is ${subscription.status}; only an active subscription receives deliveries again` +
        (subscription.status === 'disabled' ? ' (enable it first)' : ''),
      { subscriptionId, status: subscription.status },
    );
  }
  return undefined;
}
