import { type EntityManager } from 'typeorm';
import { NOTIFIED_FAILURES_MAX, type NotifiedFailure, type SubscriptionEvent } from '@skyhook/contracts';
import {
  notifiedFailureOf,
  partnerNotification,
  type PartnerNotification,
} from '@skyhook/partner-notifications';
import { type SubscriptionState } from '@skyhook/subscriptions';

const DAY_MS = 86_400_000;
/** How far back `subscription.disabled` looks for the failures that led to it. */
const FAILURE_LOOKBACK_MS = 2 * DAY_MS;

/** Whether a change's events call for a notification, and so for the subscription's last failures. */
export function needsChangeNotices(events: readonly SubscriptionEvent[]): boolean {
  return events.some(
    (event) => event.type === 'SubscriptionDisabled' || event.type === 'SubscriptionExpired',
  );
}

/**
 * The notifications a subscription change gives rise to: `subscription.disabled` (why, and the
 * failures that led to it) and `subscription.expired`. Each is named by the subscription and the
 * event's version, so a command retried after its commit cannot notify twice.
 */
export function subscriptionChangeNotices(
  events: readonly SubscriptionEvent[],
  state: SubscriptionState,
  lastFailures: readonly NotifiedFailure[],
): PartnerNotification[] {
  const subject = { subscriptionId: state.id, url: state.url, description: state.description };
  const notices: PartnerNotification[] = [];
  for (const event of events) {
    if (event.type === 'SubscriptionDisabled') {
      notices.push(
        partnerNotification(
          'skyhook.subscription.disabled',
          event.organisationId,
          event.subscriptionId,
          [event.subscriptionId, event.version],
          event.occurredAt,
          {
            ...subject,
            disabledAt: event.occurredAt,
            reason: event.reason,
            detail: event.detail,
            lastFailures: [...lastFailures],
          },
        ),
      );
    } else if (event.type === 'SubscriptionExpired') {
      notices.push(
        partnerNotification(
          'skyhook.subscription.expired',
          event.organisationId,
          event.subscriptionId,
          [event.subscriptionId, event.version],
          event.occurredAt,
          { ...subject, expiredAt: event.occurredAt },
        ),
      );
    }
  }
  return notices;
}

/**
 * The subscription's latest failed attempts in history, newest first: the latest failed attempt
 * of each of its recent deliveries. Only the last two days' partitions are read.
 */
export async function latestFailedAttempts(
  manager: EntityManager,
  organisationId: string,
  subscriptionId: string,
  now: Date,
): Promise<NotifiedFailure[]> {
  const rows = await manager.query<
    {
      delivery_id: string;
      event_type: string;
      attempt_number: number;
      attempted_at: Date;
      outcome: string;
      response_status: number | null;
      error_code: string | null;
      response_body: string | null;
    }[]
  >(
    `SELECT d.delivery_id, d.event_type, a.attempt_number, a.attempted_at, a.outcome,
            a.response_status, a.error_code, left(a.response_body, 256) AS response_body
     FROM (
       SELECT published_at, delivery_id, event_type FROM deliveries
       WHERE organisation_id = $1 AND subscription_id = $2 AND published_at >= $3
         AND last_outcome IS NOT NULL AND last_outcome <> 'success'
       ORDER BY published_at DESC, delivery_id DESC LIMIT 50
     ) d
     JOIN LATERAL (
       SELECT attempt_number, attempted_at, outcome, response_status, error_code, response_body
       FROM delivery_attempts a
       WHERE a.published_at = d.published_at AND a.delivery_id = d.delivery_id AND a.outcome <> 'success'
       ORDER BY a.attempted_at DESC LIMIT 1
     ) a ON true
     ORDER BY a.attempted_at DESC LIMIT $4`,
    [organisationId, subscriptionId, new Date(now.getTime() - FAILURE_LOOKBACK_MS), NOTIFIED_FAILURES_MAX],
  );
  return rows.map((row) =>
    notifiedFailureOf({
      deliveryId: row.delivery_id,
      eventType: row.event_type,
      attemptNumber: row.attempt_number,
      attemptedAt: row.attempted_at.toISOString(),
      outcome: row.outcome,
      responseStatus: row.response_status,
      errorCode: row.error_code,
      responseBody: row.response_body,
    }),
  );
}
