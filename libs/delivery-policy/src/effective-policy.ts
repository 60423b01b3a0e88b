import { DeliveryPolicyError, DeliveryPolicyErrorCode, issuesFromZodError } from './delivery-policy.error';
import {
  DELIVERY_POLICY_DEFAULTS,
  type DeliveryPolicy,
  deliveryPolicySchema,
  WHILE_DISABLED,
  type WhileDisabled,
} from './delivery-policy';
import { type DeliveryPolicyOverride } from './delivery-policy-override';
import {
  DEFAULT_DELIVERY_PROFILE,
  DELIVERY_PROFILES,
  type DeliveryProfileName,
  isDeliveryProfileName,
} from './delivery-profiles';

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

/** The `whileDisabled` one policy layer sets, read from a layer that may not be validated. */
export function whileDisabledIn(
  layer: Readonly<Record<string, unknown>> | undefined,
): WhileDisabled | undefined {
  const value = layer?.['whileDisabled'];
  return (WHILE_DISABLED as readonly unknown[]).includes(value) ? (value as WhileDisabled) : undefined;
}

/**
 * The `whileDisabled` of the effective policy, by {@link resolveEffectivePolicy}'s precedence
 * (the subscription's override, the organisation's default, its profile, the platform default),
 * for whoever needs that one field without resolving (and validating) the whole policy: fan-out
 * decides with it whether a disabled subscription's request is held. An unknown profile name
 * counts as none.
 */
export function resolveWhileDisabled(layers: {
  readonly subscription: WhileDisabled | undefined;
  readonly organisation: WhileDisabled | undefined;
  readonly profile: string | undefined;
}): WhileDisabled {
  const profileValue =
    layers.profile !== undefined && isDeliveryProfileName(layers.profile)
      ? DELIVERY_PROFILES[layers.profile].policy.whileDisabled
      : undefined;
  return layers.subscription ?? layers.organisation ?? profileValue ?? DELIVERY_POLICY_DEFAULTS.whileDisabled;
}
