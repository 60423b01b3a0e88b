import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  assertEventDataWithinLimit,
  ContractViolationError,
  type InboundEvent,
  isReservedEventType,
} from '@skyhook/contracts';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { type Clock } from '@skyhook/subscriptions';
import { API_CONFIG, type ApiConfig } from '../api.config';
import { CLOCK } from '../clock.provider';
import { EventTypeRepository } from '../event-types/event-type.repository';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { type Organisation } from '../organisations/organisation.repository';
import { InboundEventProducer } from './inbound-event-producer';
import {
  type PublishBatchResponse,
  type PublishBatchResult,
  publishEventSchema,
  type PublishEventRequest,
} from './publish-event.schema';
import {
  type BatchCandidate,
  type PublishAnswer,
  PublishClaimsRepository,
} from './publish-claims.repository';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { domainErrorToApiError } from '../http/domain-error-mapping';

export type PublishEventResult = PublishAnswer;

/**
 * Accepts a domain event over HTTP: validated against the catalogue, claimed in PostgreSQL
 * (committed, connection released), produced to the inbound topic (acks=all) within
 * PUBLISH_KAFKA_TIMEOUT_MS, then marked published. A publish answers 202 only once the broker
 * acknowledged the event; an error answer leaves the claim pending, so a retry with the same
 * Idempotency-Key or event id produces the same record again (a duplicate at most, never a
 * different body, never a loss).
 */
@Injectable()
export class PublishEventService {
  constructor(
    private readonly claims: PublishClaimsRepository,
    private readonly eventTypes: EventTypeRepository,
    private readonly producer: InboundEventProducer,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  async publish(
    organisation: Organisation,
    request: PublishEventRequest,
    idempotencyKey?: string,
  ): Promise<PublishEventResult> {
    assertEventDataWithinLimit(request.data, this.config.EVENT_MAX_DATA_BYTES);
    if (!(await this.eventTypes.has(organisation.id, request.type)))
      throw this.unknownEventType(request.type);
    const event = this.inboundEvent(organisation.id, request, () =>
      idempotencyKey === undefined ? undefined : `${organisation.id}\u0000${idempotencyKey}`,
    );
    const claim = await this.claims.claim(organisation.id, event, requestHashOf(request), idempotencyKey);
    if (claim.kind === 'answered') return claim.answer;
    await this.produceWithinBound(organisation.id, [claim.event]);
    return claim.answer;
  }

  /**
   * Publishes up to MAX_EVENTS_PER_BATCH events with one claim transaction and one produce
   * request. Each event is validated and claimed as POST /v1/events would (its own id, its own
   * no-op on a repeat); one that is refused is refused in its result only. An event without an
   * id gets one derived from the batch's Idempotency-Key and its index, so a repeat of the batch
   * names the same events. The answer comes once the broker acknowledged every accepted event;
   * if it did not within PUBLISH_KAFKA_TIMEOUT_MS the whole batch is answered 503 and its events
   * stay pending: the same batch again (same key, or the same ids) produces them.
   */
  async publishBatch(
    organisation: Organisation,
    events: readonly unknown[],
    idempotencyKey?: string,
  ): Promise<PublishBatchResponse> {
    const knownTypes = await this.eventTypes.ownNames(organisation.id);
    const refused = new Map<number, PublishBatchResult>();
    const candidates: BatchCandidate[] = [];
    /** Later events of the batch with the id of an earlier one, by index: settled by that one's result. */
    const repeats = new Map<number, { readonly of: BatchCandidate; readonly sameBody: boolean }>();
    const byId = new Map<string, BatchCandidate>();

    events.forEach((raw, index) => {
      try {
        const request = new ZodValidationPipe(publishEventSchema, `events[${index}]`).transform(raw);
        assertEventDataWithinLimit(request.data, this.config.EVENT_MAX_DATA_BYTES);
        if (!knownTypes.has(request.type)) throw this.unknownEventType(request.type);
        const event = this.inboundEvent(organisation.id, request, () =>
          idempotencyKey === undefined
            ? undefined
            : `${organisation.id}\u0000${idempotencyKey}\u0000${index}`,
        );
        const candidate: BatchCandidate = { index, event, requestHash: requestHashOf(request) };
        const first = byId.get(event.id);
        if (first === undefined) {
          byId.set(event.id, candidate);
          candidates.push(candidate);
        } else {
          repeats.set(index, { of: first, sameBody: first.requestHash === candidate.requestHash });
        }
      } catch (error) {
        refused.set(index, rejectedResult(index, raw, error));
      }
    });

    const answer = (claimed: ReadonlyMap<number, PublishBatchResult>): PublishBatchResponse => {
      const results = events.map((_, index): PublishBatchResult => {
        const own = claimed.get(index) ?? refused.get(index);
        if (own !== undefined) return own;
        const repeat = repeats.get(index);
        if (repeat === undefined) throw new Error(`batch event ${index} has no result`);
        return repeatResult(index, repeat.of.event.id, repeat.sameBody, claimed.get(repeat.of.index));
      });
      return {
        accepted: results.filter((result) => result.status === 'accepted').length,
        duplicates: results.filter((result) => result.status === 'duplicate').length,
        rejected: results.filter((result) => result.status === 'rejected').length,
        results,
      };
    };

    const claim = await this.claims.claimBatch(
      organisation.id,
      candidates,
      { requestHash: requestHashOf(events), idempotencyKey },
      answer,
    );
    if (claim.toProduce.length > 0) await this.produceWithinBound(organisation.id, claim.toProduce);
    return claim.response;
  }

  /**
   * The event as it is produced. Its id is the request's, or derived from `idempotencySeed` (a
   * lost response cannot mint a second event), or random.
   */
  private inboundEvent(
    organisationId: string,
    request: PublishEventRequest,
    idempotencySeed: () => string | undefined,
  ): InboundEvent {
    return {
      id: request.id ?? generatedEventId(idempotencySeed()),
      type: request.type,
      organisationId,
      scope: request.scope,
      // Fixed at the first claim: a retry of a pending claim produces the stored event, not this one.
      occurredAt: request.occurredAt ?? this.clock.now().toISOString(),
      data: request.data,
    };
  }

  private unknownEventType(type: string): ApiError {
    return new ApiError(
      ApiErrorCode.UnknownEventType,
      isReservedEventType(type)
        ? `event type ${type} is one of Skyhook's own notifications: only Skyhook publishes the skyhook domain`
        : `event type ${type} is not in the catalogue; register it with POST /v1/event-types`,
      undefined,
      { eventType: type },
    );
  }

  /**
   * Produces the claimed events and marks them published. A send still running at the bound goes
   * on, and marks the claims if it succeeds after all. Once the broker acknowledged, the answer
   * is a success whatever the marking does: the events ARE published (an error would make the
   * client publish again), and a retry of a claim left pending marks it. The marking is awaited
   * (within the same bound) so that the next request for an event finds it published.
   */
  private async produceWithinBound(organisationId: string, events: readonly InboundEvent[]): Promise<void> {
    const timeoutMs = this.config.PUBLISH_KAFKA_TIMEOUT_MS;
    const eventIds = events.map((event) => event.id);
    const sending = this.producer.send(events);
    const marking = sending.then(() => this.markPublished(organisationId, eventIds));
    // A send that fails after the bound has no one left to tell; the claims stay pending.
    marking.catch(() => undefined);

    let outcome: 'sent' | 'timed-out';
    try {
      outcome = await settledWithin(
        sending.then(() => 'sent' as const),
        timeoutMs,
      );
    } catch (error) {
      if (error instanceof ContractViolationError) throw error;
      this.logger.warn(
        { err: error, eventIds: eventIds.slice(0, 10) },
        'publish: the event log refused the send',
      );
      throw this.kafkaUnavailable(eventIds, 'the event log is unavailable');
    }
    if (outcome === 'timed-out') {
      throw this.kafkaUnavailable(eventIds, `the event log did not acknowledge within ${timeoutMs} ms`);
    }
    await settledWithin(marking, timeoutMs);
  }

  private async markPublished(organisationId: string, eventIds: readonly string[]): Promise<void> {
    try {
      await this.claims.markPublished(organisationId, eventIds);
    } catch (error) {
      this.logger.warn(
        { err: error, eventIds: eventIds.slice(0, 10) },
        'publish: the events were produced but could not be marked published; a retry marks them',
      );
    }
  }

  private kafkaUnavailable(eventIds: readonly string[], reason: string): ApiError {
    const [onlyEventId] = eventIds;
    return eventIds.length === 1 && onlyEventId !== undefined
      ? new ApiError(
          ApiErrorCode.KafkaUnavailable,
          `${reason}; the event is held as pending: retry with the same Idempotency-Key, or with this event id`,
          undefined,
          { eventId: onlyEventId },
        )
      : new ApiError(
          ApiErrorCode.KafkaUnavailable,
          `${reason}; the batch's events are held as pending: send the same batch again with the same Idempotency-Key, or with the same event ids`,
          undefined,
          { eventIds },
        );
  }
}

/** With a seed (from an Idempotency-Key) the id is derived from it, so even a lost response cannot mint a second event. */
function generatedEventId(idempotencySeed: string | undefined): string {
  return idempotencySeed === undefined
    ? `evt_${randomBytes(16).toString('hex')}`
    : `evt_${createHash('sha256').update(idempotencySeed).digest('hex').slice(0, 32)}`;
}

/** What tells a repeat of a request from another request with the same key or event id. */
function requestHashOf(request: unknown): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}

/** A batch event refused before its claim, with the error the single publish would answer. */
function rejectedResult(index: number, raw: unknown, error: unknown): PublishBatchResult {
  const apiError = error instanceof ApiError ? error : domainErrorToApiError(error);
  if (apiError === undefined) throw error;
  const rawId = (raw as { id?: unknown } | null)?.id;
  return {
    index,
    ...(typeof rawId === 'string' ? { id: rawId } : {}),
    status: 'rejected',
    error: {
      code: apiError.code,
      message: apiError.message,
      ...(apiError.details === undefined ? {} : { details: apiError.details }),
    },
  };
}

/**
 * A later event of a batch with an earlier one's id: the same body is that event again (a
 * duplicate, or refused with it); another body reuses the id (refused).
 */
function repeatResult(
  index: number,
  id: string,
  sameBody: boolean,
  firstResult: PublishBatchResult | undefined,
): PublishBatchResult {
  if (sameBody && firstResult?.status !== 'rejected') return { index, id, status: 'duplicate' };
  if (sameBody && firstResult?.status === 'rejected') return { ...firstResult, index };
  return {
    index,
    id,
    status: 'rejected',
    error: {
      code: ApiErrorCode.EventIdReused,
      message: `event id ${id} appears earlier in this batch with a different body; give a new event a new id`,
    },
  };
}

/** `work`'s value, or 'timed-out' when it has not settled within `timeoutMs` (it goes on regardless). */
async function settledWithin<T>(work: Promise<T>, timeoutMs: number): Promise<T | 'timed-out'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), timeoutMs);
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
