import {
  type InboundEvent,
  type NotifiedFailure,
  NOTIFIED_BODY_EXCERPT_MAX,
  type PartnerNotificationData,
  partnerNotificationDataSchemas,
  partnerNotificationId,
  type PartnerNotificationType,
} from '@skyhook/contracts';

/** One notification Skyhook sends an organisation about its own subscriptions (ADR 0030). */
export interface PartnerNotification<T extends PartnerNotificationType = PartnerNotificationType> {
  /** Derived from what it is about (`partnerNotificationId`): noticing it twice stores it once. */
  readonly id: string;
  readonly organisationId: string;
  readonly type: T;
  /** The subscription it is about; the portal's banner shows it beside that subscription. */
  readonly subscriptionId: string;
  readonly occurredAt: string;
  readonly data: PartnerNotificationData<T>;
}

/**
 * A notification of `type`, its data checked against the type's schema (a notification that
 * breaks its own published schema is a bug here, not something to send a partner).
 * `occurrence` identifies what happened, for the id: two calls with the same occurrence are the
 * same notification.
 */
export function partnerNotification<T extends PartnerNotificationType>(
  type: T,
  organisationId: string,
  subscriptionId: string,
  occurrence: readonly (string | number)[],
  occurredAt: string,
  data: PartnerNotificationData<T>,
): PartnerNotification<T> {
  const schema = partnerNotificationDataSchemas[type];
  return {
    id: partnerNotificationId(organisationId, type, occurrence),
    organisationId,
    type,
    subscriptionId,
    occurredAt,
    data: schema.parse(data) as PartnerNotificationData<T>,
  };
}

/** The inbound event that carries a notification through fan-out to the endpoints that name its type. */
export function inboundEventOf(notification: PartnerNotification): InboundEvent {
  return {
    id: notification.id,
    type: notification.type,
    organisationId: notification.organisationId,
    scope: {},
    occurredAt: notification.occurredAt,
    data: notification.data,
  };
}

/** A recorded attempt as history holds it, for `notifiedFailureOf`. */
export interface RecordedFailedAttempt {
  readonly deliveryId: string;
  readonly eventType: string;
  readonly attemptNumber: number;
  readonly attemptedAt: string;
  readonly outcome: string;
  readonly responseStatus: number | null;
  readonly errorCode: string | null;
  readonly responseBody: string | null;
}

export function notifiedFailureOf(attempt: RecordedFailedAttempt): NotifiedFailure {
  return {
    deliveryId: attempt.deliveryId,
    eventType: attempt.eventType,
    attemptNumber: attempt.attemptNumber,
    attemptedAt: attempt.attemptedAt,
    outcome: attempt.outcome,
    responseStatus: attempt.responseStatus,
    errorCode: attempt.errorCode === null ? null : attempt.errorCode.slice(0, 100),
    responseBodyExcerpt:
      attempt.responseBody === null ? null : attempt.responseBody.slice(0, NOTIFIED_BODY_EXCERPT_MAX),
  };
}
