import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type z } from 'zod';
import { type InboundEvent } from '@skyhook/contracts';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { claimIdempotencyKey, recordIdempotentAnswer } from '../http/idempotency-keys';
import {
  type PublishBatchResponse,
  type PublishBatchResult,
  type publishAnswerResponseSchema,
} from './publish-event.schema';

export interface PublishAnswer {
  readonly status: 200 | 202;
  readonly body: z.infer<typeof publishAnswerResponseSchema>;
}

/**
 * What a publish request has to do once its claim is committed:
 * - `answered`: the event was published before; nothing to produce, answer as then;
 * - `produce`: produce `event` and then answer. The event is the one stored with the first
 *   claim, parsed from the very text stored, so every send of it (the first, and any retry's
 *   of a claim left pending) carries the same body.
 */
export type PublishClaim =
  | { readonly kind: 'answered'; readonly answer: PublishAnswer }
  | { readonly kind: 'produce'; readonly event: InboundEvent; readonly answer: PublishAnswer };

/** An event of a batch to claim: distinct ids only (the service settles repeats within a batch). */
export interface BatchCandidate {
  readonly index: number;
  readonly event: InboundEvent;
  readonly requestHash: string;
}

/**
 * What a batch has to do once its claims are committed: produce `toProduce` (the events claimed
 * now, and those of an earlier attempt still pending), then answer `response`.
 */
export interface BatchClaim {
  readonly response: PublishBatchResponse;
  readonly toProduce: readonly InboundEvent[];
}

const accepted = (id: string): PublishAnswer => ({ status: 202, body: { id, status: 'accepted' } });
const duplicate = (id: string): PublishAnswer => ({ status: 200, body: { id, status: 'duplicate' } });

/**
 * Claims of POST /v1/events in PostgreSQL: an event id (and the Idempotency-Key naming it) is
 * recorded `pending`, with the event as it will be produced, in a short transaction that is
 * committed before the event goes to Kafka; the claim is marked `published` once the broker
 * acknowledged it. No connection is held while Kafka is waited on, and a send that succeeded
 * is never undone by a commit that failed after it.
 */
@Injectable()
export class PublishClaimsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Records the claim for `event` (and `idempotencyKey`), or finds the earlier one. A request
   * whose key was used with another body is refused (422) before anything is recorded.
   */
  claim(
    organisationId: string,
    event: InboundEvent,
    requestHash: string,
    idempotencyKey: string | undefined,
  ): Promise<PublishClaim> {
    return this.dataSource.transaction(async (manager) => {
      if (idempotencyKey !== undefined) {
        const earlier = await this.claimKey(manager, organisationId, idempotencyKey, requestHash, event.id);
        if (earlier !== undefined) return earlier;
      }
      const claim = await this.claimEvent(manager, organisationId, event, requestHash);
      if (idempotencyKey !== undefined) {
        await recordIdempotentAnswer(manager, organisationId, idempotencyKey, claim.answer);
      }
      return claim;
    });
  }

  /**
   * Claims a batch's events in one transaction (two statements, whatever the batch's size): each
   * event as {@link claim} would, without an Idempotency-Key of its own. The batch's key, if any,
   * is claimed first: a repeat of the batch answers the first answer again and produces what of
   * it is still pending. `answer` turns the events' results into the whole answer (adding what
   * the service refused before claiming), recorded under the key.
   */
  claimBatch(
    organisationId: string,
    candidates: readonly BatchCandidate[],
    batch: { readonly requestHash: string; readonly idempotencyKey: string | undefined },
    answer: (claimed: ReadonlyMap<number, PublishBatchResult>) => PublishBatchResponse,
  ): Promise<BatchClaim> {
    return this.dataSource.transaction(async (manager) => {
      const { idempotencyKey } = batch;
      if (idempotencyKey !== undefined) {
        const earlier = await claimIdempotencyKey(manager, {
          organisationId,
          key: idempotencyKey,
          requestHash: batch.requestHash,
          newRequest: 'a new batch',
        });
        if (earlier !== undefined) {
          const response = earlier.responseBody as unknown as PublishBatchResponse;
          return { response, toProduce: await this.pendingOf(manager, organisationId, response) };
        }
      }
      const { results, toProduce } = await this.claimEvents(manager, organisationId, candidates);
      const response = answer(results);
      if (idempotencyKey !== undefined) {
        await recordIdempotentAnswer(manager, organisationId, idempotencyKey, {
          status: 200,
          body: response,
        });
      }
      return { response, toProduce };
    });
  }

  /**
   * The broker acknowledged the events: later requests for them answer without producing. The
   * stored text is dropped, as nothing will send it again.
   */
  async markPublished(organisationId: string, eventIds: readonly string[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE published_events SET state = 'published', published_at = now(), event = NULL
       WHERE organisation_id = $1 AND event_id = ANY($2::text[]) AND state = 'pending'`,
      [organisationId, eventIds],
    );
  }

  /**
   * Claims the key for this request, or returns what the first request with it claimed: the
   * answer it got, and its event again if that is still pending (never acknowledged).
   */
  private async claimKey(
    manager: EntityManager,
    organisationId: string,
    key: string,
    requestHash: string,
    eventId: string,
  ): Promise<PublishClaim | undefined> {
    const earlier = await claimIdempotencyKey(manager, {
      organisationId,
      key,
      requestHash,
      eventId,
      newRequest: 'a new event',
    });
    if (earlier === undefined) return undefined;
    const answer: PublishAnswer = {
      status: earlier.responseStatus as PublishAnswer['status'],
      body: earlier.responseBody as unknown as PublishAnswer['body'],
    };
    // Keys recorded before claims existed name no event: their event was produced and committed together.
    const [claimed] =
      earlier.eventId === null
        ? []
        : await manager.query<{ state: string; event: string | null }[]>(
            'SELECT state, event FROM published_events WHERE organisation_id = $1 AND event_id = $2',
            [organisationId, earlier.eventId],
          );
    return claimed?.state === 'pending' && claimed.event !== null
      ? { kind: 'produce', event: JSON.parse(claimed.event) as InboundEvent, answer }
      : { kind: 'answered', answer };
  }

  /**
   * Claims the event id. The same request again is a no-op (200 duplicate); a request reusing
   * the id with another body is refused (409 `EVENT_ID_REUSED`): its payload would otherwise be
   * dropped without a word. An id claimed but still pending (its first request failed on Kafka,
   * or died before marking it) is produced again as first stored when the same request comes
   * again. Ids claimed before request hashes were kept (no hash) answer duplicate, as they did.
   */
  private async claimEvent(
    manager: EntityManager,
    organisationId: string,
    event: InboundEvent,
    requestHash: string,
  ): Promise<PublishClaim> {
    const text = JSON.stringify(event);
    const inserted = await manager.query<unknown[]>(
      `INSERT INTO published_events (organisation_id, event_id, state, request_hash, event)
       VALUES ($1, $2, 'pending', $3, $4) ON CONFLICT DO NOTHING RETURNING event_id`,
      [organisationId, event.id, requestHash, text],
    );
    if (inserted.length > 0) {
      return { kind: 'produce', event: JSON.parse(text) as InboundEvent, answer: accepted(event.id) };
    }
    const [earlier] = await manager.query<
      { state: string; request_hash: string | null; event: string | null }[]
    >(
      'SELECT state, request_hash, event FROM published_events WHERE organisation_id = $1 AND event_id = $2',
      [organisationId, event.id],
    );
    if (earlier?.request_hash != null && earlier.request_hash !== requestHash) {
      throw new ApiError(
        ApiErrorCode.EventIdReused,
        `event id ${event.id} was already published with a different body; give a new event a new id`,
        undefined,
        { eventId: event.id },
      );
    }
    if (earlier?.state !== 'pending' || earlier.event === null) {
      return { kind: 'answered', answer: duplicate(event.id) };
    }
    return {
      kind: 'produce',
      event: JSON.parse(earlier.event) as InboundEvent,
      answer: earlier.request_hash === requestHash ? accepted(event.id) : duplicate(event.id),
    };
  }

  /**
   * Inserts every candidate's claim at once; an id claimed before is settled as in
   * {@link claimEvent}: same body, a no-op (or produced again while pending); another body,
   * refused with `EVENT_ID_REUSED`.
   */
  private async claimEvents(
    manager: EntityManager,
    organisationId: string,
    candidates: readonly BatchCandidate[],
  ): Promise<{ results: Map<number, PublishBatchResult>; toProduce: InboundEvent[] }> {
    // The text is kept as produced: a re-produce of a pending claim sends the same bytes.
    const claims = candidates.map((candidate) => ({ ...candidate, text: JSON.stringify(candidate.event) }));
    const inserted = await manager.query<{ event_id: string }[]>(
      `INSERT INTO published_events (organisation_id, event_id, state, request_hash, event)
       SELECT $1, claim.event_id, 'pending', claim.request_hash, claim.event
       FROM unnest($2::text[], $3::text[], $4::text[]) AS claim (event_id, request_hash, event)
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [
        organisationId,
        claims.map((claim) => claim.event.id),
        claims.map((claim) => claim.requestHash),
        claims.map((claim) => claim.text),
      ],
    );
    const insertedIds = new Set(inserted.map((row) => row.event_id));
    const claimedBefore = claims.filter((claim) => !insertedIds.has(claim.event.id));
    const earlierRows =
      claimedBefore.length === 0
        ? []
        : await manager.query<
            { event_id: string; state: string; request_hash: string | null; event: string | null }[]
          >(
            `SELECT event_id, state, request_hash, event FROM published_events
             WHERE organisation_id = $1 AND event_id = ANY($2::text[])`,
            [organisationId, claimedBefore.map((claim) => claim.event.id)],
          );
    const earlierById = new Map(earlierRows.map((row) => [row.event_id, row]));

    const results = new Map<number, PublishBatchResult>();
    const toProduce: InboundEvent[] = [];
    for (const { index, event, requestHash, text } of claims) {
      if (insertedIds.has(event.id)) {
        results.set(index, { index, id: event.id, status: 'accepted' });
        toProduce.push(JSON.parse(text) as InboundEvent);
        continue;
      }
      const earlier = earlierById.get(event.id);
      if (earlier?.request_hash != null && earlier.request_hash !== requestHash) {
        results.set(index, {
          index,
          id: event.id,
          status: 'rejected',
          error: {
            code: ApiErrorCode.EventIdReused,
            message: `event id ${event.id} was already published with a different body; give a new event a new id`,
          },
        });
        continue;
      }
      // Claimed by a request that failed before the broker acknowledged: produced now, and, as
      // that request never answered, accepted by this one.
      if (earlier?.state === 'pending' && earlier.event !== null) {
        toProduce.push(JSON.parse(earlier.event) as InboundEvent);
        results.set(index, { index, id: event.id, status: 'accepted' });
        continue;
      }
      results.set(index, { index, id: event.id, status: 'duplicate' });
    }
    return { results, toProduce };
  }

  /** The events of an earlier answer to a batch that are still pending (its produce failed). */
  private async pendingOf(
    manager: EntityManager,
    organisationId: string,
    response: PublishBatchResponse,
  ): Promise<InboundEvent[]> {
    const ids = response.results.flatMap((result) => (result.status === 'accepted' ? [result.id] : []));
    if (ids.length === 0) return [];
    const rows = await manager.query<{ event: string }[]>(
      `SELECT event FROM published_events
       WHERE organisation_id = $1 AND event_id = ANY($2::text[]) AND state = 'pending' AND event IS NOT NULL`,
      [organisationId, ids],
    );
    return rows.map((row) => JSON.parse(row.event) as InboundEvent);
  }
}
