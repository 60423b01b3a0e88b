import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { assertEventDataWithinLimit, ContractViolationError, type InboundEvent } from '@skyhook/contracts';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { type Clock } from '@skyhook/subscriptions';
import { API_CONFIG, type ApiConfig } from '../api.config';
import { CLOCK } from '../clock.provider';
import { EventTypeRepository } from '../event-types/event-type.repository';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { type Organisation } from '../organisations/organisation.repository';
import { InboundEventProducer } from './inbound-event-producer';
import { type PublishEventRequest } from './publish-event.schema';
import { type PublishAnswer, PublishClaimsRepository } from './publish-claims.repository';

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
    if (!(await this.eventTypes.has(organisation.id, request.type))) {
      throw new ApiError(
        ApiErrorCode.UnknownEventType,
        `event type ${request.type} is not in the catalogue; register it with POST /v1/event-types`,
        undefined,
        { eventType: request.type },
      );
    }
    const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const event: InboundEvent = {
      id: request.id ?? this.generatedEventId(organisation.id, idempotencyKey),
      type: request.type,
      organisationId: organisation.id,
      scope: request.scope,
      // Fixed at the first claim: a retry of a pending claim produces the stored event, not this one.
      occurredAt: request.occurredAt ?? this.clock.now().toISOString(),
      data: request.data,
    };

    const claim = await this.claims.claim(organisation.id, event, requestHash, idempotencyKey);
    if (claim.kind === 'answered') return claim.answer;
    await this.produceWithinBound(organisation.id, claim.event);
    return claim.answer;
  }

  /**
   * Produces the claimed event and marks it published. A send still running at the bound goes
   * on, and marks the claim if it succeeds after all. Once the broker acknowledged, the answer
   * is a success whatever the marking does: the event IS published (an error would make the
   * client publish again), and a retry of a claim left pending marks it. The marking is awaited
   * (within the same bound) so that the next request for the event finds it published.
   */
  private async produceWithinBound(organisationId: string, event: InboundEvent): Promise<void> {
    const timeoutMs = this.config.PUBLISH_KAFKA_TIMEOUT_MS;
    const sending = this.producer.send(event);
    const marking = sending.then(() => this.markPublished(organisationId, event.id));
    // A send that fails after the bound has no one left to tell; the claim stays pending.
    marking.catch(() => undefined);

    let outcome: 'sent' | 'timed-out';
    try {
      outcome = await settledWithin(
        sending.then(() => 'sent' as const),
        timeoutMs,
      );
    } catch (error) {
      if (error instanceof ContractViolationError) throw error;
      this.logger.warn({ err: error, eventId: event.id }, 'publish: the event log refused the send');
      throw this.kafkaUnavailable(event.id, 'the event log is unavailable');
    }
    if (outcome === 'timed-out') {
      throw this.kafkaUnavailable(event.id, `the event log did not acknowledge within ${timeoutMs} ms`);
    }
    await settledWithin(marking, timeoutMs);
  }

  private async markPublished(organisationId: string, eventId: string): Promise<void> {
    try {
      await this.claims.markPublished(organisationId, eventId);
    } catch (error) {
      this.logger.warn(
        { err: error, eventId },
        'publish: the event was produced but could not be marked published; a retry marks it',
      );
    }
  }

  private kafkaUnavailable(eventId: string, reason: string): ApiError {
    return new ApiError(
      ApiErrorCode.KafkaUnavailable,
      `${reason}; the event is held as pending: retry with the same Idempotency-Key, or with this event id`,
      undefined,
      { eventId },
    );
  }

  /** With an idempotency key the id is derived from it, so even a lost response cannot mint a second event. */
  private generatedEventId(organisationId: string, idempotencyKey: string | undefined): string {
    return idempotencyKey === undefined
      ? `evt_${randomBytes(16).toString('hex')}`
      : `evt_${createHash('sha256').update(`${organisationId}\u0000${idempotencyKey}`).digest('hex').slice(0, 32)}`;
  }
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
