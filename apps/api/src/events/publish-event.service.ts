import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type InboundEvent, inboundEventContract } from '@skyhook/contracts';
import { ContractProducer } from '@skyhook/messaging';
import { type Clock } from '@skyhook/subscriptions';
import { API_CONFIG, type ApiConfig } from '../api.config';
import { CLOCK } from '../clock.provider';
import { EventTypeRepository } from '../event-types/event-type.repository';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { type Organisation } from '../organisations/organisation.repository';
import { type PublishEventRequest } from './publish-event.schema';

export interface PublishEventResult {
  readonly status: 200 | 202;
  readonly body: { readonly id: string; readonly status: 'accepted' | 'duplicate' };
}

/**
 * Accepts a domain event over HTTP: validated against the catalogue, produced to the inbound
 * topic (acks=all) inside the transaction that records its id and idempotency key, so a
 * failed produce records nothing and a retried request finds the first answer.
 */
@Injectable()
export class PublishEventService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly eventTypes: EventTypeRepository,
    private readonly producer: ContractProducer,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async publish(
    organisation: Organisation,
    request: PublishEventRequest,
    idempotencyKey?: string,
  ): Promise<PublishEventResult> {
    const size = Buffer.byteLength(JSON.stringify(request.data));
    if (size > this.config.EVENT_MAX_DATA_BYTES) {
      throw new ApiError(
        ApiErrorCode.PayloadTooLarge,
        `event data is ${size} bytes; the limit is ${this.config.EVENT_MAX_DATA_BYTES}`,
      );
    }
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
      occurredAt: request.occurredAt ?? this.clock.now().toISOString(),
      data: request.data,
    };

    return this.dataSource.transaction(async (manager) => {
      if (idempotencyKey !== undefined) {
        const earlier = await this.claimIdempotencyKey(manager, organisation.id, idempotencyKey, requestHash);
        if (earlier !== undefined) return earlier;
      }
      const inserted = await manager.query<unknown[]>(
        `INSERT INTO published_events (organisation_id, event_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING RETURNING event_id`,
        [organisation.id, event.id],
      );
      const result: PublishEventResult =
        inserted.length === 0
          ? { status: 200, body: { id: event.id, status: 'duplicate' } }
          : { status: 202, body: { id: event.id, status: 'accepted' } };
      if (inserted.length > 0) {
        await this.producer.send(inboundEventContract, 'inboundEvents', [event]);
      }
      if (idempotencyKey !== undefined) {
        await manager.query(
          `UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE organisation_id = $1 AND key = $2`,
          [organisation.id, idempotencyKey, result.status, JSON.stringify(result.body)],
        );
      }
      return result;
    });
  }

  /**
   * Claims the key for this request, or returns the answer given to the first request with it.
   * A concurrent request with the same key waits on the row until the first one commits.
   */
  private async claimIdempotencyKey(
    manager: EntityManager,
    organisationId: string,
    key: string,
    requestHash: string,
  ): Promise<PublishEventResult | undefined> {
    const claimed = await manager.query<unknown[]>(
      `INSERT INTO idempotency_keys (organisation_id, key, request_hash, response_status, response_body)
       VALUES ($1, $2, $3, 0, '{}'::jsonb) ON CONFLICT DO NOTHING RETURNING key`,
      [organisationId, key, requestHash],
    );
    if (claimed.length > 0) return undefined;
    const [earlier] = await manager.query<
      { request_hash: string; response_status: number; response_body: PublishEventResult['body'] }[]
    >(
      'SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE organisation_id = $1 AND key = $2',
      [organisationId, key],
    );
    if (earlier === undefined || earlier.request_hash !== requestHash) {
      throw new ApiError(
        ApiErrorCode.IdempotencyKeyReused,
        'this Idempotency-Key was used with a different request body; use a new key for a new event',
      );
    }
    return { status: earlier.response_status as 200 | 202, body: earlier.response_body };
  }

  /** With an idempotency key the id is derived from it, so even a lost response cannot mint a second event. */
  private generatedEventId(organisationId: string, idempotencyKey: string | undefined): string {
    return idempotencyKey === undefined
      ? `evt_${randomBytes(16).toString('hex')}`
      : `evt_${createHash('sha256').update(`${organisationId}\u0000${idempotencyKey}`).digest('hex').slice(0, 32)}`;
  }
}
