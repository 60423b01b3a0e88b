import { type StoredSecret, type SubscriptionEvent, type SubscriptionFields } from '@skyhook/contracts';
import { SubscriptionError, SubscriptionErrorCode } from './subscription.error';
import { activatedSecrets, rotatedSecrets, type SecretActivation } from './signing-secrets';
import { type SubscriptionState } from './subscription-state';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Per organisation: how long a subscription lives, and how early it may be renewed. */
export interface SubscriptionLifetime {
  /** Days or calendar months (one month in the FL3XX contract); null: never expires. */
  readonly lifetime: { readonly days: number } | { readonly months: number } | null;
  /** Renewal opens this long before expiry (5 days in the FL3XX contract). */
  readonly renewalWindowDays: number;
  /**
   * Divides the lifetime and the renewal window (SKYHOOK_TIME_SCALE, tests and demos only), so
   * a month passes in seconds; 1 in production.
   */
  readonly timeScale?: number;
}

/**
 * The instant one lifetime after `fromMs`. A calendar month keeps the day of the month and
 * clamps to the month's last day (Jan 31 → Feb 28/29), as people read "1 month".
 */
export function oneLifetimeAfter(
  fromMs: number,
  lifetime: NonNullable<SubscriptionLifetime['lifetime']>,
  timeScale = 1,
): number {
  let lengthMs: number;
  if ('days' in lifetime) {
    lengthMs = lifetime.days * DAY_MS;
  } else {
    const from = new Date(fromMs);
    const targetMonth = from.getUTCMonth() + lifetime.months;
    const lastDayOfTarget = new Date(Date.UTC(from.getUTCFullYear(), targetMonth + 1, 0)).getUTCDate();
    const target = Date.UTC(
      from.getUTCFullYear(),
      targetMonth,
      Math.min(from.getUTCDate(), lastDayOfTarget),
      from.getUTCHours(),
      from.getUTCMinutes(),
      from.getUTCSeconds(),
      from.getUTCMilliseconds(),
    );
    lengthMs = target - fromMs;
  }
  return fromMs + Math.round(lengthMs / timeScale);
}

type Decision = SubscriptionEvent | null;

function nextEventBase(state: SubscriptionState, now: Date) {
  return {
    subscriptionId: state.id,
    organisationId: state.organisationId,
    version: state.version + 1,
    occurredAt: now.toISOString(),
  };
}

function refuseUnlessLive(state: SubscriptionState, action: string): void {
  if (state.deleted) {
    throw new SubscriptionError(SubscriptionErrorCode.NotFound, `subscription ${state.id} not found`);
  }
  if (state.status === 'revoked') {
    throw new SubscriptionError(
      SubscriptionErrorCode.InvalidTransition,
      `subscription ${state.id} is revoked (permanent); it cannot be ${action}`,
      { status: state.status },
    );
  }
}

export function decideCreate(input: {
  subscriptionId: string;
  organisationId: string;
  fields: SubscriptionFields;
  secret: StoredSecret;
  lifetime: SubscriptionLifetime;
  now: Date;
}): SubscriptionEvent {
  const { lifetime, timeScale } = input.lifetime;
  return {
    type: 'SubscriptionCreated',
    subscriptionId: input.subscriptionId,
    organisationId: input.organisationId,
    version: 1,
    occurredAt: input.now.toISOString(),
    fields: input.fields,
    secrets: [input.secret],
    expiresAt:
      lifetime === null
        ? null
        : new Date(oneLifetimeAfter(input.now.getTime(), lifetime, timeScale)).toISOString(),
  };
}

export function decideUpdate(
  state: SubscriptionState,
  changes: Partial<SubscriptionFields>,
  now: Date,
): Decision {
  refuseUnlessLive(state, 'updated');
  const effective = Object.fromEntries(
    Object.entries(changes).filter(
      ([key, value]) =>
        value !== undefined &&
        // An optional field never set reads as null: setting it to null changes nothing.
        JSON.stringify(value) !== JSON.stringify(state[key as keyof SubscriptionFields] ?? null),
    ),
  ) as Partial<SubscriptionFields>;
  if (Object.keys(effective).length === 0) return null;
  return { ...nextEventBase(state, now), type: 'SubscriptionUpdated', changes: effective };
}

/** Disabling twice is a no-op, not an error: partners and the breaker both retry. */
export function decideDisable(
  state: SubscriptionState,
  reason: 'partner' | 'circuit-breaker',
  detail: string | null,
  now: Date,
): Decision {
  refuseUnlessLive(state, 'disabled');
  if (state.status === 'disabled') return null;
  if (state.status === 'expired') {
    throw new SubscriptionError(
      SubscriptionErrorCode.InvalidTransition,
      `subscription ${state.id} has expired; renew it instead`,
      { status: state.status },
    );
  }
  return { ...nextEventBase(state, now), type: 'SubscriptionDisabled', reason, detail };
}

/**
 * The dispatcher's circuit breaker asks for a disable at `issuedAt`. A command that reaches an
 * active subscription which has changed since then (typically: its partner re-enabled it after
 * an earlier trip, and this is that trip's command re-delivered or late) is stale and does
 * nothing; if the endpoint still fails, the breaker trips again and issues a fresh command.
 */
export function decideBreakerDisable(
  state: SubscriptionState,
  detail: string,
  issuedAt: string,
  now: Date,
): Decision {
  if (state.status === 'active' && Date.parse(state.updatedAt) > Date.parse(issuedAt)) return null;
  return decideDisable(state, 'circuit-breaker', detail, now);
}

export function decideEnable(state: SubscriptionState, now: Date): Decision {
  refuseUnlessLive(state, 'enabled');
  if (state.status === 'active') return null;
  if (state.status === 'expired') {
    throw new SubscriptionError(
      SubscriptionErrorCode.InvalidTransition,
      `subscription ${state.id} has expired; expired subscriptions cannot be re-enabled`,
      { status: state.status },
    );
  }
  return { ...nextEventBase(state, now), type: 'SubscriptionEnabled' };
}

export function decideRevoke(state: SubscriptionState, now: Date): Decision {
  if (state.deleted) {
    throw new SubscriptionError(SubscriptionErrorCode.NotFound, `subscription ${state.id} not found`);
  }
  if (state.status === 'revoked') return null;
  return { ...nextEventBase(state, now), type: 'SubscriptionRevoked' };
}

export function decideDelete(state: SubscriptionState, now: Date): SubscriptionEvent {
  if (state.deleted) {
    throw new SubscriptionError(SubscriptionErrorCode.NotFound, `subscription ${state.id} not found`);
  }
  return { ...nextEventBase(state, now), type: 'SubscriptionDeleted' };
}

/**
 * A new secret, activated as the partner chose (at once, at a time, or by a later call); see
 * `rotatedSecrets` for what happens to the secrets already there.
 */
export function decideRotateSecret(
  state: SubscriptionState,
  newSecret: StoredSecret,
  options: { readonly graceMs: number; readonly activation: SecretActivation },
  now: Date,
): SubscriptionEvent {
  refuseUnlessLive(state, 'rotated');
  const secrets = rotatedSecrets(state.secrets, newSecret, options.activation, options.graceMs, now);
  return { ...nextEventBase(state, now), type: 'SubscriptionSecretRotated', secrets };
}

/** The pending secret signs from now on; the current one retires after the grace period. */
export function decideActivateSecret(
  state: SubscriptionState,
  secretId: string,
  grace: { readonly graceMs: number | undefined; readonly defaultGraceMs: number },
  now: Date,
): Decision {
  refuseUnlessLive(state, 'changed');
  const secrets = activatedSecrets(state.secrets, secretId, grace, now);
  if (secrets === undefined) return null;
  return { ...nextEventBase(state, now), type: 'SubscriptionSecretRotated', secrets };
}

/** When renewal of a subscription expiring at `expiresAt` opens: the window before the expiry. */
export function renewalOpensAt(expiresAt: string, renewalWindowDays: number, timeScale = 1): Date {
  return new Date(Date.parse(expiresAt) - Math.round((renewalWindowDays * DAY_MS) / timeScale));
}

/**
 * Renewal extends by one lifetime from the current expiry, and only inside the window before
 * it: a 409 otherwise, saying when the window opens.
 */
export function decideRenew(
  state: SubscriptionState,
  lifetime: SubscriptionLifetime,
  now: Date,
): SubscriptionEvent {
  refuseUnlessLive(state, 'renewed');
  if (state.expiresAt === null || lifetime.lifetime === null) {
    throw new SubscriptionError(
      SubscriptionErrorCode.RenewalNotApplicable,
      `subscription ${state.id} does not expire, so it cannot be renewed`,
    );
  }
  if (state.status === 'expired') {
    throw new SubscriptionError(
      SubscriptionErrorCode.InvalidTransition,
      `subscription ${state.id} expired at ${state.expiresAt}; create a new subscription`,
      { status: state.status, expiresAt: state.expiresAt },
    );
  }
  const expiresAt = Date.parse(state.expiresAt);
  const opensAt = renewalOpensAt(state.expiresAt, lifetime.renewalWindowDays, lifetime.timeScale);
  if (now.getTime() < opensAt.getTime()) {
    throw new SubscriptionError(
      SubscriptionErrorCode.RenewalNotOpen,
      `renewal opens at ${opensAt.toISOString()}, ${lifetime.renewalWindowDays} days before the expiry at ${state.expiresAt}`,
      { opensAt: opensAt.toISOString(), expiresAt: state.expiresAt },
    );
  }
  return {
    ...nextEventBase(state, now),
    type: 'SubscriptionRenewed',
    expiresAt: new Date(oneLifetimeAfter(expiresAt, lifetime.lifetime, lifetime.timeScale)).toISOString(),
  };
}

/** Emitted by the expiry scheduler once `expiresAt` has passed; a no-op for anything already over. */
export function decideExpire(state: SubscriptionState, now: Date): Decision {
  if (state.deleted || state.status === 'revoked' || state.status === 'expired') return null;
  if (state.expiresAt === null || Date.parse(state.expiresAt) > now.getTime()) return null;
  return { ...nextEventBase(state, now), type: 'SubscriptionExpired' };
}
