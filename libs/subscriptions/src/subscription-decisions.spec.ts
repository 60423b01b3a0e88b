import { type StoredSecret, type SubscriptionEvent } from '@skyhook/contracts';
import {
  decideActivateSecret,
  decideCreate,
  decideDelete,
  decideBreakerDisable,
  decideDisable,
  decideEnable,
  decideExpire,
  decideRenew,
  decideRevoke,
  decideRotateSecret,
  decideUpdate,
  oneLifetimeAfter,
  type SubscriptionLifetime,
} from './subscription-decisions';
import { secretPhasesAt, signingSecretsAt } from './signing-secrets';
import { SubscriptionError, SubscriptionErrorCode } from './subscription.error';
import { evolveSubscription, type SubscriptionState } from './subscription-state';

const DAY = 24 * 60 * 60 * 1000;
const created = new Date('2026-01-01T00:00:00.000Z');
const monthly: SubscriptionLifetime = { lifetime: { days: 30 }, renewalWindowDays: 5 };

function secret(id: string, retiresAt: string | null = null): StoredSecret {
  return { id, encrypted: `enc-${id}`, hint: `whsec_…${id}`, createdAt: created.toISOString(), retiresAt };
}

function subscription(lifetime: SubscriptionLifetime = monthly): SubscriptionState {
  return evolveSubscription(
    undefined,
    decideCreate({
      subscriptionId: 'sub_1',
      organisationId: 'org_1',
      fields: {
        url: 'https://example.com/hook',
        description: '',
        eventTypes: ['*'],
        scopeFilter: {},
        policy: {},
      },
      secret: secret('s1'),
      lifetime,
      now: created,
    }),
  );
}

function apply(state: SubscriptionState, event: SubscriptionEvent | null): SubscriptionState {
  if (event === null) throw new Error('expected an event');
  return evolveSubscription(state, event);
}

function errorOf(work: () => unknown): SubscriptionError {
  try {
    work();
  } catch (error) {
    if (error instanceof SubscriptionError) return error;
    throw error;
  }
  throw new Error('expected a SubscriptionError');
}

describe('subscription lifetime', () => {
  it('expires one lifetime after creation, or never without a lifetime', () => {
    expect(subscription().expiresAt).toBe('2026-01-31T00:00:00.000Z');
    expect(subscription({ lifetime: null, renewalWindowDays: 5 }).expiresAt).toBeNull();
  });

  it('refuses renewal one millisecond before the window opens, naming the opening time', () => {
    const error = errorOf(() =>
      decideRenew(subscription(), monthly, new Date(Date.parse('2026-01-26T00:00:00.000Z') - 1)),
    );
    expect(error.code).toBe(SubscriptionErrorCode.RenewalNotOpen);
    expect(error.details['opensAt']).toBe('2026-01-26T00:00:00.000Z');
    expect(error.message).toContain('2026-01-26T00:00:00.000Z');
  });

  it('renews at the exact opening of the window by one lifetime from the current expiry', () => {
    const renewed = apply(
      subscription(),
      decideRenew(subscription(), monthly, new Date('2026-01-26T00:00:00.000Z')),
    );
    expect(renewed.expiresAt).toBe('2026-03-02T00:00:00.000Z');
    expect(renewed.version).toBe(2);
  });

  it('renews one millisecond before expiry', () => {
    const event = decideRenew(subscription(), monthly, new Date(Date.parse('2026-01-31T00:00:00.000Z') - 1));
    expect(event.type).toBe('SubscriptionRenewed');
  });

  it('does not expire before expiresAt and expires at it', () => {
    const state = subscription();
    expect(decideExpire(state, new Date(Date.parse(state.expiresAt ?? '') - 1))).toBeNull();
    const expired = apply(state, decideExpire(state, new Date(state.expiresAt ?? '')));
    expect(expired.status).toBe('expired');
  });

  it('refuses to renew an expired subscription', () => {
    const state = subscription();
    const expired = apply(state, decideExpire(state, new Date(state.expiresAt ?? '')));
    expect(errorOf(() => decideRenew(expired, monthly, new Date(state.expiresAt ?? ''))).code).toBe(
      SubscriptionErrorCode.InvalidTransition,
    );
  });

  it('refuses to renew a subscription that never expires', () => {
    const forever = subscription({ lifetime: null, renewalWindowDays: 5 });
    expect(errorOf(() => decideRenew(forever, monthly, created)).code).toBe(
      SubscriptionErrorCode.RenewalNotApplicable,
    );
  });
});

describe('calendar-month lifetimes (FL3XX: "1 month", renewable "5 days before expiration")', () => {
  const fl3xx: SubscriptionLifetime = { lifetime: { months: 1 }, renewalWindowDays: 5 };

  it('keeps the day and time of the month, clamping to the last day of a shorter month', () => {
    const at = (iso: string) => new Date(oneLifetimeAfter(Date.parse(iso), { months: 1 })).toISOString();
    expect(at('2026-01-15T10:30:00.000Z')).toBe('2026-02-15T10:30:00.000Z');
    expect(at('2026-01-31T23:00:00.000Z')).toBe('2026-02-28T23:00:00.000Z');
    expect(at('2028-01-31T00:00:00.000Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(at('2026-12-31T00:00:00.000Z')).toBe('2027-01-31T00:00:00.000Z');
  });

  it('renews by one month from the current expiry, only inside the 5-day window', () => {
    const state = subscription(fl3xx);
    expect(state.expiresAt).toBe('2026-02-01T00:00:00.000Z');
    expect(errorOf(() => decideRenew(state, fl3xx, new Date('2026-01-26T23:59:59.999Z'))).code).toBe(
      SubscriptionErrorCode.RenewalNotOpen,
    );
    const renewed = decideRenew(state, fl3xx, new Date('2026-01-27T00:00:00.000Z'));
    expect(renewed).toMatchObject({ type: 'SubscriptionRenewed', expiresAt: '2026-03-01T00:00:00.000Z' });
  });

  it('divides the lifetime and the renewal window by the time scale', () => {
    const scaled: SubscriptionLifetime = { ...fl3xx, timeScale: 86_400 };
    const state = subscription(scaled);
    // January has 31 days: 31 scaled days are 31 seconds.
    expect(state.expiresAt).toBe('2026-01-01T00:00:31.000Z');
    expect(errorOf(() => decideRenew(state, scaled, new Date('2026-01-01T00:00:25.999Z'))).code).toBe(
      SubscriptionErrorCode.RenewalNotOpen,
    );
    // One month from 2026-01-01T00:00:31 is again 31 days of January: 31 more seconds.
    expect(decideRenew(state, scaled, new Date('2026-01-01T00:00:26.000Z'))).toMatchObject({
      expiresAt: '2026-01-01T00:01:02.000Z',
    });
  });
});

describe('subscription status transitions', () => {
  it('disables, re-enables, and treats repeats as no-ops', () => {
    const disabled = apply(
      subscription(),
      decideDisable(subscription(), 'circuit-breaker', '5 consecutive failures', created),
    );
    expect(disabled).toMatchObject({ status: 'disabled', disabledReason: 'circuit-breaker' });
    expect(decideDisable(disabled, 'partner', null, created)).toBeNull();
    const enabled = apply(disabled, decideEnable(disabled, created));
    expect(enabled).toMatchObject({ status: 'active', disabledReason: null, version: 3 });
    expect(decideEnable(enabled, created)).toBeNull();
  });

  it('ignores a circuit-breaker disable issued before the subscription last changed (re-enabled since)', () => {
    const tripAt = new Date(created.getTime() + 60_000);
    const disabled = apply(
      subscription(),
      decideBreakerDisable(subscription(), '5 consecutive failures', tripAt.toISOString(), tripAt),
    );
    expect(disabled).toMatchObject({ status: 'disabled', disabledReason: 'circuit-breaker' });
    const enabledAt = new Date(tripAt.getTime() + 60_000);
    const enabled = apply(disabled, decideEnable(disabled, enabledAt));
    const later = new Date(enabledAt.getTime() + 1_000);
    // The first trip's command, re-delivered after the re-enable: stale.
    expect(decideBreakerDisable(enabled, '5 consecutive failures', tripAt.toISOString(), later)).toBeNull();
    // A trip after the re-enable disables again.
    expect(decideBreakerDisable(enabled, '5 consecutive failures', later.toISOString(), later)).toMatchObject(
      { type: 'SubscriptionDisabled', reason: 'circuit-breaker' },
    );
  });

  it('makes revocation permanent', () => {
    const revoked = apply(subscription(), decideRevoke(subscription(), created));
    expect(errorOf(() => decideEnable(revoked, created)).code).toBe(SubscriptionErrorCode.InvalidTransition);
    expect(errorOf(() => decideUpdate(revoked, { description: 'x' }, created)).code).toBe(
      SubscriptionErrorCode.InvalidTransition,
    );
    expect(decideRevoke(revoked, created)).toBeNull();
  });

  it('answers not found for anything after deletion', () => {
    const deleted = apply(subscription(), decideDelete(subscription(), created));
    expect(errorOf(() => decideDelete(deleted, created)).code).toBe(SubscriptionErrorCode.NotFound);
    expect(errorOf(() => decideEnable(deleted, created)).code).toBe(SubscriptionErrorCode.NotFound);
  });

  it('records only the fields that really change', () => {
    const state = subscription();
    expect(decideUpdate(state, { url: state.url, eventTypes: ['*'] }, created)).toBeNull();
    const event = decideUpdate(state, { url: 'https://example.com/v2', eventTypes: ['*'] }, created);
    expect(event).toMatchObject({ type: 'SubscriptionUpdated', changes: { url: 'https://example.com/v2' } });
  });
});

describe('secret rotation', () => {
  const now = { kind: 'immediate' } as const;
  const manual = { kind: 'manual' } as const;
  const phases = (state: SubscriptionState, at: Date) =>
    state.secrets.map((s) => [s.id, secretPhasesAt(state.secrets, at.getTime()).get(s.id)]);

  it('signs with the new secret at once and keeps the old one retiring until the grace period ends', () => {
    const rotatedAt = new Date(created.getTime() + DAY);
    const rotated = apply(
      subscription(),
      decideRotateSecret(subscription(), secret('s2'), { graceMs: DAY, activation: now }, rotatedAt),
    );
    expect(rotated.secrets.map((s) => [s.id, s.activatesAt, s.retiresAt])).toEqual([
      ['s2', rotatedAt.toISOString(), null],
      ['s1', undefined, new Date(rotatedAt.getTime() + DAY).toISOString()],
    ]);
    expect(phases(rotated, rotatedAt)).toEqual([
      ['s2', 'current'],
      ['s1', 'retiring'],
    ]);
    expect(phases(rotated, new Date(rotatedAt.getTime() + DAY))).toEqual([
      ['s2', 'current'],
      ['s1', 'retired'],
    ]);
  });

  it('keeps a manually activated secret pending, signing nothing, until its activation call', () => {
    const rotated = apply(
      subscription(),
      decideRotateSecret(subscription(), secret('s2'), { graceMs: DAY, activation: manual }, created),
    );
    const later = new Date(created.getTime() + 7 * DAY);
    expect(phases(rotated, later)).toEqual([
      ['s2', 'pending'],
      ['s1', 'current'],
    ]);
    const activated = apply(
      rotated,
      decideActivateSecret(rotated, 's2', { graceMs: undefined, defaultGraceMs: 1 }, later),
    );
    expect(phases(activated, later)).toEqual([
      ['s2', 'current'],
      ['s1', 'retiring'],
    ]);
    expect(activated.secrets.find((s) => s.id === 's1')?.retiresAt).toBe(
      new Date(later.getTime() + DAY).toISOString(),
    );
    // A retried activation call changes nothing; a replaced secret cannot come back.
    expect(decideActivateSecret(activated, 's2', { graceMs: DAY, defaultGraceMs: DAY }, later)).toBeNull();
    expect(
      errorOf(() => decideActivateSecret(activated, 's1', { graceMs: DAY, defaultGraceMs: DAY }, later)).code,
    ).toBe(SubscriptionErrorCode.InvalidSecretActivation);
    expect(
      errorOf(() => decideActivateSecret(activated, 'sec_nope', { graceMs: DAY, defaultGraceMs: DAY }, later))
        .code,
    ).toBe(SubscriptionErrorCode.SecretNotFound);
  });

  it('activates a scheduled secret at its time, and a new rotation replaces a pending one', () => {
    const at = new Date(created.getTime() + DAY);
    const scheduled = apply(
      subscription(),
      decideRotateSecret(
        subscription(),
        secret('s2'),
        { graceMs: 0, activation: { kind: 'scheduled', at } },
        created,
      ),
    );
    expect(phases(scheduled, new Date(at.getTime() - 1))).toEqual([
      ['s2', 'pending'],
      ['s1', 'current'],
    ]);
    expect(phases(scheduled, at)).toEqual([
      ['s2', 'current'],
      ['s1', 'retired'],
    ]);
    expect(signingSecretsAt(scheduled.secrets, created.getTime()).nextChangeAt).toBe(at.getTime());
    // Replaced before its time: it never signed, and the current secret is no longer due to retire.
    const replaced = apply(
      scheduled,
      decideRotateSecret(scheduled, secret('s3'), { graceMs: DAY, activation: manual }, created),
    );
    expect(replaced.secrets.map((s) => [s.id, s.retiresAt])).toEqual([
      ['s3', null],
      ['s1', null],
    ]);
  });

  it("never cuts a retiring secret's grace short, and can retire the current one at once", () => {
    const first = apply(
      subscription(),
      decideRotateSecret(subscription(), secret('s2'), { graceMs: DAY, activation: now }, created),
    );
    const later = new Date(created.getTime() + 2_000);
    const second = apply(
      first,
      decideRotateSecret(first, secret('s3'), { graceMs: 1_000, activation: now }, later),
    );
    expect(second.secrets.map((s) => [s.id, s.retiresAt])).toEqual([
      ['s3', null],
      ['s2', new Date(later.getTime() + 1_000).toISOString()],
      ['s1', new Date(created.getTime() + DAY).toISOString()],
    ]);
    const immediate = apply(
      second,
      decideRotateSecret(second, secret('s4'), { graceMs: 0, activation: now }, later),
    );
    expect(phases(immediate, later).filter(([, phase]) => phase !== 'retired')).toEqual([
      ['s4', 'current'],
      ['s2', 'retiring'],
      ['s1', 'retiring'],
    ]);
  });

  it('bounds how many secrets are live at once, and refuses an activation time in the past', () => {
    const a = apply(
      subscription(),
      decideRotateSecret(subscription(), secret('s2'), { graceMs: DAY, activation: now }, created),
    );
    const b = apply(a, decideRotateSecret(a, secret('s3'), { graceMs: DAY, activation: now }, created));
    expect(
      errorOf(() => decideRotateSecret(b, secret('s4'), { graceMs: DAY, activation: now }, created)).code,
    ).toBe(SubscriptionErrorCode.TooManySecrets);
    const past = { kind: 'scheduled', at: new Date(created.getTime() - 1) } as const;
    expect(
      errorOf(() =>
        decideRotateSecret(subscription(), secret('s2'), { graceMs: DAY, activation: past }, created),
      ).code,
    ).toBe(SubscriptionErrorCode.InvalidSecretActivation);
  });
});
