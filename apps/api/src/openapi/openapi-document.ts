import { z } from 'zod';
import { DELIVERY_POLICY_DEFAULTS, deliveryPolicyOverrideSchema } from '@skyhook/delivery-policy';
import { API_ERROR_STATUS, ApiErrorCode, RETRY_AFTER_SECONDS } from '../http/api-error';
import {
  adminListSubscriptionsQuerySchema,
  createSubscriptionSchema,
  listSubscriptionsQuerySchema,
  rotateSecretSchema,
  activateSecretSchema,
  sendTestEventSchema,
  updateSubscriptionSchema,
} from '../subscriptions/subscription.schemas';
import {
  apiKeyCreationSchema,
  organisationCreationSchema,
  organisationUpdateSchema,
} from '../organisations/admin-organisations.schemas';
import { registerEventTypesSchema } from '../event-types/event-types.schemas';
import { publishEventSchema } from '../events/publish-event.schema';
import { listDeliveriesQuerySchema } from '../deliveries/delivery-history.schemas';
import { listReplaysQuerySchema, startReplaySchema } from '../replays/replay.schemas';

type Method = 'get' | 'post' | 'patch' | 'delete';

interface RouteDescription {
  readonly method: Method;
  readonly path: string;
  readonly summary: string;
  readonly security: 'apiKey' | 'adminToken';
  readonly body?: z.ZodType;
  readonly query?: z.ZodObject;
  readonly conditional?: boolean;
  /** Takes an `Idempotency-Key` header. */
  readonly idempotent?: boolean;
  readonly success: { status: number; description: string; example?: unknown };
  readonly errors: readonly ApiErrorCode[];
}

const exampleSubscription = {
  id: 'sub_5f0c1a2b3c4d5e6f7a8b9c0d1e2f3a4b',
  url: 'https://example.com/hooks/skyhook',
  description: 'prod',
  eventTypes: ['booking.*', 'FLIGHT_TIME_UPDATE'],
  scopeFilter: { centerId: 'ctr-42' },
  status: 'active',
  disabledReason: null,
  disabledDetail: null,
  expiresAt: '2026-06-30T18:09:12.000Z',
  secretHint: 'whsec_…a1b2',
  secretsSigning: 1,
  secrets: [
    {
      id: 'sec_3c9e…',
      hint: 'whsec_…a1b2',
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

const exampleDelivery = {
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
  statusAt: '2026-05-31T18:39:13.000Z',
};

const exampleReplay = {
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

const BAD_INPUT = [ApiErrorCode.ValidationFailed, ApiErrorCode.MalformedJson, ApiErrorCode.PayloadTooLarge];
const AUTH_AND_TENANT = [ApiErrorCode.Unauthenticated, ApiErrorCode.NotFound];

/** Starting a replay, as a partner or as an operator: the same use case, the same refusals. */
const REPLAY_START_ERRORS = [
  ...BAD_INPUT,
  ...AUTH_AND_TENANT,
  ApiErrorCode.Conflict,
  ApiErrorCode.IdempotencyKeyReused,
  ApiErrorCode.ReplayTooLarge,
  ApiErrorCode.ReplayWindowTooLong,
];

/** Every route the api serves, with its input schema, example and the errors it can answer. */
const ROUTE_TABLE: readonly RouteDescription[] = [
  {
    method: 'post',
    path: '/v1/subscriptions',
    summary: 'Create a subscription (webhook endpoint). The signing secret is in this response only.',
    security: 'apiKey',
    body: createSubscriptionSchema,
    success: {
      status: 201,
      description: 'created',
      example: { ...exampleSubscription, signingSecret: 'whsec_3f9c…' },
    },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated, ApiErrorCode.UnknownEventType],
  },
  {
    method: 'get',
    path: '/v1/subscriptions',
    summary: 'List subscriptions, newest first, cursor-paginated.',
    security: 'apiKey',
    query: listSubscriptionsQuerySchema,
    success: {
      status: 200,
      description: 'a page',
      example: { data: [exampleSubscription], nextCursor: null },
    },
    errors: [ApiErrorCode.ValidationFailed, ApiErrorCode.Unauthenticated],
  },
  {
    method: 'get',
    path: '/v1/subscriptions/{id}',
    summary: 'Read a subscription (ETag: its version).',
    security: 'apiKey',
    success: { status: 200, description: 'the subscription', example: exampleSubscription },
    errors: AUTH_AND_TENANT,
  },
  {
    method: 'patch',
    path: '/v1/subscriptions/{id}',
    summary: 'Update url, description, event types, scope filter, policy, or status (active/disabled).',
    security: 'apiKey',
    body: updateSubscriptionSchema,
    conditional: true,
    success: {
      status: 200,
      description: 'the updated subscription',
      example: { ...exampleSubscription, version: 2 },
    },
    errors: [...BAD_INPUT, ...AUTH_AND_TENANT, ApiErrorCode.Conflict, ApiErrorCode.UnknownEventType],
  },
  {
    method: 'delete',
    path: '/v1/subscriptions/{id}',
    summary: 'Delete: deliveries stop at once; history stays queryable.',
    security: 'apiKey',
    conditional: true,
    success: { status: 204, description: 'deleted' },
    errors: [...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  },
  ...(['disable', 'enable', 'revoke'] as const).map((action): RouteDescription => ({
    method: 'post',
    path: `/v1/subscriptions/{id}/${action}`,
    summary: {
      disable: 'Pause deliveries (events while disabled are dropped or held, per policy).',
      enable: 'Resume deliveries; also closes a tripped circuit breaker.',
      revoke: 'Revoke permanently.',
    }[action],
    security: 'apiKey',
    conditional: true,
    success: { status: 200, description: 'the subscription', example: exampleSubscription },
    errors: [...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  })),
  {
    method: 'post',
    path: '/v1/subscriptions/{id}/renewals',
    summary:
      "Extend expiresAt by one lifetime; only inside the organisation's renewal window (409 says when it opens).",
    security: 'apiKey',
    conditional: true,
    success: { status: 200, description: 'renewed', example: exampleSubscription },
    errors: [...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  },
  {
    method: 'post',
    path: '/v1/subscriptions/{id}/secret-rotations',
    summary:
      'Rotate the signing secret. activation "immediate" (default): the new secret signs at once; "manual": it stays pending ' +
      '(signing nothing) until POST …/secrets/{secretId}/activation; "scheduled": it activates at activateAt. Once it is ' +
      'active, the old one keeps signing for graceSeconds (default 24 h) where the scheme carries several signatures, and ' +
      'a 401/403 within SECRET_SWITCH_GRACE_SECONDS is retried, never counted by the breaker. Steps per profile: docs/profiles.',
    security: 'apiKey',
    body: rotateSecretSchema,
    conditional: true,
    success: {
      status: 200,
      description: 'rotated',
      example: { ...exampleSubscription, signingSecret: 'whsec_9b1f…', secretId: 'sec_5d2a…' },
    },
    errors: [...BAD_INPUT, ...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  },
  {
    method: 'post',
    path: '/v1/subscriptions/{id}/secrets/{secretId}/activation',
    summary:
      'Activate a pending secret: it signs every delivery from now on, and the one it replaces retires after graceSeconds. ' +
      'Activating the current secret again changes nothing; a replaced secret answers 409.',
    security: 'apiKey',
    body: activateSecretSchema,
    conditional: true,
    success: { status: 200, description: 'activated', example: exampleSubscription },
    errors: [...BAD_INPUT, ...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  },
  {
    method: 'post',
    path: '/v1/subscriptions/{id}/test',
    summary:
      'Send a signed test delivery to this subscription through the normal path, shaped by its profile: the given type and data; ' +
      'else the example of the first catalogue type it receives that has one; else webhook.test.',
    security: 'apiKey',
    body: sendTestEventSchema,
    success: {
      status: 202,
      description: 'accepted',
      example: {
        eventId: 'evt_test_…',
        type: 'webhook.test',
        scope: { centerId: 'ctr-42' },
        occurredAt: '2026-05-31T18:09:12.000Z',
        data: { subscriptionId: 'sub_…', message: 'This is a test delivery from Skyhook.' },
      },
    },
    errors: [
      ...BAD_INPUT,
      ...AUTH_AND_TENANT,
      ApiErrorCode.Conflict,
      ApiErrorCode.UnknownEventType,
      ApiErrorCode.KafkaUnavailable,
    ],
  },
  {
    method: 'get',
    path: '/v1/deliveries',
    summary:
      'Delivery history of the organisation, newest first (publish time, then delivery id), cursor-paginated: ' +
      'a page sequence started once returns every delivery that existed then exactly once. Filters: status ' +
      '(one or several), eventType, since (inclusive) and until (exclusive) on the publish time.',
    security: 'apiKey',
    query: listDeliveriesQuerySchema,
    success: {
      status: 200,
      description: 'a page',
      example: { data: [exampleDelivery], nextCursor: 'eyJ0Ijoi…' },
    },
    errors: [ApiErrorCode.ValidationFailed, ApiErrorCode.Unauthenticated],
  },
  {
    method: 'get',
    path: '/v1/deliveries/{id}',
    summary:
      'One delivery with its attempts by attempt number (request headers, body size, response status and first ' +
      '4 KiB of its body, duration, outcome class, error, next attempt time) and what its event was. Every HTTP ' +
      'request that went out is an attempt: one the dispatcher sent again after a crash has the same number, a ' +
      'new attemptId and repeated: true with repeatOf: recorded-attempt. An attempt with repeated: true and ' +
      'repeatOf: unrecorded-attempt may repeat a request a dispatcher sent before it was killed and never ' +
      'recorded: the receiver may have had it once more than the list shows.',
    security: 'apiKey',
    success: {
      status: 200,
      description: 'the delivery',
      example: {
        ...exampleDelivery,
        event: {
          id: 'evt_8d1c…',
          type: 'booking.created',
          scope: { centerId: 'ctr-42' },
          occurredAt: '2026-05-31T18:09:11.000Z',
        },
        requestRecorded: true,
        attempts: [
          {
            attemptNumber: 1,
            attemptId: 'att_0b7e52c4-5f0e-4c8e-9a51-3f6d2e1c7a90',
            repeated: false,
            repeatOf: null,
            attemptedAt: '2026-05-31T18:09:12.050Z',
            url: exampleSubscription.url,
            requestHeaders: { 'webhook-id': exampleDelivery.id, 'webhook-signature': 'v1,K5oZ…' },
            requestBodyBytes: 412,
            outcome: 'http-error',
            responseStatus: 503,
            responseBody: 'upstream unavailable',
            durationMs: 84.2,
            errorCode: null,
            errorMessage: null,
            result: 'retry-scheduled',
            nextAttemptAt: '2026-05-31T18:14:12.050Z',
          },
        ],
      },
    },
    errors: AUTH_AND_TENANT,
  },
  {
    method: 'post',
    path: '/v1/deliveries/{id}/resend',
    summary:
      'Send a delivery again now, as its next attempt, with the same delivery id, through the normal dispatch ' +
      'path (signing, breaker, history). 409 when its request is not recorded yet or its subscription is deleted ' +
      'or not active.',
    security: 'apiKey',
    success: {
      status: 202,
      description: 'handed to the dispatcher',
      example: { deliveryId: exampleDelivery.id, attemptNumber: 4, status: 'enqueued' },
    },
    errors: [...AUTH_AND_TENANT, ApiErrorCode.Conflict, ApiErrorCode.KafkaUnavailable],
  },
  {
    method: 'get',
    path: '/v1/subscriptions/{id}/deliveries',
    summary:
      "One subscription's delivery history (also after the subscription was deleted), newest first; same " +
      'filters and cursor as GET /v1/deliveries.',
    security: 'apiKey',
    query: listDeliveriesQuerySchema,
    success: {
      status: 200,
      description: 'a page',
      example: { data: [exampleDelivery], nextCursor: null },
    },
    errors: [ApiErrorCode.ValidationFailed, ...AUTH_AND_TENANT],
  },
  {
    method: 'post',
    path: '/v1/subscriptions/{id}/replay',
    summary:
      'Replay the deliveries published in [since, until) (until defaults to now) whose status is one of statuses ' +
      '(default failed, dropped, held): a job sends each again, once, with its delivery id. Bounded by ' +
      'REPLAY_MAX_DELIVERIES and by the history retention (422 states the count and the limit). Idempotency-Key: ' +
      'the same key and body answer the same job, another body 422; the same replay while one runs answers the ' +
      'running job. Location: the job.',
    security: 'apiKey',
    body: startReplaySchema,
    idempotent: true,
    success: { status: 202, description: 'the replay job', example: exampleReplay },
    errors: REPLAY_START_ERRORS,
  },
  {
    method: 'get',
    path: '/v1/subscriptions/{id}/replays',
    summary: "The subscription's replay jobs, newest first, cursor-paginated.",
    security: 'apiKey',
    query: listReplaysQuerySchema,
    success: {
      status: 200,
      description: 'a page',
      example: { data: [{ ...exampleReplay, state: 'completed', enqueued: 1234 }], nextCursor: null },
    },
    errors: [ApiErrorCode.ValidationFailed, ...AUTH_AND_TENANT],
  },
  {
    method: 'get',
    path: '/v1/subscriptions/{id}/replays/{jobId}',
    summary:
      'A replay job and its progress: running, then completed (enqueued = what it sent) or failed (error).',
    security: 'apiKey',
    success: { status: 200, description: 'the replay job', example: exampleReplay },
    errors: AUTH_AND_TENANT,
  },
  {
    method: 'post',
    path: '/v1/events',
    summary:
      'Publish a domain event. Idempotency-Key: the same key and body answer the first answer again; the same key with another body is 422. An event id already published with the same body is a no-op (200 duplicate); with another body it is 409 EVENT_ID_REUSED. ' +
      '`data` is at most 256 KiB of JSON by default (the api setting EVENT_MAX_DATA_BYTES; larger is 413); numbers must be finite and integers within ±(2^53 − 1) (send larger ones as strings).',
    security: 'apiKey',
    body: publishEventSchema,
    idempotent: true,
    success: {
      status: 202,
      description: 'accepted (200: duplicate event id)',
      example: { id: 'evt_…', status: 'accepted' },
    },
    errors: [
      ...BAD_INPUT,
      ApiErrorCode.Unauthenticated,
      ApiErrorCode.UnknownEventType,
      ApiErrorCode.IdempotencyKeyReused,
      ApiErrorCode.EventIdReused,
      ApiErrorCode.KafkaUnavailable,
    ],
  },
  {
    method: 'get',
    path: '/v1/event-types',
    summary: "The organisation's event-type catalogue, grouped by domain.",
    security: 'apiKey',
    success: {
      status: 200,
      description: 'the catalogue',
      example: {
        data: [{ name: 'booking.created', domain: 'booking', description: '', createdAt: '…' }],
        domains: ['booking'],
      },
    },
    errors: [ApiErrorCode.Unauthenticated],
  },
  {
    method: 'post',
    path: '/v1/event-types',
    summary:
      'Register event types (dotted or UPPER_SNAKE names), each optionally with an example of its data (test deliveries carry it); ' +
      're-registering updates the description, and the example when one is given.',
    security: 'apiKey',
    body: registerEventTypesSchema,
    success: { status: 200, description: 'the catalogue' },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated],
  },
  {
    method: 'post',
    path: '/admin/v1/organisations',
    summary:
      "Create an organisation and its first API key (shown once). `profile` names the delivery profile (a seed contract: standard-webhooks, flightline, flintn, flexorch, fl3xx, aviationalley) its default policy builds on; lifetimes and the renewal window default to the profile's.",
    security: 'adminToken',
    body: organisationCreationSchema,
    success: {
      status: 201,
      description: 'created',
      example: { organisation: { id: 'org_…', profile: 'aviationalley' }, id: 'Ab3…', apiKey: 'sk_…' },
    },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated],
  },
  {
    method: 'get',
    path: '/admin/v1/organisations',
    summary: 'List organisations.',
    security: 'adminToken',
    success: { status: 200, description: 'organisations' },
    errors: [ApiErrorCode.Unauthenticated],
  },
  {
    method: 'patch',
    path: '/admin/v1/organisations/{id}',
    summary:
      'Change name, delivery profile (adopting its subscription rules unless given), subscription lifetime, renewal window or default delivery policy.',
    security: 'adminToken',
    body: organisationUpdateSchema,
    success: { status: 200, description: 'updated' },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated, ApiErrorCode.NotFound],
  },
  {
    method: 'post',
    path: '/admin/v1/organisations/{id}/api-keys',
    summary: 'Issue another API key (shown once).',
    security: 'adminToken',
    body: apiKeyCreationSchema,
    success: { status: 201, description: 'issued', example: { id: 'Ab3…', apiKey: 'sk_…' } },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated, ApiErrorCode.NotFound],
  },
  {
    method: 'delete',
    path: '/admin/v1/organisations/{id}/api-keys/{keyId}',
    summary: 'Revoke an API key.',
    security: 'adminToken',
    success: { status: 204, description: 'revoked' },
    errors: [ApiErrorCode.Unauthenticated, ApiErrorCode.NotFound],
  },
  {
    method: 'get',
    path: '/admin/v1/subscriptions',
    summary:
      'Subscriptions of every organisation (or of organisationId), newest first, cursor-paginated; ' +
      'status=disabled lists the endpoints that are switched off, with the reason (partner or circuit-breaker).',
    security: 'adminToken',
    query: adminListSubscriptionsQuerySchema,
    success: {
      status: 200,
      description: 'a page',
      example: {
        data: [
          {
            ...exampleSubscription,
            organisationId: 'org_…',
            status: 'disabled',
            disabledReason: 'circuit-breaker',
            disabledDetail: '5 consecutive failures',
          },
        ],
        nextCursor: null,
      },
    },
    errors: [ApiErrorCode.ValidationFailed, ApiErrorCode.Unauthenticated],
  },
  {
    method: 'post',
    path: '/admin/v1/subscriptions/{id}/enable',
    summary:
      "Enable a disabled subscription in its organisation's name: the same command, checks and events as the " +
      "partners' POST /v1/subscriptions/{id}/enable. If-Match: the expected version.",
    security: 'adminToken',
    conditional: true,
    success: {
      status: 200,
      description: 'enabled',
      example: { ...exampleSubscription, organisationId: 'org_…', version: 3 },
    },
    errors: [ApiErrorCode.Unauthenticated, ApiErrorCode.NotFound, ApiErrorCode.Conflict],
  },
  {
    method: 'post',
    path: '/admin/v1/organisations/{organisationId}/subscriptions/{id}/replay',
    summary:
      "Start a replay in the organisation's name: the same job, limits and Idempotency-Key handling as " +
      'POST /v1/subscriptions/{id}/replay. Location: the job.',
    security: 'adminToken',
    body: startReplaySchema,
    idempotent: true,
    success: { status: 202, description: 'the replay job', example: exampleReplay },
    errors: REPLAY_START_ERRORS,
  },
  {
    method: 'get',
    path: '/admin/v1/organisations/{organisationId}/subscriptions/{id}/replays/{jobId}',
    summary: 'A replay job and its progress, as the partners see it.',
    security: 'adminToken',
    success: { status: 200, description: 'the replay job', example: exampleReplay },
    errors: AUTH_AND_TENANT,
  },
];

/** Every route reads or writes PostgreSQL (an API key is looked up there), so any may meet its outage. */
export const API_ROUTES: readonly RouteDescription[] = ROUTE_TABLE.map((route) => ({
  ...route,
  errors: [...route.errors, ApiErrorCode.DatabaseUnavailable],
}));

const errorBodySchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: {
          type: 'string',
          description: 'Stable code, e.g. VALIDATION_FAILED or SUBSCRIPTION_RENEWAL_NOT_OPEN',
        },
        message: { type: 'string' },
        details: {
          description: 'What the code needs said (the failing fields, the event id); `{}` when nothing.',
        },
      },
    },
  },
};

const retryAfterHeader = {
  description:
    'Seconds to wait before retrying: a dependency (the event log, the database) is unavailable. ' +
    'The same request may be sent again as it was; a publish with the same Idempotency-Key is recognised.',
  schema: { type: 'integer', minimum: 1 },
};

/** OpenAPI 3.1, generated from the route table and the same zod schemas that validate requests. */
export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map((match) => ({
        name: match[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...(route.query === undefined
        ? []
        : Object.entries(z.toJSONSchema(route.query, { io: 'input' }).properties ?? {}).map(
            ([name, schema]) => ({
              name,
              in: 'query',
              required: false,
              schema,
            }),
          )),
      ...(route.idempotent === true
        ? [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description: 'Printable ASCII without spaces, up to 200 characters.',
              schema: { type: 'string', maxLength: 200 },
            },
          ]
        : []),
      ...(route.conditional === true
        ? [
            {
              name: 'If-Match',
              in: 'header',
              required: false,
              description: 'The version read earlier, e.g. "3": 409 if it changed.',
              schema: { type: 'string' },
            },
          ]
        : []),
    ];
    const responses: Record<string, unknown> = {
      [String(route.success.status)]: {
        description: route.success.description,
        ...(route.success.example === undefined
          ? {}
          : { content: { 'application/json': { example: route.success.example } } }),
      },
    };
    for (const code of route.errors) {
      const status = String(API_ERROR_STATUS[code]);
      const existing = responses[status] as { description: string; headers?: unknown } | undefined;
      responses[status] = {
        description: existing === undefined ? code : `${existing.description}, ${code}`,
        ...(RETRY_AFTER_SECONDS[code] === undefined && existing?.headers === undefined
          ? {}
          : { headers: { 'Retry-After': retryAfterHeader } }),
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    paths[route.path] = {
      ...paths[route.path],
      [route.method]: {
        summary: route.summary,
        security: [{ [route.security]: [] }],
        ...(parameters.length === 0 ? {} : { parameters }),
        ...(route.body === undefined
          ? {}
          : {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: z.toJSONSchema(route.body, { io: 'input' }) } },
              },
            }),
        responses,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Skyhook API',
      version: '1',
      description: "Partner subscriptions to signed webhooks, and the operators' admin API.",
    },
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Organisation API key (sk_…)' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'SKYHOOK_ADMIN_TOKEN' },
      },
      schemas: {
        Error: errorBodySchema,
        DeliveryPolicyOverride: z.toJSONSchema(deliveryPolicyOverrideSchema, { io: 'input' }),
      },
    },
  };
}
