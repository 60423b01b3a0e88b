import { z } from 'zod';
import { eventTypeNameSchema } from './event-type-name';
import { eventScopeSchema, identifierSchema, MAX_SCOPE_KEYS } from './inbound-event.contract';
import { deliveryRequestSchema } from './delivery-request.contract';
import { compileJsonSchemaAcceptor } from './json-schema-acceptor';
import { defineMessageContract } from './message-contract';
import { KAFKA_TOPICS } from './topics';

/** Response bodies are kept up to this many characters, for the attempt log; the rest is dropped. */
export const RESPONSE_BODY_EXCERPT_MAX = 4_096;

/**
 * How an attempt ended, in classes an operator can act on:
 * - `success`: a 2xx;
 * - `http-error`: any other status (see `status`);
 * - `timeout`: no complete response within the policy's timeout;
 * - `network-error`: DNS failure, refused or reset connection, TLS failure;
 * - `address-refused`: the endpoint's host resolved to an address the SSRF policy forbids.
 */
export const ATTEMPT_OUTCOME_CLASSES = [
  'success',
  'http-error',
  'timeout',
  'network-error',
  'address-refused',
] as const;
export type AttemptOutcomeClass = (typeof ATTEMPT_OUTCOME_CLASSES)[number];

/**
 * What the attempt leads to: `delivered`; `retry-scheduled` (see `nextAttemptAt`); `failed`
 * (final: not retryable or attempts exhausted).
 */
export const ATTEMPT_RESULTS = ['delivered', 'retry-scheduled', 'failed'] as const;
export type AttemptResult = (typeof ATTEMPT_RESULTS)[number];

/** Why a delivery was not attempted. */
export const SKIP_REASONS = [
  'subscription-disabled',
  'subscription-expired',
  'subscription-revoked',
  'subscription-deleted',
  'subscription-unknown',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/**
 * Delivery history keeps attempt numbers and body sizes in PostgreSQL `integer` columns. A
 * larger value would fail the history write, and with it every retry of the batch: it breaks
 * the contract instead, so the record goes to the dead-letter topic and the partition moves on.
 */
const POSTGRES_INTEGER_MAX = 2_147_483_647;

const deliveryBase = {
  deliveryId: identifierSchema,
  subscriptionId: identifierSchema,
  organisationId: identifierSchema,
  eventId: identifierSchema,
  eventType: eventTypeNameSchema,
  test: z.boolean(),
  publishedAt: z.iso.datetime({ offset: true }),
  /**
   * The delivery request itself on the first attempt, on skips and while waiting, so history can show,
   * resend and replay a delivery without another copy of the event; later attempts leave it out.
   */
  request: deliveryRequestSchema.nullable(),
};

export const deliveryEventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...deliveryBase,
    type: z.literal('DeliveryAttempted'),
    /** 1-based: the dispatcher's count of this delivery's attempts. */
    attemptNumber: z.number().int().min(1).max(POSTGRES_INTEGER_MAX),
    /**
     * Minted by the dispatcher just before the request goes out, so it names one HTTP request:
     * the same record produced twice carries the same id (history stores it once), while a
     * dispatcher that crashed before committing and sends the request again mints a new one
     * under the same number (history shows both). Absent from records produced before it
     * existed: history keys those by delivery id and attempt number alone.
     */
    attemptId: identifierSchema.optional(),
    /**
     * True when this request follows a dispatch whose outcome is unknown: a dispatcher may have
     * sent this attempt's request before and stopped before recording it (ADR 0018), so the
     * receiver may have had it already, under the same delivery id and number, though history
     * shows no earlier one. Absent otherwise, and from records produced before it existed.
     */
    afterUnknownOutcome: z.boolean().optional(),
    attemptedAt: z.iso.datetime({ offset: true }),
    durationMs: z.number().min(0),
    url: z.string().max(2_048),
    /** The request headers as sent (signatures are HMACs, not secrets). */
    requestHeaders: z.record(z.string(), z.string()),
    requestBodyBytes: z.number().int().min(0).max(POSTGRES_INTEGER_MAX),
    outcome: z.enum(ATTEMPT_OUTCOME_CLASSES),
    responseStatus: z.number().int().min(100).max(999).nullable(),
    responseBody: z.string().max(RESPONSE_BODY_EXCERPT_MAX).nullable(),
    /** e.g. `ECONNREFUSED`, `UND_ERR_CONNECT_TIMEOUT`, `ADDRESS_NOT_ALLOWED`; null on a response. */
    errorCode: z.string().max(100).nullable(),
    errorMessage: z.string().max(1_000).nullable(),
    result: z.enum(ATTEMPT_RESULTS),
    nextAttemptAt: z.iso.datetime({ offset: true }).nullable(),
  }),
  z.strictObject({
    ...deliveryBase,
    type: z.literal('DeliverySkipped'),
    skippedAt: z.iso.datetime({ offset: true }),
    reason: z.enum(SKIP_REASONS),
    /** `held`: kept for replay once the subscription is enabled again; `dropped`: never sent. */
    disposition: z.enum(['dropped', 'held']),
    /** Set when a scheduled retry was skipped: the attempt that would have been made. */
    attemptNumber: z.number().int().min(1).max(POSTGRES_INTEGER_MAX),
  }),
  z.strictObject({
    ...deliveryBase,
    type: z.literal('DeliveryWaiting'),
    /**
     * A delivery of an ordered subscription (ADR 0031) that has waited a while for the delivery
     * before it of the same ordering key: that one is being sent, retried, held after its final
     * failure, or waiting itself. Its predecessor, not the key's head, so the name stays true
     * however long the wait: the partner follows the chain to the head.
     */
    behindDeliveryId: identifierSchema,
    waitingSince: z.iso.datetime({ offset: true }),
    /** The attempt it waits to make (1, or a resend's number): attempts made are one fewer. */
    attemptNumber: z.number().int().min(1).max(POSTGRES_INTEGER_MAX),
  }),
]);

export type DeliveryEvent = z.infer<typeof deliveryEventSchema>;
export type DeliveryAttempted = Extract<DeliveryEvent, { type: 'DeliveryAttempted' }>;
export type DeliverySkipped = Extract<DeliveryEvent, { type: 'DeliverySkipped' }>;
export type DeliveryWaiting = Extract<DeliveryEvent, { type: 'DeliveryWaiting' }>;

/** Keyed by delivery id: one delivery's attempts stay in order for the projector. */
export const deliveryEventContract = defineMessageContract<DeliveryEvent>({
  topic: KAFKA_TOPICS.deliveryEvents,
  schemaId: 'delivery-event',
  schemaVersion: 1,
  schema: deliveryEventSchema,
  keyOf: (event) => event.deliveryId,
  // History decodes every attempt of every delivery; zod's validation was its largest cost.
  acceptFast: compileJsonSchemaAcceptor(
    deliveryEventSchema,
    // The scope's one refinement: at most 16 keys.
    new Map([[eventScopeSchema, { maxProperties: MAX_SCOPE_KEYS }]]),
  ),
});
