import { DELIVERY_POLICY_DEFAULTS } from '@skyhook/delivery-policy';
import { ApiErrorCode } from '../http/api-error';

// Examples and groups of refusals the routes' documentation (`@Documented`) shares.

export const exampleSubscription = {
  id: 'sub_5f0c1a2b3c4d5e6f7a8b9c0d1e2f3a4b',
  url: 'https://example.com/hooks/skyhook',
  description: 'prod',
  eventTypes: ['booking.*', 'FLIGHT_TIME_UPDATE'],
  scopeFilter: { centerId: 'ctr-42' },
  ordering: { key: '/data/flightId', afterFinalFailure: 'skip' },
  rateLimit: { perSecond: 50 },
  status: 'active',
  disabledReason: null,
  disabledDetail: null,
  expiresAt: '2026-06-30T18:09:12.000Z',
  renewalOpensAt: '2026-06-25T18:09:12.000Z',
  secretHint: 'whsec_…a1b2',
  secretsSigning: 1,
  secrets: [
    {
      id: 'sec_3c9e…',
      hint: 'whsec_…a1b2',
      publicKey: null,
      phase: 'current',
      createdAt: '2026-05-01T09:00:00.000Z',
      activatesAt: '2026-05-01T09:00:00.000Z',
      retiresAt: null,
    },
  ],
  policy: { timeoutMs: 5000 },
  profile: 'standard-webhooks',
  effectivePolicy: { ...DELIVERY_POLICY_DEFAULTS, timeoutMs: 5000 },
  version: 1,
  createdAt: '2026-05-31T18:09:12.000Z',
  updatedAt: '2026-05-31T18:09:12.000Z',
};

export const exampleDelivery = {
  id: 'del_Q2xhdWRlIHdhcyBoZXJlIDop',
  subscriptionId: exampleSubscription.id,
  eventId: 'evt_8d1c…',
  eventType: 'booking.created',
  test: false,
  status: 'failed',
  attemptCount: 3,
  publishedAt: '2026-05-31T18:09:12.000Z',
  firstAttemptAt: '2026-05-31T18:09:12.050Z',
  lastAttemptAt: '2026-05-31T18:39:13.000Z',
  nextAttemptAt: null,
  lastOutcome: 'http-error',
  lastResponseStatus: 503,
  skipReason: null,
  waitingBehind: null,
  statusAt: '2026-05-31T18:39:13.000Z',
};

export const exampleReplay = {
  id: 'rpl_0b6f…',
  subscriptionId: exampleSubscription.id,
  state: 'running',
  since: '2026-05-31T00:00:00.000Z',
  until: '2026-05-31T20:00:00.000Z',
  statuses: ['failed', 'dropped', 'held'],
  matched: 1234,
  enqueued: 500,
  error: null,
  createdAt: '2026-05-31T20:00:00.000Z',
  updatedAt: '2026-05-31T20:00:01.000Z',
  finishedAt: null,
};

export const exampleOrganisation = {
  id: 'org_6b1e0f…',
  name: 'Aviation Alley Partners',
  profile: 'aviationalley',
  subscriptionLifetimeDays: null,
  subscriptionLifetimeMonths: 6,
  renewalWindowDays: 5,
  defaultPolicy: {},
  createdAt: '2026-05-01T09:00:00.000Z',
};

export const BAD_INPUT = [
  ApiErrorCode.ValidationFailed,
  ApiErrorCode.MalformedJson,
  ApiErrorCode.PayloadTooLarge,
];
export const AUTH_AND_TENANT = [ApiErrorCode.Unauthenticated, ApiErrorCode.NotFound];

/** Starting a replay, as a partner or as an operator: the same use case, the same refusals. */
export const REPLAY_START_ERRORS = [
  ...BAD_INPUT,
  ...AUTH_AND_TENANT,
  ApiErrorCode.Conflict,
  ApiErrorCode.IdempotencyKeyReused,
  ApiErrorCode.ReplayTooLarge,
  ApiErrorCode.ReplayWindowTooLong,
];
