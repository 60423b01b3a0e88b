import { type EntityManager } from 'typeorm';
import { ApiError, ApiErrorCode } from './api-error';

/** What the first request with a key recorded: its answer, and the event it published, if any. */
export interface EarlierKeyUse {
  readonly responseStatus: number;
  readonly responseBody: Record<string, unknown>;
  readonly eventId: string | null;
}

/**
 * Claims an `Idempotency-Key` in the organisation's key space (one space for every route that
 * takes one: a key names one request, wherever it was sent), inside the caller's transaction.
 * Resolves `undefined` when the key is new (the caller goes on, and records its answer with
 * {@link recordIdempotentAnswer} in the same transaction), or with what the first request
 * recorded when it was the same request (by `requestHash`). A key used before for another
 * request is refused (422 `IDEMPOTENCY_KEY_REUSED`, saying `use a new key for …`). A concurrent
 * request with the same key waits on the row until the first one's transaction ends.
 */
export async function claimIdempotencyKey(
  manager: EntityManager,
  claim: {
    readonly organisationId: string;
    readonly key: string;
    readonly requestHash: string;
    /** The event the request publishes (POST /v1/events), kept with the key. */
    readonly eventId?: string;
    /** Ends the refusal's message: "a new event", "a new replay". */
    readonly newRequest: string;
  },
): Promise<EarlierKeyUse | undefined> {
  const { organisationId, key, requestHash } = claim;
  const claimed = await manager.query<unknown[]>(
    `INSERT INTO idempotency_keys (organisation_id, key, request_hash, response_status, response_body, event_id)
     VALUES ($1, $2, $3, 0, '{}'::jsonb, $4) ON CONFLICT DO NOTHING RETURNING key`,
    [organisationId, key, requestHash, claim.eventId ?? null],
  );
  if (claimed.length > 0) return undefined;
  const [earlier] = await manager.query<
    {
      request_hash: string;
      response_status: number;
      response_body: Record<string, unknown>;
      event_id: string | null;
    }[]
  >(
    `SELECT request_hash, response_status, response_body, event_id
     FROM idempotency_keys WHERE organisation_id = $1 AND key = $2`,
    [organisationId, key],
  );
  if (earlier === undefined || earlier.request_hash !== requestHash)
    throw idempotencyKeyReused(claim.newRequest);
  return {
    responseStatus: earlier.response_status,
    responseBody: earlier.response_body,
    eventId: earlier.event_id,
  };
}

/** Records the answer the request that claimed `key` got, for its repeats to answer again. */
export async function recordIdempotentAnswer(
  manager: EntityManager,
  organisationId: string,
  key: string,
  answer: { readonly status: number; readonly body: Record<string, unknown> },
): Promise<void> {
  await manager.query(
    `UPDATE idempotency_keys SET response_status = $3, response_body = $4
     WHERE organisation_id = $1 AND key = $2`,
    [organisationId, key, answer.status, JSON.stringify(answer.body)],
  );
}

/** The refusal of a key used before for another request (422), ending `use a new key for …`. */
export function idempotencyKeyReused(newRequest: string): ApiError {
  return new ApiError(
    ApiErrorCode.IdempotencyKeyReused,
    `this Idempotency-Key was used with a different request; use a new key for ${newRequest}`,
  );
}
