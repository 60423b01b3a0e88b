/**
 * Synthetic delivery history for the history benchmark: deliveries spread evenly over the last
 * 29.5 days (newest first by number), 100 organisations × 10 subscriptions, five event types,
 * 90 % delivered / 5 % failed / 3 % retrying / 2 % dropped, 1–4 attempts per attempted delivery
 * (2.5 on average). Delivery i belongs to organisation i % 100 and subscription i % 1,000; its
 * status, event type and attempt count follow i / 100, so that every organisation has them all. Generated inside PostgreSQL (generate_series), one day at a time.
 */
import { type DataSource } from 'typeorm';
import { DeliveryHistoryPartitions, historyDayOf } from '@skyhook/persistence';

const DAY_MS = 86_400_000;
export const HISTORY_SPAN_MS = 29.5 * DAY_MS;
export const ORGANISATIONS = 100;
export const SUBSCRIPTIONS = 1_000;

/** Delivery number `i` (1 = newest) was published this long before the reference instant. */
function ageMsOf(i: number, deliveries: number): number {
  return (i * HISTORY_SPAN_MS) / deliveries;
}

export async function generateHistory(
  dataSource: DataSource,
  deliveries: number,
  reference: Date,
  log: (message: string) => void,
): Promise<void> {
  const partitions = new DeliveryHistoryPartitions(dataSource);
  const days = new Set<number>();
  for (let age = 0; age <= HISTORY_SPAN_MS + DAY_MS; age += DAY_MS / 2)
    days.add(historyDayOf(reference.getTime() - age).getTime());
  await partitions.ensureDays(days);
  const perChunk = Math.ceil(deliveries / 30);
  for (let first = 1; first <= deliveries; first += perChunk) {
    const last = Math.min(deliveries, first + perChunk - 1);
    await dataSource.query(
      `INSERT INTO deliveries (published_at, delivery_id, organisation_id, subscription_id, event_id, event_type,
         test, status, attempt_count, first_attempt_at, last_attempt_at, next_attempt_at, last_outcome,
         last_response_status, skip_reason, request, status_at)
       SELECT p, 'del_' || lpad(i::text, 9, '0'), 'org_' || (i % ${ORGANISATIONS}), 'sub_' || (i % ${SUBSCRIPTIONS}),
         'evt_' || i,
         (ARRAY['flight.departed','flight.arrived','booking.created','booking.cancelled','training.completed'])[1 + (i / 100) % 5],
         false, s, CASE WHEN s = 'dropped' THEN 1 ELSE 1 + (i / 100) % 4 END,
         CASE WHEN s <> 'dropped' THEN p + interval '50 ms' END, CASE WHEN s <> 'dropped' THEN p + interval '1 s' END,
         CASE WHEN s = 'retrying' THEN p + interval '1 hour' END,
         CASE WHEN s = 'delivered' THEN 'success' WHEN s = 'dropped' THEN NULL ELSE 'http-error' END,
         CASE WHEN s = 'delivered' THEN 200 WHEN s = 'dropped' THEN NULL ELSE 503 END,
         CASE WHEN s = 'dropped' THEN 'subscription-disabled' END,
         jsonb_build_object('deliveryId', 'del_' || i, 'subscriptionId', 'sub_' || (i % ${SUBSCRIPTIONS}),
           'event', jsonb_build_object('id', 'evt_' || i, 'type', 'flight.departed',
             'data', jsonb_build_object('flight', 'BA' || (i % 1000), 'gate', 'A' || (i % 50)))),
         p + interval '1 s'
       FROM (SELECT i, $1::timestamptz - (i * $2::double precision) * interval '1 ms' AS p,
               CASE WHEN (i / 100) % 100 < 90 THEN 'delivered' WHEN (i / 100) % 100 < 95 THEN 'failed'
                    WHEN (i / 100) % 100 < 98 THEN 'retrying' ELSE 'dropped' END AS s
             FROM generate_series($3::int, $4::int) AS i) g`,
      [reference.toISOString(), ageMsOf(1, deliveries), first, last],
    );
    await dataSource.query(
      `INSERT INTO delivery_attempts (published_at, delivery_id, attempt_number, organisation_id, subscription_id,
         attempted_at, duration_ms, url, request_headers, request_body_bytes, outcome, response_status,
         response_body, error_code, error_message, result, next_attempt_at)
       SELECT d.published_at, d.delivery_id, a, d.organisation_id, d.subscription_id,
         d.published_at + a * interval '1 s', 42.5, 'https://hooks.example.com/skyhook',
         '{"content-type":"application/json","webhook-id":"del","webhook-timestamp":"1700000000","webhook-signature":"v1,c2lnbmF0dXJl"}'::jsonb,
         512, CASE WHEN a = d.attempt_count AND d.status = 'delivered' THEN 'success' ELSE 'http-error' END,
         CASE WHEN a = d.attempt_count AND d.status = 'delivered' THEN 200 ELSE 503 END,
         CASE WHEN a = d.attempt_count AND d.status = 'delivered' THEN 'ok' ELSE 'service unavailable' END,
         NULL, NULL,
         CASE WHEN a < d.attempt_count OR d.status = 'retrying' THEN 'retry-scheduled'
              WHEN d.status = 'delivered' THEN 'delivered' ELSE 'failed' END, NULL
       FROM deliveries d CROSS JOIN LATERAL generate_series(1, d.attempt_count) a
       WHERE d.status <> 'dropped'
         AND d.delivery_id BETWEEN 'del_' || lpad($1::text, 9, '0') AND 'del_' || lpad($2::text, 9, '0')`,
      [first, last],
    );
    log(`history data: ${last.toLocaleString('en-GB')} of ${deliveries.toLocaleString('en-GB')} deliveries`);
  }
  await dataSource.query('ANALYZE deliveries');
  await dataSource.query('ANALYZE delivery_attempts');
}

/** The delivery id and publish time of delivery number `i` (1 = newest), for deep-page cursors. */
export async function deliveryNumbered(
  dataSource: DataSource,
  i: number,
): Promise<{ deliveryId: string; publishedAt: Date; organisationId: string }> {
  const deliveryId = `del_${String(i).padStart(9, '0')}`;
  const rows = await dataSource.query<{ published_at: Date; organisation_id: string }[]>(
    'SELECT published_at, organisation_id FROM deliveries WHERE delivery_id = $1',
    [deliveryId],
  );
  const row = rows[0];
  if (row === undefined) throw new Error(`${deliveryId} missing`);
  return { deliveryId, publishedAt: row.published_at, organisationId: row.organisation_id };
}
