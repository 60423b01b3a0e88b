import {
  DeliveryPolicyError,
  DeliveryPolicyErrorCode,
  type DeliveryPolicyIssue,
} from './delivery-policy.error';
import { DELIVERY_POLICY_DEFAULTS, deliveryPolicySchema } from './delivery-policy';
import { type DeliveryPolicyOverride } from './delivery-policy-override';
import { DELIVERY_PROFILE_NAMES } from './delivery-profiles';
import { resolveEffectivePolicy, resolveWhileDisabled, whileDisabledIn } from './effective-policy';

function resolutionIssues(
  organisationDefault: DeliveryPolicyOverride | undefined,
  subscriptionOverride: DeliveryPolicyOverride | undefined,
): readonly DeliveryPolicyIssue[] {
  try {
    resolveEffectivePolicy(organisationDefault, subscriptionOverride);
  } catch (error: unknown) {
    if (error instanceof DeliveryPolicyError) {
      expect(error.code).toBe(DeliveryPolicyErrorCode.InvalidEffectivePolicy);
      return error.issues;
    }
    throw error;
  }
  throw new Error('expected the policy to be rejected');
}

describe('DELIVERY_POLICY_DEFAULTS', () => {
  it('is a valid complete policy', () => {
    expect(deliveryPolicySchema.parse(DELIVERY_POLICY_DEFAULTS)).toEqual(DELIVERY_POLICY_DEFAULTS);
  });

  it('is Standard Webhooks, envelope, 10 s, the Standard Webhooks schedule, transient retry, breaker 5, drop', () => {
    expect(DELIVERY_POLICY_DEFAULTS).toEqual({
      signature: { scheme: 'standard-webhooks' },
      headers: { eventType: null, deliveryId: null, extra: {} },
      payload: { shape: 'envelope' },
      timeoutMs: 10_000,
      retry: {
        delaysMs: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
        retryOn: 'transient',
        honourRetryAfter: true,
      },
      circuitBreaker: { consecutiveFailuresToDisable: 5 },
      whileDisabled: 'drop',
    });
  });

  it('cannot be mutated by a caller', () => {
    expect(Object.isFrozen(DELIVERY_POLICY_DEFAULTS.retry.delaysMs)).toBe(true);
  });
});

describe('resolveEffectivePolicy', () => {
  it('gives the platform defaults when neither layer says anything', () => {
    expect(resolveEffectivePolicy(undefined, undefined)).toEqual(DELIVERY_POLICY_DEFAULTS);
    expect(resolveEffectivePolicy({}, {})).toEqual(DELIVERY_POLICY_DEFAULTS);
  });

  it('returns a fresh policy the caller may change without touching the defaults', () => {
    const policy = resolveEffectivePolicy(undefined, undefined);
    policy.retry.delaysMs.push(1);
    expect(DELIVERY_POLICY_DEFAULTS.retry.delaysMs).toHaveLength(7);
  });

  it('the organisation default applies where the subscription is silent', () => {
    const policy = resolveEffectivePolicy(
      { timeoutMs: 5_000, signature: { scheme: 'hmac-hex', header: 'X-Org-Signature' } },
      { whileDisabled: 'hold' },
    );
    expect(policy.timeoutMs).toBe(5_000);
    expect(policy.signature).toEqual({ scheme: 'hmac-hex', header: 'X-Org-Signature' });
    expect(policy.whileDisabled).toBe('hold');
  });

  it('the subscription override wins over the organisation default', () => {
    const policy = resolveEffectivePolicy({ timeoutMs: 5_000 }, { timeoutMs: 30_000 });
    expect(policy.timeoutMs).toBe(30_000);
  });

  it('a new signature replaces the whole inherited signature, header included', () => {
    const policy = resolveEffectivePolicy(
      { signature: { scheme: 'hmac-hex', header: 'X-Org-Signature' } },
      { signature: { scheme: 'standard-webhooks' } },
    );
    expect(policy.signature).toEqual({ scheme: 'standard-webhooks' });
  });

  it('merges retry field by field: overriding the schedule keeps the inherited retryOn', () => {
    const policy = resolveEffectivePolicy(
      { retry: { retryOn: 'any-non-2xx', honourRetryAfter: false } },
      { retry: { delaysMs: [60_000] } },
    );
    expect(policy.retry).toEqual({ delaysMs: [60_000], retryOn: 'any-non-2xx', honourRetryAfter: false });
  });

  it('replaces the schedule as a whole rather than element by element', () => {
    const policy = resolveEffectivePolicy(
      { retry: { delaysMs: [1_000, 2_000, 3_000] } },
      { retry: { delaysMs: [500] } },
    );
    expect(policy.retry.delaysMs).toEqual([500]);
  });

  it('merges headers field by field, replaces the extra map as a whole, and null turns a header off', () => {
    const policy = resolveEffectivePolicy(
      {
        headers: {
          eventType: 'X-Org-Event',
          deliveryId: 'X-Org-Delivery',
          extra: { 'X-Environment': 'production', 'X-Team': 'ops' },
        },
      },
      { headers: { eventType: null, extra: { 'X-Region': 'eu' } } },
    );
    expect(policy.headers).toEqual({
      eventType: null,
      deliveryId: 'X-Org-Delivery',
      extra: { 'X-Region': 'eu' },
    });
  });

  it('rejects a combination where the subscription signs into the organisation’s event type header', () => {
    expect(
      resolutionIssues(
        { headers: { eventType: 'X-Partner-Signature' } },
        { signature: { scheme: 'hmac-base64', header: 'x-partner-signature' } },
      ),
    ).toEqual([
      { path: 'headers.eventType', message: 'X-Partner-Signature is already used by signature.header' },
    ]);
  });

  it('rejects an invalid value that slipped into a stored layer', () => {
    expect(resolutionIssues({ timeoutMs: 60_000 }, undefined)).toEqual([
      { path: 'timeoutMs', message: 'must be at most 30000 ms' },
    ]);
  });

  it('does not mind an invalid organisation value the subscription overrides', () => {
    expect(resolveEffectivePolicy({ timeoutMs: 60_000 }, { timeoutMs: 20_000 }).timeoutMs).toBe(20_000);
  });
});

describe('resolveWhileDisabled', () => {
  const layerValues = [undefined, 'drop', 'hold'] as const;

  it('agrees with the resolved policy for every subscription, organisation and profile combination', () => {
    for (const profile of DELIVERY_PROFILE_NAMES) {
      for (const subscription of layerValues) {
        for (const organisation of layerValues) {
          const policy = resolveEffectivePolicy(
            organisation === undefined ? undefined : { whileDisabled: organisation },
            subscription === undefined ? undefined : { whileDisabled: subscription },
            profile,
          );
          expect(resolveWhileDisabled({ subscription, organisation, profile })).toBe(policy.whileDisabled);
        }
      }
    }
  });

  it('takes an unknown or missing profile for none: the platform default', () => {
    const none = { subscription: undefined, organisation: undefined };
    expect(resolveWhileDisabled({ ...none, profile: 'no-such-profile' })).toBe('drop');
    expect(resolveWhileDisabled({ ...none, profile: undefined })).toBe(
      DELIVERY_POLICY_DEFAULTS.whileDisabled,
    );
  });
});

describe('whileDisabledIn', () => {
  it('reads a valid value and ignores anything else a stored layer holds', () => {
    expect(whileDisabledIn({ whileDisabled: 'hold' })).toBe('hold');
    expect(whileDisabledIn({ whileDisabled: 'drop' })).toBe('drop');
    expect(whileDisabledIn({ whileDisabled: 'HOLD' })).toBeUndefined();
    expect(whileDisabledIn({ whileDisabled: 1 })).toBeUndefined();
    expect(whileDisabledIn({})).toBeUndefined();
    expect(whileDisabledIn(undefined)).toBeUndefined();
  });
});
