import { randomBytes } from 'node:crypto';
import { type DataSource } from 'typeorm';
import { type DeliveryRequest, deliveryIdOf } from '@skyhook/contracts';
import { DeliveryHistoryPartitions } from '@skyhook/persistence';
import { type DeliveryStatus } from '../deliveries/delivery-history.schemas';

/** One `deliveries` row as the history service would have projected it. */
export interface SeedDelivery {
  readonly deliveryId: string;
  readonly organisationId: string;
  readonly subscriptionId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly status: DeliveryStatus;
  readonly attemptCount: number;
  /** ISO 8601, up to microseconds (`2026-05-31T18:09:12.123456Z`). */
  readonly publishedAt: string;
  readonly request: DeliveryRequest | null;
}

export interface SeedAttempt {
  readonly attemptNumber: number;
  readonly attemptedAt: string;
  readonly outcome: string;
  readonly responseStatus: number | null;
  readonly responseBody: string | null;
  readonly result: string;
  readonly nextAttemptAt: string | null;
  readonly errorCode?: string | null;
}

/**
 * A delivery of a fresh event, with a real DeliveryRequest (so resend and replay can send it)
 * unless `request: null` says the history has not recorded one yet.
 */
export function seedDelivery(
  organisationId: string,
  subscriptionId: string,
  overrides: Partial<Omit<SeedDelivery, 'request'>> & { request?: null; data?: Record<string, unknown> } = {},
): SeedDelivery {
  const eventId = overrides.eventId ?? `evt_${randomBytes(8).toString('hex')}`;
  const deliveryId = overrides.deliveryId ?? deliveryIdOf(organisationId, eventId, subscriptionId);
  const eventType = overrides.eventType ?? 'booking.created';
  const publishedAt = overrides.publishedAt ?? new Date().toISOString();
  const request: DeliveryRequest = {
    deliveryId,
    subscriptionId,
    organisationId,
    event: {
      id: eventId,
      type: eventType,
      scope: { centerId: 'ctr-1' },
      occurredAt: new Date(Date.parse(publishedAt) - 1_000).toISOString(),
      data: overrides.data ?? { bookingId: `bk_${eventId}` },
    },
    publishedAt: new Date(Date.parse(publishedAt)).toISOString(),
    held: overrides.status === 'held',
    test: false,
  };
  return {
    deliveryId,
    organisationId,
    subscriptionId,
    eventId,
    eventType,
    status: overrides.status ?? 'failed',
    attemptCount: overrides.attemptCount ?? 1,
    publishedAt,
    request: overrides.request === null ? null : request,
  };
}

/** Inserts the rows (creating their days' partitions first) in one statement. */
export async function insertDeliveries(dataSource: DataSource, rows: readonly SeedDelivery[]): Promise<void> {
  if (rows.length === 0) return;
  await new DeliveryHistoryPartitions(dataSource).ensureDays(rows.map((row) => Date.parse(row.publishedAt)));
  await dataSource.query(
    `INSERT INTO deliveries (published_at, delivery_id, organisation_id, subscription_id, event_id, event_type, test,
       status, attempt_count, first_attempt_at, last_attempt_at, last_outcome, last_response_status, request, status_at)
     SELECT r.published_at, r.delivery_id, r.organisation_id, r.subscription_id, r.event_id, r.event_type, false,
       r.status, r.attempt_count, r.published_at, r.published_at + interval '1 second',
       CASE r.status WHEN 'delivered' THEN 'success' WHEN 'dropped' THEN NULL ELSE 'http-error' END,
       CASE r.status WHEN 'delivered' THEN 200 WHEN 'dropped' THEN NULL ELSE 503 END,
       r.request, r.published_at + interval '1 second'
     FROM jsonb_to_recordset($1::jsonb) AS r(published_at timestamptz, delivery_id text, organisation_id text,
       subscription_id text, event_id text, event_type text, status text, attempt_count int, request jsonb)`,
    [
      JSON.stringify(
        rows.map((row) => ({
          published_at: row.publishedAt,
          delivery_id: row.deliveryId,
          organisation_id: row.organisationId,
          subscription_id: row.subscriptionId,
          event_id: row.eventId,
          event_type: row.eventType,
          status: row.status,
          attempt_count: row.attemptCount,
          request: row.request,
        })),
      ),
    ],
  );
}

export async function insertAttempts(
  dataSource: DataSource,
  delivery: SeedDelivery,
  attempts: readonly SeedAttempt[],
): Promise<void> {
  for (const attempt of attempts) {
    await dataSource.query(
      `INSERT INTO delivery_attempts (published_at, delivery_id, attempt_number, organisation_id, subscription_id,
         attempted_at, duration_ms, url, request_headers, request_body_bytes, outcome, response_status, response_body,
         error_code, error_message, result, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, 42.5, 'https://localhost/hooks', $7, 321, $8, $9, $10, $11, NULL, $12, $13)`,
      [
        delivery.publishedAt,
        delivery.deliveryId,
        attempt.attemptNumber,
        delivery.organisationId,
        delivery.subscriptionId,
        attempt.attemptedAt,
        JSON.stringify({ 'webhook-id': delivery.deliveryId, 'webhook-signature': 'v1,c2lnbmF0dXJl' }),
        attempt.outcome,
        attempt.responseStatus,
        attempt.responseBody,
        attempt.errorCode ?? null,
        attempt.result,
        attempt.nextAttemptAt,
      ],
    );
  }
}
