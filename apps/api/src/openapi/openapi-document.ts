import { z } from 'zod';
import { DELIVERY_POLICY_DEFAULTS, deliveryPolicyOverrideSchema } from '@skyhook/delivery-policy';
import { API_ERROR_STATUS, ApiErrorCode } from '../http/api-error';
import {
  createSubscriptionSchema,
  listSubscriptionsQuerySchema,
  rotateSecretSchema,
  updateSubscriptionSchema,
} from '../subscriptions/subscription.schemas';
import {
  apiKeyCreationSchema,
  organisationCreationSchema,
  organisationUpdateSchema,
} from '../organisations/admin-organisations.schemas';
import { registerEventTypesSchema } from '../event-types/event-types.schemas';
import { publishEventSchema } from '../events/publish-event.schema';

type Method = 'get' | 'post' | 'patch' | 'delete';

interface RouteDescription {
  readonly method: Method;
  readonly path: string;
  readonly summary: string;
  readonly security: 'apiKey' | 'adminToken';
  readonly body?: z.ZodType;
  readonly query?: z.ZodObject;
  readonly conditional?: boolean;
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
  policy: { timeoutMs: 5000 },
  effectivePolicy: { ...DELIVERY_POLICY_DEFAULTS, timeoutMs: 5000 },
  version: 1,
  createdAt: '2026-05-31T18:09:12.000Z',
  updatedAt: '2026-05-31T18:09:12.000Z',
};

const BAD_INPUT = [ApiErrorCode.ValidationFailed, ApiErrorCode.MalformedJson, ApiErrorCode.PayloadTooLarge];
const AUTH_AND_TENANT = [ApiErrorCode.Unauthenticated, ApiErrorCode.NotFound];

/** Every route the api serves, with its input schema, example and the errors it can answer. */
export const API_ROUTES: readonly RouteDescription[] = [
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
    summary: 'Rotate the signing secret; the old one keeps signing for graceSeconds (default 24 h).',
    security: 'apiKey',
    body: rotateSecretSchema,
    conditional: true,
    success: {
      status: 200,
      description: 'rotated',
      example: { ...exampleSubscription, signingSecret: 'whsec_9b1f…' },
    },
    errors: [...BAD_INPUT, ...AUTH_AND_TENANT, ApiErrorCode.Conflict],
  },
  {
    method: 'post',
    path: '/v1/subscriptions/{id}/test',
    summary: 'Send a signed webhook.test delivery to this subscription through the normal path.',
    security: 'apiKey',
    success: {
      status: 202,
      description: 'accepted',
      example: { eventId: 'evt_test_…', type: 'webhook.test' },
    },
    errors: [...AUTH_AND_TENANT, ApiErrorCode.Conflict, ApiErrorCode.ServiceUnavailable],
  },
  {
    method: 'post',
    path: '/v1/events',
    summary:
      'Publish a domain event. Idempotency-Key: the same key and body answer the first answer again; the same key with another body is 422. An event id already published is a no-op (200).',
    security: 'apiKey',
    body: publishEventSchema,
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
      ApiErrorCode.ServiceUnavailable,
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
    summary: 'Register event types (dotted or UPPER_SNAKE names); re-registering updates the description.',
    security: 'apiKey',
    body: registerEventTypesSchema,
    success: { status: 200, description: 'the catalogue' },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated],
  },
  {
    method: 'post',
    path: '/admin/v1/organisations',
    summary: 'Create an organisation and its first API key (shown once).',
    security: 'adminToken',
    body: organisationCreationSchema,
    success: {
      status: 201,
      description: 'created',
      example: { organisation: { id: 'org_…' }, id: 'Ab3…', apiKey: 'sk_…' },
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
    summary: 'Change name, subscription lifetime, renewal window or default delivery policy.',
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
];

const errorBodySchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: {
          type: 'string',
          description: 'Stable code, e.g. VALIDATION_FAILED or SUBSCRIPTION_RENEWAL_NOT_OPEN',
        },
        message: { type: 'string' },
        details: {},
      },
    },
  },
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
      const existing = responses[status] as { description: string } | undefined;
      responses[status] = {
        description: existing === undefined ? code : `${existing.description}, ${code}`,
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
