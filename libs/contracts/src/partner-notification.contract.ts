import { hash } from 'node:crypto';
import { z } from 'zod';
import { identifierSchema } from './inbound-event.contract';

/*
 * Partner notifications (operational webhooks, ADR 0030): what Skyhook itself tells an
 * organisation about its subscriptions. Each is an event type of a reserved domain, `skyhook`,
 * in every organisation's catalogue; a subscription that names one (or `skyhook.*`) is a
 * notification endpoint and receives it through the ordinary pipeline, signed, retried and
 * SSRF-checked like any delivery. `*` does not match them: an endpoint built for flight events
 * should not start receiving Skyhook's own.
 */

/** The reserved domain: organisations cannot register types under it. */
export const PARTNER_NOTIFICATION_DOMAIN = 'skyhook';
const RESERVED_PREFIX = `${PARTNER_NOTIFICATION_DOMAIN}.`;

const instant = z.iso.datetime({ offset: true });

const subscriptionSubject = {
  subscriptionId: identifierSchema,
  url: z.string().max(2_048),
  description: z.string().max(500),
};

/** A failed attempt as a notification reports it (no headers, no bodies beyond an excerpt). */
export const notifiedFailureSchema = z.strictObject({
  deliveryId: identifierSchema,
  eventType: z.string().max(120),
  attemptNumber: z.number().int().min(1),
  attemptedAt: instant,
  outcome: z.string().max(40),
  responseStatus: z.number().int().nullable(),
  errorCode: z.string().max(100).nullable(),
  /** The first 256 characters of the response body, if there was one. */
  responseBodyExcerpt: z.string().max(256).nullable(),
});
export type NotifiedFailure = z.infer<typeof notifiedFailureSchema>;

/** The most failures `subscription.disabled` reports. */
export const NOTIFIED_FAILURES_MAX = 5;
export const NOTIFIED_BODY_EXCERPT_MAX = 256;

export const partnerNotificationDataSchemas = {
  'skyhook.subscription.disabled': z.strictObject({
    ...subscriptionSubject,
    disabledAt: instant,
    reason: z.enum(['partner', 'circuit-breaker']),
    /** The breaker's account of why (e.g. `5 consecutive failed attempts`); null for a partner's disable. */
    detail: z.string().max(1_000).nullable(),
    /** The subscription's latest failed attempts in history, newest first (at most 5). */
    lastFailures: z.array(notifiedFailureSchema).max(NOTIFIED_FAILURES_MAX),
  }),
  'skyhook.subscription.expiring': z.strictObject({
    ...subscriptionSubject,
    expiresAt: instant,
    /** The lead time this notice is for, in whole hours before `expiresAt` (168 for 7 days). */
    leadTimeHours: z.number().int().min(1),
    renewalOpensAt: instant,
  }),
  'skyhook.subscription.renewal_window_opened': z.strictObject({
    ...subscriptionSubject,
    expiresAt: instant,
    renewalOpensAt: instant,
  }),
  'skyhook.subscription.expired': z.strictObject({
    ...subscriptionSubject,
    expiredAt: instant,
  }),
  'skyhook.delivery.failed': z.strictObject({
    subscriptionId: identifierSchema,
    /** The URL the failed attempt went to. */
    url: z.string().max(2_048),
    deliveryId: identifierSchema,
    eventId: identifierSchema,
    eventType: z.string().max(120),
    failure: notifiedFailureSchema,
    /**
     * At most one notice per subscription per this many seconds: failures after the first one
     * of a window are in the delivery log, not notified one by one.
     */
    rateLimitSeconds: z.number().int().min(0),
  }),
  'skyhook.replay.completed': z.strictObject({
    subscriptionId: identifierSchema,
    replayId: identifierSchema,
    state: z.enum(['completed', 'failed']),
    /** Deliveries queued again; `failedReason` says why a replay stopped early. */
    enqueued: z.number().int().min(0),
    failedReason: z.string().max(1_000).nullable(),
    finishedAt: instant,
  }),
} as const;

export type PartnerNotificationType = keyof typeof partnerNotificationDataSchemas;
export type PartnerNotificationData<T extends PartnerNotificationType> = z.infer<
  (typeof partnerNotificationDataSchemas)[T]
>;

export const PARTNER_NOTIFICATION_TYPES = Object.keys(
  partnerNotificationDataSchemas,
) as readonly PartnerNotificationType[];

const exampleSubject = {
  subscriptionId: 'sub_2cVb0m3XkTq',
  url: 'https://partner.example.com/webhooks',
  description: 'Crew rostering sync',
};
const exampleFailure: NotifiedFailure = {
  deliveryId: 'del_Qy8s1nB3vZ0aLk5mP2rT7wXc4e',
  eventType: 'flight.departed',
  attemptNumber: 5,
  attemptedAt: '2026-12-01T10:15:00.000Z',
  outcome: 'http-error',
  responseStatus: 503,
  errorCode: null,
  responseBodyExcerpt: 'upstream unavailable',
};

/** What the catalogue tells a partner about each type: a description and an example of its data. */
export const PARTNER_NOTIFICATION_CATALOGUE: {
  readonly [T in PartnerNotificationType]: {
    readonly description: string;
    readonly example: PartnerNotificationData<T>;
  };
} = {
  'skyhook.subscription.disabled': {
    description:
      'A subscription was disabled: by its circuit breaker (with the reason and its last failed attempts) or by the partner.',
    example: {
      ...exampleSubject,
      disabledAt: '2026-12-01T10:15:01.000Z',
      reason: 'circuit-breaker',
      detail: '5 consecutive failed attempts',
      lastFailures: [exampleFailure],
    },
  },
  'skyhook.subscription.expiring': {
    description:
      "A subscription expires soon: sent at each of the organisation's lead times (by default 7 days and 1 day before).",
    example: {
      ...exampleSubject,
      expiresAt: '2026-12-31T00:00:00.000Z',
      leadTimeHours: 168,
      renewalOpensAt: '2026-12-26T00:00:00.000Z',
    },
  },
  'skyhook.subscription.renewal_window_opened': {
    description: 'A subscription can be renewed from now on (POST /v1/subscriptions/{id}/renewals).',
    example: {
      ...exampleSubject,
      expiresAt: '2026-12-31T00:00:00.000Z',
      renewalOpensAt: '2026-12-26T00:00:00.000Z',
    },
  },
  'skyhook.subscription.expired': {
    description: 'A subscription expired without renewal: it receives nothing more.',
    example: { ...exampleSubject, expiredAt: '2026-12-31T00:00:00.000Z' },
  },
  'skyhook.delivery.failed': {
    description:
      'A delivery failed for good (attempts exhausted or not retryable); at most one notice per subscription per rate-limit window.',
    example: {
      subscriptionId: exampleSubject.subscriptionId,
      url: exampleSubject.url,
      deliveryId: exampleFailure.deliveryId,
      eventId: 'evt_8f2a',
      eventType: 'flight.departed',
      failure: exampleFailure,
      rateLimitSeconds: 900,
    },
  },
  'skyhook.replay.completed': {
    description: 'A replay finished queueing its deliveries again (or stopped, with the reason).',
    example: {
      subscriptionId: exampleSubject.subscriptionId,
      replayId: 'rpl_3Jd9kq',
      state: 'completed',
      enqueued: 42,
      failedReason: null,
      finishedAt: '2026-12-01T11:00:00.000Z',
    },
  },
};

/** Whether `eventType` is in the reserved `skyhook` domain (a notification, or reserved for one). */
export function isReservedEventType(eventType: string): boolean {
  return eventType.startsWith(RESERVED_PREFIX);
}

export function isPartnerNotificationType(eventType: string): eventType is PartnerNotificationType {
  return Object.hasOwn(partnerNotificationDataSchemas, eventType);
}

/** The JSON Schema of each notification's `data`, for the catalogue. */
export function partnerNotificationJsonSchema(type: PartnerNotificationType): Record<string, unknown> {
  return z.toJSONSchema(partnerNotificationDataSchemas[type], { target: 'draft-2020-12' });
}

/**
 * A notification's event id, derived from what it is about, so that noticing the same thing
 * twice (a retried transaction, two api instances scanning at once) names the same event and is
 * stored and delivered once. `parts` identify the occurrence: the subscription and version for a
 * disable, the expiry and lead time for a notice, the rate-limit window for a failure.
 */
export function partnerNotificationId(
  organisationId: string,
  type: PartnerNotificationType,
  parts: readonly (string | number)[],
): string {
  const digest = hash('sha256', [organisationId, type, ...parts.map(String)].join('\u0000'), 'base64url');
  return `ntf_${digest.slice(0, 26)}`;
}
