import { DeliveryPolicyError, DeliveryPolicyErrorCode } from '@skyhook/delivery-policy';
import {
  checkPolicyOverride,
  checkScopeFilter,
  lifetimeOf,
  type SubscriberOrganisation,
  statusUnderProfile,
} from './subscriber-organisation';
import { SubscriptionInputError, SubscriptionInputErrorCode } from './subscription-command.error';
import { ORGANISATION } from './test/fakes';

function organisation(overrides: Partial<SubscriberOrganisation>): SubscriberOrganisation {
  return { ...ORGANISATION, ...overrides };
}

function errorOf<E>(work: () => unknown, type: new (...args: never[]) => E): E {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error('expected an error');
}

describe('lifetimeOf', () => {
  it('takes the months when both are set, with the renewal window and time scale', () => {
    const both = organisation({
      subscriptionLifetimeMonths: 1,
      subscriptionLifetimeDays: 30,
      renewalWindowDays: 5,
    });
    expect(lifetimeOf(both, 60)).toEqual({ lifetime: { months: 1 }, renewalWindowDays: 5, timeScale: 60 });
  });

  it('takes the days when no months are set', () => {
    expect(lifetimeOf(organisation({ subscriptionLifetimeDays: 14 }), 1).lifetime).toEqual({ days: 14 });
  });

  it('has no lifetime when neither is set', () => {
    expect(lifetimeOf(ORGANISATION, 1).lifetime).toBeNull();
  });
});

describe('checkScopeFilter', () => {
  it.each([
    ['aviationalley', 'centerId'],
    ['fl3xx', 'operatorId'],
  ] as const)('under %s requires scopeFilter.%s', (profile, key) => {
    const error = errorOf(
      () => checkScopeFilter(organisation({ profile }), { partnerId: 'P1' }),
      SubscriptionInputError,
    );
    expect(error.code).toBe(SubscriptionInputErrorCode.ScopeFilterRequired);
    expect(error.details).toEqual({ field: `scopeFilter.${key}` });
    expect(() => checkScopeFilter(organisation({ profile }), { [key]: 'T1' })).not.toThrow();
  });

  it('requires no key under a profile that does not subscribe per tenant', () => {
    expect(() => checkScopeFilter(ORGANISATION, {})).not.toThrow();
  });
});

describe('checkPolicyOverride', () => {
  it('returns a valid override', () => {
    expect(checkPolicyOverride(ORGANISATION, { timeoutMs: 5_000 })).toEqual({ timeoutMs: 5_000 });
  });

  it('refuses an invalid override with a DeliveryPolicyError', () => {
    const error = errorOf(
      () => checkPolicyOverride(ORGANISATION, { timeoutMs: 31_000 }),
      DeliveryPolicyError,
    );
    expect(error.code).toBe(DeliveryPolicyErrorCode.InvalidOverride);
    expect(error.issues.map((issue) => issue.path)).toEqual(['timeoutMs']);
  });
});

describe('statusUnderProfile', () => {
  it.each(['active', 'disabled', undefined])('passes %p through', (status) => {
    expect(statusUnderProfile(ORGANISATION, status)).toBe(status);
  });

  it("reads FL3XX's inactive as disabled", () => {
    expect(statusUnderProfile(organisation({ profile: 'fl3xx' }), 'inactive')).toBe('disabled');
  });

  it.each(['constructor', 'toString', '__proto__'])(
    'refuses %p under a profile with aliases (own words only, not the prototype’s)',
    (status) => {
      const error = errorOf(
        () => statusUnderProfile(organisation({ profile: 'fl3xx' }), status),
        SubscriptionInputError,
      );
      expect(error.code).toBe(SubscriptionInputErrorCode.Invalid);
    },
  );

  it('refuses inactive under a profile that does not name it', () => {
    const error = errorOf(() => statusUnderProfile(ORGANISATION, 'inactive'), SubscriptionInputError);
    expect(error.code).toBe(SubscriptionInputErrorCode.Invalid);
    expect(error.details).toEqual([expect.objectContaining({ path: 'status' })]);
  });
});
