import { hours, minutes, seconds } from './duration';
import { type DeliveryPolicyOverride } from './delivery-policy-override';

export type SeedContract = 'flightline' | 'flintn' | 'flexorch' | 'fl3xx' | 'aviationAlley';

/**
 * Each seed contract expressed as an organisation default, proving the policy can serve it by
 * configuration alone. Knobs a seed does not mention are left to the platform defaults.
 * Subscription lifetime (FL3XX: expires after a month, renewable 5 days before) is a
 * subscription setting, not a delivery policy one.
 */
export const SEED_POLICY_EXAMPLES = {
  /**
   * `X-Flightline-Signature: t=<timestamp>,v1=<hex-hmac>` over `"<t>.<raw-body>"`; the payload
   * "carries only identifiers and status"; "up to 3 attempts with exponential backoff (~0.5s,
   * 1s) on a non-2xx response or transport error"; "within ~10s … we time out".
   */
  flightline: {
    signature: { scheme: 'timestamped-hmac-hex', header: 'X-Flightline-Signature' },
    payload: { shape: 'thin' },
    timeoutMs: seconds(10),
    retry: { delaysMs: [500, seconds(1)], retryOn: 'any-non-2xx' },
  },

  /**
   * `X-Signature-Primary`: base64 HMAC-SHA256; respond "within 30 seconds"; attempts "1
   * Immediate, 2 5 minutes, 3 30 minutes, 4 2 hours, 5 24 hours" (the first is the initial
   * attempt, see `retryPolicySchema`); "4xx … (except 429) are not retried"; "After 5 failed
   * attempts, the webhook is disabled"; events while disabled "are not queued".
   */
  flintn: {
    signature: { scheme: 'hmac-base64', header: 'X-Signature-Primary' },
    timeoutMs: seconds(30),
    retry: { delaysMs: [minutes(5), minutes(30), hours(2), hours(24)], retryOn: 'transient' },
    circuitBreaker: { consecutiveFailuresToDisable: 5 },
    whileDisabled: 'drop',
  },

  /**
   * `X-Flexorch-Signature`: hex HMAC-SHA256 of the raw body; "the full result payload"; on a
   * non-2xx status it "retries the delivery once". The seed names no delay, so 30 s is our
   * choice; nor a timeout, so the 10 s default stands.
   */
  flexorch: {
    signature: { scheme: 'hmac-hex', header: 'X-Flexorch-Signature' },
    payload: { shape: 'envelope' },
    retry: { delaysMs: [seconds(30)], retryOn: 'any-non-2xx' },
  },

  /** FL3XX says nothing about signatures or retries: Standard Webhooks and the defaults. */
  fl3xx: {
    signature: { scheme: 'standard-webhooks' },
  },

  /**
   * `X-AviationAlley-Signature` (hex HMAC-SHA256 of the raw body), `X-AviationAlley-Event`,
   * `X-AviationAlley-Delivery`; the `{id, type, centerId, createdAt, data}` envelope; "5-second
   * timeout"; "5m, 30m, 2h, 8h — up to 5 attempts"; "Any other status (or a timeout) is
   * treated as a failure and retried".
   */
  aviationAlley: {
    signature: { scheme: 'hmac-hex', header: 'X-AviationAlley-Signature' },
    headers: { eventType: 'X-AviationAlley-Event', deliveryId: 'X-AviationAlley-Delivery' },
    payload: { shape: 'envelope' },
    timeoutMs: seconds(5),
    retry: { delaysMs: [minutes(5), minutes(30), hours(2), hours(8)], retryOn: 'any-non-2xx' },
  },
} as const satisfies Readonly<Record<SeedContract, DeliveryPolicyOverride>>;
