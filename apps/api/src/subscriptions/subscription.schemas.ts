import { z } from 'zod';
import {
  AFTER_FINAL_FAILURE,
  ENDPOINT_RATE_LIMIT_MAX_PER_SECOND,
  eventScopeSchema,
  jsonPointerSchema,
  eventTypeFilterSchema,
  eventTypeNameSchema,
  SUBSCRIPTION_STATUSES,
} from '@skyhook/contracts';

/** Per-key FIFO as a partner asks for it (ADR 0031); null turns it off. */
export const orderingRequestSchema = z
  .strictObject({
    key: jsonPointerSchema.meta({
      description:
        'JSON Pointer into the event as delivered (e.g. /data/flightId): deliveries with the same value reach the endpoint in publish order, one at a time.',
    }),
    afterFinalFailure: z.enum(AFTER_FINAL_FAILURE).default('skip').meta({
      description:
        "After a delivery's last attempt failed: skip it and go on with the key's next one, or hold the key until the partner resends or skips it.",
    }),
  })
  .nullable();

/** An endpoint's rate limit as a partner asks for it (ADR 0032); null removes it. */
export const rateLimitRequestSchema = z
  .strictObject({
    perSecond: z.number().int().min(1).max(ENDPOINT_RATE_LIMIT_MAX_PER_SECOND).meta({
      description:
        'The most requests the endpoint is sent in any one second: first attempts, retries, resends and replays alike. Deliveries beyond it wait their turn; none is dropped.',
    }),
  })
  .nullable();

export const createSubscriptionSchema = z.strictObject({
  url: z.string().min(1).max(2_048),
  description: z.string().max(500).default(''),
  eventTypes: z
    .array(eventTypeFilterSchema)
    .min(1)
    .max(200)
    .meta({
      description:
        "Exact types, domain.* prefixes, or * (every type of the organisation's own). Skyhook's partner notifications " +
        '(skyhook.subscription.disabled, skyhook.delivery.failed, …) are received only by naming them or skyhook.*.',
    }),
  scopeFilter: eventScopeSchema.default({}),
  /** Overrides of the organisation's default delivery policy; validated by the delivery-policy library. */
  policy: z.record(z.string(), z.unknown()).default({}),
  /** Bring your own signing secret (e.g. to keep a receiver's existing one); otherwise one is generated. */
  secret: z.string().optional(),
  ordering: orderingRequestSchema.default(null),
  rateLimit: rateLimitRequestSchema.default(null),
});
export type CreateSubscriptionRequest = z.infer<typeof createSubscriptionSchema>;

export const updateSubscriptionSchema = z
  .strictObject({
    url: z.string().min(1).max(2_048).optional(),
    description: z.string().max(500).optional(),
    eventTypes: z.array(eventTypeFilterSchema).min(1).max(200).optional(),
    scopeFilter: eventScopeSchema.optional(),
    policy: z.record(z.string(), z.unknown()).optional(),
    ordering: orderingRequestSchema.optional(),
    rateLimit: rateLimitRequestSchema.optional(),
    /** `inactive` is FL3XX's name for `disabled`, accepted under the fl3xx profile only. */
    status: z.enum(['active', 'disabled', 'inactive']).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'nothing to update');
export type UpdateSubscriptionRequest = z.infer<typeof updateSubscriptionSchema>;

/** How long the current secret keeps signing beside the new one (0 retires it at once). */
const graceSecondsSchema = z
  .number()
  .int()
  .min(0)
  .max(7 * 24 * 3600)
  .optional();

export const rotateSecretSchema = z
  .strictObject({
    secret: z.string().optional(),
    graceSeconds: graceSecondsSchema,
    /**
     * `immediate` (the default): the new secret signs at once. `manual`: it stays pending until
     * `POST …/secrets/{secretId}/activation`. `scheduled`: it activates at `activateAt`.
     */
    activation: z.enum(['immediate', 'manual', 'scheduled']).optional(),
    activateAt: z.iso.datetime({ offset: true }).optional(),
  })
  .superRefine((body, context) => {
    if (body.activation === 'scheduled' && body.activateAt === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['activateAt'],
        message: 'a scheduled activation needs activateAt',
      });
    }
    if (body.activation !== 'scheduled' && body.activateAt !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['activateAt'],
        message: 'activateAt goes with activation "scheduled" only',
      });
    }
  });
export type RotateSecretRequest = z.infer<typeof rotateSecretSchema>;

export const activateSecretSchema = z.strictObject({ graceSeconds: graceSecondsSchema });
export type ActivateSecretRequest = z.infer<typeof activateSecretSchema>;

/** POST /v1/subscriptions/{id}/test: both optional; `data` only with a `type`. */
export const sendTestEventSchema = z.strictObject({
  type: eventTypeNameSchema.optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type SendTestEventRequest = z.infer<typeof sendTestEventSchema>;

export const listSubscriptionsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
  status: z.enum(SUBSCRIPTION_STATUSES).optional(),
});
export type ListSubscriptionsQuery = z.infer<typeof listSubscriptionsQuerySchema>;

/** GET /admin/v1/subscriptions: the partners' filters, plus the organisation to narrow to. */
export const adminListSubscriptionsQuerySchema = listSubscriptionsQuerySchema.extend({
  organisationId: z.string().min(1).max(128).optional(),
});
export type AdminListSubscriptionsQuery = z.infer<typeof adminListSubscriptionsQuerySchema>;
