import { DeliveryPolicyError, DeliveryPolicyErrorCode, issuesFromZodError } from './delivery-policy.error';
import { DELIVERY_POLICY_DEFAULTS, type DeliveryPolicy, deliveryPolicySchema } from './delivery-policy';
import { type DeliveryPolicyOverride } from './delivery-policy-override';
import { DEFAULT_DELIVERY_PROFILE, DELIVERY_PROFILES, type DeliveryProfileName } from './delivery-profiles';

/**
 * The policy a subscription's deliveries run under: the platform defaults, overlaid by the
 * organisation's profile, then by the organisation's default, then by the subscription's
 * override (merge rules on
 * `deliveryPolicyOverrideSchema`). The result is validated as a whole, because layers that are
 * each valid can still combine into an invalid policy (e.g. the organisation names its event
 * type header `X-Signature` and the subscription signs into `X-Signature`); that throws a
 * {@link DeliveryPolicyError} with code `InvalidEffectivePolicy` listing every issue by path.
 */
export function resolveEffectivePolicy(
  organisationDefault: DeliveryPolicyOverride | undefined,
  subscriptionOverride: DeliveryPolicyOverride | undefined,
  profile: DeliveryProfileName = DEFAULT_DELIVERY_PROFILE,
): DeliveryPolicy {
  const merged = overlay(
    overlay(overlay(DELIVERY_POLICY_DEFAULTS, DELIVERY_PROFILES[profile].policy), organisationDefault),
    subscriptionOverride,
  );
  const parsed = deliveryPolicySchema.safeParse(merged);
  if (!parsed.success) {
    throw new DeliveryPolicyError(
      DeliveryPolicyErrorCode.InvalidEffectivePolicy,
      issuesFromZodError(parsed.error),
    );
  }
  return parsed.data;
}

function overlay(base: DeliveryPolicy, override: DeliveryPolicyOverride | undefined): DeliveryPolicy {
  if (override === undefined) {
    return base;
  }
  const { headers, retry, circuitBreaker } = override;
  return {
    signature: override.signature ?? base.signature,
    headers: {
      // `null` is a value here (header turned off), so only `undefined` inherits.
      eventType: headers?.eventType === undefined ? base.headers.eventType : headers.eventType,
      deliveryId: headers?.deliveryId === undefined ? base.headers.deliveryId : headers.deliveryId,
      extra: headers?.extra ?? base.headers.extra,
    },
    payload: override.payload ?? base.payload,
    timeoutMs: override.timeoutMs ?? base.timeoutMs,
    retry: {
      delaysMs: retry?.delaysMs ?? base.retry.delaysMs,
      retryOn: retry?.retryOn ?? base.retry.retryOn,
      honourRetryAfter: retry?.honourRetryAfter ?? base.retry.honourRetryAfter,
    },
    circuitBreaker: {
      consecutiveFailuresToDisable:
        circuitBreaker?.consecutiveFailuresToDisable ?? base.circuitBreaker.consecutiveFailuresToDisable,
    },
    whileDisabled: override.whileDisabled ?? base.whileDisabled,
  };
}
