import {
  type StoredSecret,
  type SubscriptionEvent,
  type SubscriptionFields,
  type SubscriptionStatus,
} from '@skyhook/contracts';

/** A subscription as its events made it. The same fold serves the API, the projector and a rebuild. */
export interface SubscriptionState extends SubscriptionFields {
  readonly id: string;
  readonly organisationId: string;
  readonly version: number;
  readonly status: SubscriptionStatus;
  readonly deleted: boolean;
  readonly secrets: readonly StoredSecret[];
  readonly expiresAt: string | null;
  readonly disabledReason: 'partner' | 'circuit-breaker' | null;
  readonly disabledDetail: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export class SubscriptionFoldError extends Error {}

export function evolveSubscription(
  state: SubscriptionState | undefined,
  event: SubscriptionEvent,
): SubscriptionState {
  if (event.type === 'SubscriptionCreated') {
    return {
      id: event.subscriptionId,
      organisationId: event.organisationId,
      version: event.version,
      status: 'active',
      deleted: false,
      ...event.fields,
      secrets: event.secrets,
      expiresAt: event.expiresAt,
      disabledReason: null,
      disabledDetail: null,
      createdAt: event.occurredAt,
      updatedAt: event.occurredAt,
    };
  }
  if (state === undefined) {
    throw new SubscriptionFoldError(
      `${event.type} v${event.version} of ${event.subscriptionId} has no creation before it`,
    );
  }
  const next = { ...state, version: event.version, updatedAt: event.occurredAt };
  switch (event.type) {
    case 'SubscriptionUpdated':
      return { ...next, ...withoutUndefined(event.changes) };
    case 'SubscriptionSecretRotated':
      return { ...next, secrets: event.secrets };
    case 'SubscriptionRenewed':
      return { ...next, expiresAt: event.expiresAt };
    case 'SubscriptionExpired':
      return { ...next, status: 'expired' };
    case 'SubscriptionDisabled':
      return { ...next, status: 'disabled', disabledReason: event.reason, disabledDetail: event.detail };
    case 'SubscriptionEnabled':
      return { ...next, status: 'active', disabledReason: null, disabledDetail: null };
    case 'SubscriptionRevoked':
      return { ...next, status: 'revoked' };
    case 'SubscriptionDeleted':
      return { ...next, deleted: true };
  }
}

function withoutUndefined<T extends object>(changes: T): Partial<T> {
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<T>;
}
