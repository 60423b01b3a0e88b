import { type DeliveryPolicyOverride } from './delivery-policy-override';
import { hours, minutes, seconds } from './duration';
import { type PayloadTemplate } from './payload-template';

/**
 * Named, complete webhook contracts an organisation picks as its default: one per seed
 * contract in the product's reference documents, so a company that published one of them
 * moves onto Skyhook without its receivers changing a line. A profile is the delivery-policy
 * layer between the platform defaults and the organisation's own default policy, plus the
 * subscription rules the contract implies.
 */
export const DELIVERY_PROFILE_NAMES = [
  'standard-webhooks',
  'flightline',
  'flintn',
  'flexorch',
  'fl3xx',
  'aviationalley',
] as const;
export type DeliveryProfileName = (typeof DELIVERY_PROFILE_NAMES)[number];
export const DEFAULT_DELIVERY_PROFILE: DeliveryProfileName = 'standard-webhooks';

/** The event scope keys a contract filters subscriptions on. */
export const PROFILE_SCOPE_KEYS = ['centerId', 'operatorId', 'partnerId'] as const;
export type ProfileScopeKey = (typeof PROFILE_SCOPE_KEYS)[number];

/** Calendar months or days; a month is a calendar month (FL3XX: "1 month"), not 30 days. */
export type SubscriptionLifetimeRule = { readonly months: number } | { readonly days: number };

export interface ProfileSubscriptionRules {
  /** How long a new subscription lives, and what a renewal adds; `null`: never expires. */
  readonly lifetime: SubscriptionLifetimeRule | null;
  /** Renewal is allowed only this many days before expiry. */
  readonly renewalWindowDays: number;
  /**
   * A subscription must filter on this scope key (AviationAlley subscribes "per-center",
   * FL3XX per operator): one without it is refused, as it would receive every tenant's events.
   */
  readonly requiredScopeKey: ProfileScopeKey | null;
  /**
   * The seed's own words for Skyhook's subscription statuses, accepted in a status change
   * (FL3XX documents `inactive` for what Skyhook calls `disabled`).
   */
  readonly statusAliases?: Readonly<Record<string, 'active' | 'disabled'>>;
}

export interface DeliveryProfile {
  readonly name: DeliveryProfileName;
  /** One line for the API and the docs. */
  readonly summary: string;
  /** Overlaid on the platform defaults; the organisation's default policy overlays this. */
  readonly policy: DeliveryPolicyOverride;
  readonly subscriptions: ProfileSubscriptionRules;
}

const ref = (pointer: string): PayloadTemplate => ({ $ref: pointer });
/** When the event occurred, written as the seed prints its timestamps. */
const occurredAt = (format: 'iso8601-seconds' | 'iso8601-millis'): PayloadTemplate => ({
  $ref: '/event/occurredAt',
  format,
});

/**
 * For contracts that promise every delivery its retries and never mention disabling an
 * endpoint: the breaker disables only after the most consecutive failures a policy allows (20
 * AviationAlley deliveries failing throughout), and what arrives while disabled is held for
 * replay rather than dropped, so the platform's protection never silently breaks the seed's
 * promise.
 */
const SEED_WITHOUT_DISABLING = {
  circuitBreaker: { consecutiveFailuresToDisable: 100 },
  whileDisabled: 'hold',
} as const satisfies DeliveryPolicyOverride;

const NO_SUBSCRIPTION_RULES: ProfileSubscriptionRules = {
  lifetime: null,
  renewalWindowDays: 5,
  requiredScopeKey: null,
};

/**
 * Every knob a seed states is set here, quoted; where a seed is silent the profile says what
 * it chose and why, so `docs/profiles/<name>.md` and the conformance tests have one source.
 */
export const DELIVERY_PROFILES: Readonly<Record<DeliveryProfileName, DeliveryProfile>> = {
  /** The platform defaults (`DELIVERY_POLICY_DEFAULTS`): nothing to overlay. */
  'standard-webhooks': {
    name: 'standard-webhooks',
    summary: 'Standard Webhooks signatures and Skyhook envelope; eight attempts over about a day.',
    policy: {},
    subscriptions: NO_SUBSCRIPTION_RULES,
  },

  /**
   * `X-Flightline-Signature: t=<timestamp>,v1=<hex-hmac>` over `"<t>.<raw-body>"`; the body
   * `{event, review_id, reference_id, status, occurred_at}` "intentionally carries only
   * identifiers and status"; "up to 3 attempts with exponential backoff (~0.5s, 1s) on a
   * non-2xx response or transport error"; "within ~10s … we time out a slow endpoint and retry".
   */
  flightline: {
    name: 'flightline',
    summary: 'Timestamped hex HMAC in X-Flightline-Signature; identifiers-and-status body; 3 attempts.',
    policy: {
      signature: { scheme: 'timestamped-hmac-hex', header: 'X-Flightline-Signature' },
      payload: {
        shape: 'template',
        template: {
          event: ref('/event/type'),
          review_id: ref('/event/data/review_id'),
          reference_id: ref('/event/data/reference_id'),
          status: ref('/event/data/status'),
          // The seed prints "occurred_at": "2026-05-30T18:09:12Z": UTC, whole seconds.
          occurred_at: occurredAt('iso8601-seconds'),
        },
      },
      timeoutMs: seconds(10),
      retry: { delaysMs: [500, seconds(1)], retryOn: 'any-non-2xx' },
      ...SEED_WITHOUT_DISABLING,
    },
    subscriptions: NO_SUBSCRIPTION_RULES,
  },

  /**
   * `X-Signature-Primary`: base64 HMAC-SHA256 of the body; "respond within 30 seconds";
   * attempts "1 Immediate, 2 5 minutes, 3 30 minutes, 4 2 hours, 5 24 hours" (the first is the
   * initial attempt); "4xx client errors (except 429 Too Many Requests) are not retried";
   * "After 5 failed attempts, the webhook is disabled"; events while disabled "are not
   * queued". The body's shape is not printed, only "use the `event_id` field" to de-duplicate:
   * `{event_id, event, created_at, data}` is our choice around it.
   */
  flintn: {
    name: 'flintn',
    summary: 'Base64 HMAC in X-Signature-Primary; 5 attempts over a day; disabled after 5 failures.',
    policy: {
      signature: { scheme: 'hmac-base64', header: 'X-Signature-Primary' },
      payload: {
        shape: 'template',
        template: {
          event_id: ref('/event/id'),
          event: ref('/event/type'),
          created_at: ref('/event/occurredAt'),
          data: ref('/event/data'),
        },
      },
      timeoutMs: seconds(30),
      retry: {
        delaysMs: [minutes(5), minutes(30), hours(2), hours(24)],
        retryOn: '5xx-and-429',
      },
      circuitBreaker: { consecutiveFailuresToDisable: 5 },
      whileDisabled: 'drop',
    },
    subscriptions: NO_SUBSCRIPTION_RULES,
  },

  /**
   * `X-Flexorch-Signature`: hex HMAC-SHA256 of the raw body; the body is the "full result
   * payload" flattened beside `event` and `timestamp` (`{event, job_id, status,
   * quality_grade, pii_findings_count, timestamp}`); on a non-2xx status it "retries the
   * delivery once". The seed names no delay (30 s is our choice) and no timeout (the 10 s
   * default stands).
   */
  flexorch: {
    name: 'flexorch',
    summary: 'Hex HMAC in X-Flexorch-Signature; flat result body; one retry.',
    policy: {
      signature: { scheme: 'hmac-hex', header: 'X-Flexorch-Signature' },
      payload: {
        shape: 'template',
        // The seed prints "timestamp": "2024-01-15T10:30:00Z": UTC, whole seconds.
        template: {
          event: ref('/event/type'),
          $spread: '/event/data',
          timestamp: occurredAt('iso8601-seconds'),
        },
      },
      retry: { delaysMs: [seconds(30)], retryOn: 'any-non-2xx' },
      ...SEED_WITHOUT_DISABLING,
    },
    subscriptions: NO_SUBSCRIPTION_RULES,
  },

  /**
   * FL3XX documents its subscription API, not its deliveries: subscriptions are per operator
   * ("filtered by partner and operator context"), expire after "1 month", and renewal "extends
   * … by 1 month from current expiration date" and is allowed "only … 5 days before
   * expiration". Signing and retries are ours: Standard Webhooks and the defaults.
   */
  fl3xx: {
    name: 'fl3xx',
    summary:
      'Standard Webhooks deliveries; per-operator subscriptions living one month, renewable 5 days ahead.',
    policy: {},
    subscriptions: {
      lifetime: { months: 1 },
      renewalWindowDays: 5,
      requiredScopeKey: 'operatorId',
      // "Updates subscription status to active or inactive".
      statusAliases: { inactive: 'disabled' },
    },
  },

  /**
   * `X-AviationAlley-Signature` (hex HMAC-SHA256 of the raw body), `X-AviationAlley-Event`,
   * `X-AviationAlley-Delivery`; the `{id, type, centerId, createdAt, data}` envelope whose
   * `id` "matches X-AviationAlley-Delivery"; "5-second timeout"; "5m, 30m, 2h, 8h — up to 5
   * attempts"; "Any other status (or a timeout) is treated as a failure and retried";
   * "Subscribe per-center".
   */
  aviationalley: {
    name: 'aviationalley',
    summary: 'Hex HMAC in X-AviationAlley-Signature with event and delivery headers; per-center; 5 attempts.',
    policy: {
      signature: { scheme: 'hmac-hex', header: 'X-AviationAlley-Signature' },
      headers: { eventType: 'X-AviationAlley-Event', deliveryId: 'X-AviationAlley-Delivery' },
      payload: {
        shape: 'template',
        template: {
          id: ref('/delivery/id'),
          type: ref('/event/type'),
          centerId: ref('/event/scope/centerId'),
          // The seed prints "createdAt": "2026-05-31T14:03:22.000Z": UTC, milliseconds.
          createdAt: occurredAt('iso8601-millis'),
          data: ref('/event/data'),
        },
      },
      timeoutMs: seconds(5),
      retry: { delaysMs: [minutes(5), minutes(30), hours(2), hours(8)], retryOn: 'any-non-2xx' },
      ...SEED_WITHOUT_DISABLING,
    },
    subscriptions: { lifetime: null, renewalWindowDays: 5, requiredScopeKey: 'centerId' },
  },
};

export function deliveryProfile(name: DeliveryProfileName): DeliveryProfile {
  return DELIVERY_PROFILES[name];
}

/** The scope key a subscription under `profile` must filter on but does not, if any. */
export function missingScopeKey(
  profile: DeliveryProfileName,
  scopeFilter: Readonly<Record<string, string>>,
): ProfileScopeKey | undefined {
  const { requiredScopeKey } = DELIVERY_PROFILES[profile].subscriptions;
  return requiredScopeKey !== null && scopeFilter[requiredScopeKey] === undefined
    ? requiredScopeKey
    : undefined;
}

export function isDeliveryProfileName(name: string): name is DeliveryProfileName {
  return (DELIVERY_PROFILE_NAMES as readonly string[]).includes(name);
}
