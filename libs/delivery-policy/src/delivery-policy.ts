import { z } from 'zod';
import { days, hours, minutes, seconds } from './duration';
import { extraHeadersSchema, headerNameSchema } from './header-name';
import { payloadTemplateSchema } from './payload-template';
import { signaturePolicySchema } from './signature-policy';

/**
 * The body shape.
 * - `envelope`: Skyhook's own `{ id, type, organisationId, scope, createdAt, data }`.
 * - `thin`: identifiers and status only; the receiver fetches the rest over the authenticated
 *   API.
 * - `template`: the receiver's own shape, declared as a {@link PayloadTemplate} (every seed
 *   profile but `standard-webhooks` and `fl3xx` uses one).
 */
export const payloadPolicySchema = z.discriminatedUnion('shape', [
  z.strictObject({ shape: z.literal('envelope') }),
  z.strictObject({ shape: z.literal('thin') }),
  z.strictObject({ shape: z.literal('template'), template: payloadTemplateSchema }),
]);
export type PayloadPolicy = z.infer<typeof payloadPolicySchema>;
export type PayloadShape = PayloadPolicy['shape'];

/**
 * Extra headers on every delivery. `null` means "not sent": the resolved policy is always
 * complete, and in an override `null` is how a subscription turns off a header its
 * organisation's default turned on.
 */
export const headersPolicySchema = z.strictObject({
  /** e.g. `X-AviationAlley-Event: booking.created`. */
  eventType: headerNameSchema.nullable(),
  /** e.g. `X-AviationAlley-Delivery: del_…`: the stable delivery id receivers de-duplicate on. */
  deliveryId: headerNameSchema.nullable(),
  /** Constant headers; the whole map is one knob (see the override merge rules). */
  extra: extraHeadersSchema,
});
export type HeadersPolicy = z.infer<typeof headersPolicySchema>;

export const TIMEOUT_MS_MIN = seconds(1);
export const TIMEOUT_MS_MAX = seconds(30);

/** The whole request, from connect to the last response byte. Seeds use 5 s, 10 s and 30 s. */
export const timeoutMsSchema = z
  .number()
  .int('must be a whole number of milliseconds')
  .min(TIMEOUT_MS_MIN, `must be at least ${TIMEOUT_MS_MIN} ms`)
  .max(TIMEOUT_MS_MAX, `must be at most ${TIMEOUT_MS_MAX} ms`);

export const RETRY_DELAYS_MAX_COUNT = 10;
export const RETRY_DELAY_MS_MAX = days(7);

/**
 * - `transient`: network errors, timeouts, 5xx, 408 and 429; every other status is final. The
 *   platform default.
 * - `5xx-and-429`: network errors, timeouts, 5xx and 429 (Flintn: "4xx client errors (except
 *   429 Too Many Requests) are not retried", so not 408 either).
 * - `any-non-2xx`: network errors, timeouts and every non-2xx status, 3xx included since
 *   redirects are never followed (Flightline, FlexOrch, AviationAlley: "Any other status (or
 *   a timeout) is treated as a failure and retried").
 * Network errors and timeouts are retried under both: every seed retries them.
 */
export const RETRY_ON = ['transient', '5xx-and-429', 'any-non-2xx'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

/**
 * Retry schedule semantics: the first attempt is always made at once and is not in the list.
 * `delaysMs[i]` is the wait after attempt `i + 1` fails before attempt `i + 2` starts, so a
 * delivery makes at most `1 + delaysMs.length` attempts, and `[]` means a single attempt.
 * A delay of `0` is allowed and means "retry at once". Flintn's table "1 Immediate, 2 5
 * minutes, … 5 24 hours" numbers attempts, so it is `[5m, 30m, 2h, 24h]` (5 attempts, matching
 * "after 5 failed attempts"), not `[0, 5m, …]` (which would be 6 attempts).
 */
export const retryPolicySchema = z.strictObject({
  delaysMs: z
    .array(
      z
        .number()
        .int('must be a whole number of milliseconds')
        .min(0, 'must not be negative')
        .max(RETRY_DELAY_MS_MAX, `must be at most ${RETRY_DELAY_MS_MAX} ms (7 days)`),
    )
    .max(RETRY_DELAYS_MAX_COUNT, `at most ${RETRY_DELAYS_MAX_COUNT} retries`),
  retryOn: z.enum(RETRY_ON),
  /**
   * Whether a `Retry-After` on a retried response may lengthen the scheduled wait. It is
   * bounded by the schedule: it never shortens a wait, never adds an attempt, and never waits
   * longer than the schedule's longest delay (so a receiver cannot park a delivery for weeks).
   */
  honourRetryAfter: z.boolean(),
});
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

/**
 * Counts failed *attempts* (not deliveries) per subscription, as the spec's "after 5
 * consecutive failed attempts" and Flintn's "after 5 failed attempts" both read: every attempt
 * that does not end in a 2xx counts, retried or final; any 2xx resets the count. With the
 * default schedule, one delivery failing throughout disables its endpoint on its 5th attempt.
 */
export const circuitBreakerPolicySchema = z.strictObject({
  consecutiveFailuresToDisable: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(100, 'must be at most 100'),
});
export type CircuitBreakerPolicy = z.infer<typeof circuitBreakerPolicySchema>;

/**
 * Events matching a disabled subscription are either not delivered at all (`drop`, Flintn:
 * "not queued — they are simply not delivered") or kept for replay once it is re-enabled
 * (`hold`).
 */
export const WHILE_DISABLED = ['drop', 'hold'] as const;
export type WhileDisabled = (typeof WHILE_DISABLED)[number];

/** The resolved, complete policy a delivery runs under. */
export const deliveryPolicySchema = z
  .strictObject({
    signature: signaturePolicySchema,
    headers: headersPolicySchema,
    payload: payloadPolicySchema,
    timeoutMs: timeoutMsSchema,
    retry: retryPolicySchema,
    circuitBreaker: circuitBreakerPolicySchema,
    whileDisabled: z.enum(WHILE_DISABLED),
  })
  .superRefine((policy, context) => {
    for (const issue of headerNameCollisions(policy)) {
      context.addIssue({ code: 'custom', ...issue });
    }
  });
export type DeliveryPolicy = z.infer<typeof deliveryPolicySchema>;

/**
 * Standard Webhooks signatures and its own retry schedule (5 s, 5 m, 30 m, 2 h, 5 h, 10 h,
 * 10 h: 8 attempts over about a day), envelope payloads, 10 s timeout, transient retry with
 * `Retry-After` honoured, breaker at 5 consecutive failed attempts, drop while disabled.
 */
export const DELIVERY_POLICY_DEFAULTS: DeliveryPolicy = deepFreeze({
  signature: { scheme: 'standard-webhooks' },
  headers: { eventType: null, deliveryId: null, extra: {} },
  payload: { shape: 'envelope' },
  timeoutMs: seconds(10),
  retry: {
    delaysMs: [seconds(5), minutes(5), minutes(30), hours(2), hours(5), hours(10), hours(10)],
    retryOn: 'transient',
    honourRetryAfter: true,
  },
  circuitBreaker: { consecutiveFailuresToDisable: 5 },
  whileDisabled: 'drop',
});

/** The header-bearing parts of a policy or an override: only the names that are present. */
export interface HeaderNamingParts {
  readonly signature?: { readonly scheme: string; readonly header?: string } | undefined;
  readonly headers?:
    | {
        readonly eventType?: string | null | undefined;
        readonly deliveryId?: string | null | undefined;
        readonly extra?: Readonly<Record<string, string>> | undefined;
      }
    | undefined;
}

interface HeaderNameIssue {
  readonly path: PropertyKey[];
  readonly message: string;
}

/**
 * Two knobs naming the same header (case-insensitively) would make one silently overwrite the
 * other, e.g. an extra header `X-Flightline-Signature` next to that signature header. Standard
 * Webhooks' own names are reserved, so they can never collide with a configured one.
 */
export function headerNameCollisions(parts: HeaderNamingParts): HeaderNameIssue[] {
  const named: { path: PropertyKey[]; name: string }[] = [];
  if (parts.signature?.header !== undefined) {
    named.push({ path: ['signature', 'header'], name: parts.signature.header });
  }
  const { eventType, deliveryId, extra } = parts.headers ?? {};
  if (typeof eventType === 'string') {
    named.push({ path: ['headers', 'eventType'], name: eventType });
  }
  if (typeof deliveryId === 'string') {
    named.push({ path: ['headers', 'deliveryId'], name: deliveryId });
  }
  for (const name of Object.keys(extra ?? {})) {
    named.push({ path: ['headers', 'extra', name], name });
  }

  const firstUseByName = new Map<string, PropertyKey[]>();
  const issues: HeaderNameIssue[] = [];
  for (const { path, name } of named) {
    const firstUse = firstUseByName.get(name.toLowerCase());
    if (firstUse === undefined) {
      firstUseByName.set(name.toLowerCase(), path);
    } else {
      issues.push({ path, message: `${name} is already used by ${firstUse.map(String).join('.')}` });
    }
  }
  return issues;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const nested of Object.values(value)) {
      deepFreeze(nested);
    }
    Object.freeze(value);
  }
  return value;
}
