export {
  DeliveryPolicyError,
  DeliveryPolicyErrorCode,
  type DeliveryPolicyIssue,
} from './delivery-policy.error';
export {
  EXTRA_HEADERS_MAX_COUNT,
  HEADER_NAME_MAX_LENGTH,
  HEADER_VALUE_MAX_LENGTH,
  RESERVED_HEADER_NAMES,
  extraHeadersSchema,
  headerNameSchema,
  headerValueSchema,
  isReservedHeaderName,
} from './header-name';
export {
  SIGNATURE_SCHEME_TRAITS,
  STANDARD_WEBHOOKS_HEADERS,
  hmacBase64SignatureSchema,
  hmacHexSignatureSchema,
  signatureHeaderNames,
  signaturePolicySchema,
  standardWebhooksSignatureSchema,
  timestampedHmacHexSignatureSchema,
  type SignaturePolicy,
  type SignatureScheme,
  type SignatureSchemeTraits,
} from './signature-policy';
export {
  DELIVERY_POLICY_DEFAULTS,
  RETRY_DELAYS_MAX_COUNT,
  RETRY_DELAY_MS_MAX,
  RETRY_ON,
  TIMEOUT_MS_MAX,
  TIMEOUT_MS_MIN,
  WHILE_DISABLED,
  circuitBreakerPolicySchema,
  deliveryPolicySchema,
  headersPolicySchema,
  payloadPolicySchema,
  retryPolicySchema,
  timeoutMsSchema,
  type CircuitBreakerPolicy,
  type DeliveryPolicy,
  type HeadersPolicy,
  type PayloadPolicy,
  type PayloadShape,
  type RetryOn,
  type RetryPolicy,
  type WhileDisabled,
} from './delivery-policy';
export {
  deliveryPolicyOverrideSchema,
  parseDeliveryPolicyOverride,
  type DeliveryPolicyOverride,
} from './delivery-policy-override';
export { resolveEffectivePolicy, resolveWhileDisabled, whileDisabledIn } from './effective-policy';
export {
  isRetryableOutcome,
  isSuccessfulOutcome,
  maxAttempts,
  parseRetryAfterMs,
  planNextAttempt,
  type AttemptOutcome,
  type NextAttemptPlan,
} from './retry-plan';
export {
  DEFAULT_DELIVERY_PROFILE,
  DELIVERY_PROFILES,
  DELIVERY_PROFILE_NAMES,
  PROFILE_SCOPE_KEYS,
  deliveryProfile,
  isDeliveryProfileName,
  missingScopeKey,
  type DeliveryProfile,
  type DeliveryProfileName,
  type ProfileScopeKey,
  type ProfileSubscriptionRules,
  type SubscriptionLifetimeRule,
} from './delivery-profiles';
export {
  PAYLOAD_TEMPLATE_LIMITS,
  compilePayloadTemplate,
  payloadTemplateSchema,
  type PayloadTemplate,
  type PayloadTemplateRenderer,
  type PayloadTemplateSource,
} from './payload-template';
