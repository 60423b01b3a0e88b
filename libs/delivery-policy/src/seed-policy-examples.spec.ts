import { parseDeliveryPolicyOverride } from './delivery-policy-override';
import { resolveEffectivePolicy } from './effective-policy';
import { maxAttempts } from './retry-plan';
import { SEED_POLICY_EXAMPLES, type SeedContract } from './seed-policy-examples';

const seeds = Object.keys(SEED_POLICY_EXAMPLES) as SeedContract[];

describe('SEED_POLICY_EXAMPLES', () => {
  it('covers all five seed contracts', () => {
    expect(seeds.sort()).toEqual(['aviationAlley', 'fl3xx', 'flexorch', 'flightline', 'flintn']);
  });

  it.each(seeds)(
    '%s parses as caller input and resolves, as organisation default and as subscription override',
    (seed) => {
      const example = SEED_POLICY_EXAMPLES[seed];
      const parsed = parseDeliveryPolicyOverride(JSON.parse(JSON.stringify(example)));
      expect(parsed).toEqual(example);
      expect(resolveEffectivePolicy(parsed, undefined)).toEqual(resolveEffectivePolicy(undefined, parsed));
    },
  );

  it('Flightline: t=…,v1=<hex> in X-Flightline-Signature, thin payload, 3 attempts ~0.5 s and 1 s apart on any non-2xx', () => {
    const policy = resolveEffectivePolicy(SEED_POLICY_EXAMPLES.flightline, undefined);
    expect(policy.signature).toEqual({ scheme: 'timestamped-hmac-hex', header: 'X-Flightline-Signature' });
    expect(policy.payload.shape).toBe('thin');
    expect(policy.timeoutMs).toBe(10_000);
    expect(policy.retry.delaysMs).toEqual([500, 1_000]);
    expect(maxAttempts(policy.retry)).toBe(3);
    expect(policy.retry.retryOn).toBe('any-non-2xx');
  });

  it('Flintn: base64 HMAC in X-Signature-Primary, 30 s, 5 attempts, 4xx but 429 final, disabled after 5, dropped while disabled', () => {
    const policy = resolveEffectivePolicy(SEED_POLICY_EXAMPLES.flintn, undefined);
    expect(policy.signature).toEqual({ scheme: 'hmac-base64', header: 'X-Signature-Primary' });
    expect(policy.timeoutMs).toBe(30_000);
    expect(maxAttempts(policy.retry)).toBe(5);
    expect(policy.retry.delaysMs).toEqual([300_000, 1_800_000, 7_200_000, 86_400_000]);
    expect(policy.retry.retryOn).toBe('transient');
    expect(policy.circuitBreaker.consecutiveFailuresToDisable).toBe(5);
    expect(policy.whileDisabled).toBe('drop');
  });

  it('FlexOrch: hex HMAC in X-Flexorch-Signature, full payload, retried once', () => {
    const policy = resolveEffectivePolicy(SEED_POLICY_EXAMPLES.flexorch, undefined);
    expect(policy.signature).toEqual({ scheme: 'hmac-hex', header: 'X-Flexorch-Signature' });
    expect(policy.payload.shape).toBe('envelope');
    expect(maxAttempts(policy.retry)).toBe(2);
  });

  it('FL3XX: Standard Webhooks and the platform defaults', () => {
    const policy = resolveEffectivePolicy(SEED_POLICY_EXAMPLES.fl3xx, undefined);
    expect(policy.signature).toEqual({ scheme: 'standard-webhooks' });
    expect(policy).toEqual(resolveEffectivePolicy(undefined, undefined));
  });

  it('AviationAlley: hex HMAC plus event and delivery headers, envelope, 5 s, 5 attempts on any failure', () => {
    const policy = resolveEffectivePolicy(SEED_POLICY_EXAMPLES.aviationAlley, undefined);
    expect(policy.signature).toEqual({ scheme: 'hmac-hex', header: 'X-AviationAlley-Signature' });
    expect(policy.headers).toEqual({
      eventType: 'X-AviationAlley-Event',
      deliveryId: 'X-AviationAlley-Delivery',
      extra: {},
    });
    expect(policy.payload.shape).toBe('envelope');
    expect(policy.timeoutMs).toBe(5_000);
    expect(policy.retry.delaysMs).toEqual([300_000, 1_800_000, 7_200_000, 28_800_000]);
    expect(maxAttempts(policy.retry)).toBe(5);
    expect(policy.retry.retryOn).toBe('any-non-2xx');
  });
});
