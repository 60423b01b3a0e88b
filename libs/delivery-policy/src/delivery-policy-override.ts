import { z } from 'zod';
import { DeliveryPolicyError, DeliveryPolicyErrorCode, issuesFromZodError } from './delivery-policy.error';
import {
  WHILE_DISABLED,
  circuitBreakerPolicySchema,
  headerNameCollisions,
  payloadPolicySchema,
  retryPolicySchema,
  timeoutMsSchema,
} from './delivery-policy';
import { extraHeadersSchema, headerNameSchema } from './header-name';
import { signaturePolicySchema } from './signature-policy';

/**
 * A partial policy: an organisation's default, or a subscription's override. Every knob is
 * optional; an absent knob inherits from the layer below (defaults ← organisation ←
 * subscription). How a present knob combines with the layer below:
 *
 * - `signature` and `payload` replace as a whole. They are discriminated unions whose fields
 *   only mean something together, so an override gives a complete variant: switching to
 *   `hmac-hex` without a `header` is rejected, never completed from the layer below.
 * - `headers`, `retry` and `circuitBreaker` merge field by field: their fields are independent
 *   knobs, so overriding `retry.delaysMs` keeps the inherited `retry.retryOn`.
 * - Lists and maps replace as a whole: `retry.delaysMs` is one schedule, and `headers.extra`
 *   is one set of headers (`{}` removes all inherited extra headers).
 * - `headers.eventType` / `headers.deliveryId` set to `null` turn an inherited header off.
 *
 * Unknown keys are rejected, so a misspelt knob is an error rather than silently ignored.
 */
export const deliveryPolicyOverrideSchema = z
  .strictObject({
    signature: signaturePolicySchema.optional(),
    headers: z
      .strictObject({
        eventType: headerNameSchema.nullable().optional(),
        deliveryId: headerNameSchema.nullable().optional(),
        extra: extraHeadersSchema.optional(),
      })
      .optional(),
    payload: payloadPolicySchema.optional(),
    timeoutMs: timeoutMsSchema.optional(),
    retry: retryPolicySchema.partial().optional(),
    circuitBreaker: circuitBreakerPolicySchema.partial().optional(),
    whileDisabled: z.enum(WHILE_DISABLED).optional(),
  })
  .superRefine((override, context) => {
    // Names that collide within one layer collide whatever the other layers say; catching
    // them here reports them against the caller's own input.
    for (const issue of headerNameCollisions(override)) {
      context.addIssue({ code: 'custom', ...issue });
    }
  });

export type DeliveryPolicyOverride = z.infer<typeof deliveryPolicyOverrideSchema>;

/**
 * Validates caller input (a REST request body's policy) into an override. Throws a
 * {@link DeliveryPolicyError} with code `InvalidOverride` listing every issue by path. Whether
 * it combines validly with the organisation's default is for `resolveEffectivePolicy` to say.
 */
export function parseDeliveryPolicyOverride(input: unknown): DeliveryPolicyOverride {
  const parsed = deliveryPolicyOverrideSchema.safeParse(input);
  if (!parsed.success) {
    throw new DeliveryPolicyError(DeliveryPolicyErrorCode.InvalidOverride, issuesFromZodError(parsed.error));
  }
  return parsed.data;
}
