import { type DataSource, type EntityManager } from 'typeorm';
import { type PartnerNotificationType } from '@skyhook/contracts';
import { inboundEventOf, type PartnerNotification } from './partner-notification';

/** The outbox the api's relay drains onto the inbound topic (`PartnerNotificationOutbox`). */
export const PARTNER_NOTIFICATION_OUTBOX_TABLE = 'partner_notification_outbox';

/** A notification as the log lists it. */
export interface LoggedPartnerNotification {
  readonly id: string;
  readonly type: PartnerNotificationType;
  readonly subscriptionId: string;
  readonly occurredAt: string;
  readonly data: Record<string, unknown>;
}

/**
 * Records notifications in the caller's transaction: each in the log (`partner_notifications`,
 * what the portal's banner and `GET /v1/partner-notifications` read) and, the first time its id
 * is seen, in the outbox that takes it to Kafka. A notification already logged (the same
 * occurrence noticed again) is neither logged nor sent twice. Returns the ids that were new.
 */
export async function recordPartnerNotifications(
  manager: EntityManager,
  notifications: readonly PartnerNotification[],
): Promise<string[]> {
  if (notifications.length === 0) return [];
  // The same occurrence twice in one call (two failures in one rate-limit window) is one notification.
  const unique = [...new Map(notifications.map((notification) => [notification.id, notification])).values()];
  const fresh = await manager.query<{ id: string }[]>(
    `INSERT INTO partner_notifications (id, organisation_id, type, subscription_id, occurred_at, data)
     SELECT n.id, n.organisation_id, n.type, n.subscription_id, n.occurred_at, n.data
     FROM jsonb_to_recordset($1::jsonb)
       AS n(id text, organisation_id text, type text, subscription_id text, occurred_at timestamptz, data jsonb)
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [
      JSON.stringify(
        unique.map((notification) => ({
          id: notification.id,
          organisation_id: notification.organisationId,
          type: notification.type,
          subscription_id: notification.subscriptionId,
          occurred_at: notification.occurredAt,
          data: notification.data,
        })),
      ),
    ],
  );
  const freshIds = new Set(fresh.map((row) => row.id));
  const toSend = unique.filter((notification) => freshIds.has(notification.id));
  if (toSend.length > 0) {
    await manager.query(
      `INSERT INTO ${PARTNER_NOTIFICATION_OUTBOX_TABLE} (payload)
       SELECT value FROM jsonb_array_elements($1::jsonb)`,
      [JSON.stringify(toSend.map(inboundEventOf))],
    );
  }
  return [...freshIds];
}

/** An organisation's notifications since `since`, newest first (at most `limit`). */
export async function recentPartnerNotifications(
  dataSource: DataSource,
  organisationId: string,
  options: {
    readonly since: Date;
    readonly limit: number;
    readonly types?: readonly string[] | undefined;
    readonly subscriptionId?: string | undefined;
  },
): Promise<LoggedPartnerNotification[]> {
  const rows = await dataSource.query<
    {
      id: string;
      type: PartnerNotificationType;
      subscription_id: string;
      occurred_at: Date;
      data: Record<string, unknown>;
    }[]
  >(
    `SELECT id, type, subscription_id, occurred_at, data FROM partner_notifications
     WHERE organisation_id = $1 AND occurred_at >= $2
       AND ($4::text[] IS NULL OR type = ANY($4::text[]))
       AND ($5::text IS NULL OR subscription_id = $5)
     ORDER BY occurred_at DESC, id DESC LIMIT $3`,
    [organisationId, options.since, options.limit, options.types ?? null, options.subscriptionId ?? null],
  );
  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    subscriptionId: row.subscription_id,
    occurredAt: row.occurred_at.toISOString(),
    data: row.data,
  }));
}

/** Forgets logged notifications older than `before` (their deliveries stay in history). */
export async function forgetPartnerNotificationsBefore(
  dataSource: DataSource,
  before: Date,
): Promise<number> {
  const result = await dataSource.query<unknown[]>(
    `WITH gone AS (DELETE FROM partner_notifications WHERE occurred_at < $1 RETURNING 1) SELECT count(*) FROM gone`,
    [before],
  );
  const [row] = result as { count: string }[];
  return Number(row?.count ?? 0);
}
