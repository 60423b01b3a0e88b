import { parseDeliveryPolicyOverride } from './delivery-policy-override';
import { DELIVERY_PROFILE_NAMES, DELIVERY_PROFILES, missingScopeKey } from './delivery-profiles';
import { resolveEffectivePolicy } from './effective-policy';
import { compilePayloadTemplate, type PayloadTemplateSource } from './payload-template';
import { maxAttempts } from './retry-plan';

const source: PayloadTemplateSource = {
  event: {
    id: 'evt_1',
    type: 'review.completed',
    organisationId: 'org_1',
    scope: { centerId: 'ctr_9' },
    // With milliseconds, as a defaulted occurredAt has them: each profile writes its seed's format.
    occurredAt: '2026-05-30T18:09:12.941Z',
    data: { review_id: 'rv_1', reference_id: 'LN-2026-0042', status: 'completed', report: { pages: 3 } },
  },
  delivery: { id: 'del_1', subscriptionId: 'sub_1', test: false },
};

function bodyUnder(profile: (typeof DELIVERY_PROFILE_NAMES)[number], from = source): unknown {
  const { payload } = resolveEffectivePolicy(undefined, undefined, profile);
  if (payload.shape !== 'template') throw new Error(`${profile} has no template`);
  return compilePayloadTemplate(payload.template)(from);
}

describe('DELIVERY_PROFILES', () => {
  it('names the default and all five seed contracts', () => {
    expect([...DELIVERY_PROFILE_NAMES].sort()).toEqual([
      'aviationalley',
      'fl3xx',
      'flexorch',
      'flightline',
      'flintn',
      'standard-webhooks',
    ]);
  });

  it.each(DELIVERY_PROFILE_NAMES)('%s: its policy layer is valid caller input and resolves', (name) => {
    const { policy } = DELIVERY_PROFILES[name];
    expect(parseDeliveryPolicyOverride(JSON.parse(JSON.stringify(policy)))).toEqual(policy);
    // The profile as an organisation's default behaves like the profile itself.
    expect(resolveEffectivePolicy(undefined, undefined, name)).toEqual(
      resolveEffectivePolicy(policy, undefined),
    );
  });

  it('standard-webhooks is the platform defaults', () => {
    expect(resolveEffectivePolicy(undefined, undefined, 'standard-webhooks')).toEqual(
      resolveEffectivePolicy(undefined, undefined),
    );
  });

  it('a subscription override changes one knob and keeps the rest of the profile', () => {
    const policy = resolveEffectivePolicy(undefined, { timeoutMs: 2_000 }, 'aviationalley');
    expect(policy.timeoutMs).toBe(2_000);
    expect(policy.signature).toEqual({ scheme: 'hmac-hex', header: 'X-AviationAlley-Signature' });
  });

  it('Flightline: t=…,v1=<hex> in X-Flightline-Signature, ids-and-status body, 3 attempts ~0.5 s and 1 s apart on any non-2xx', () => {
    const policy = resolveEffectivePolicy(undefined, undefined, 'flightline');
    expect(policy.signature).toEqual({ scheme: 'timestamped-hmac-hex', header: 'X-Flightline-Signature' });
    expect(policy.timeoutMs).toBe(10_000);
    expect(policy.retry.delaysMs).toEqual([500, 1_000]);
    expect(maxAttempts(policy.retry)).toBe(3);
    expect(policy.retry.retryOn).toBe('any-non-2xx');
    expect(JSON.stringify(bodyUnder('flightline'))).toBe(
      '{"event":"review.completed","review_id":"rv_1","reference_id":"LN-2026-0042","status":"completed","occurred_at":"2026-05-30T18:09:12Z"}',
    );
  });

  it('Flintn: base64 HMAC in X-Signature-Primary, 30 s, 5 attempts, 4xx but 429 final, disabled after 5, dropped while disabled', () => {
    const policy = resolveEffectivePolicy(undefined, undefined, 'flintn');
    expect(policy.signature).toEqual({ scheme: 'hmac-base64', header: 'X-Signature-Primary' });
    expect(policy.timeoutMs).toBe(30_000);
    expect(maxAttempts(policy.retry)).toBe(5);
    expect(policy.retry.delaysMs).toEqual([300_000, 1_800_000, 7_200_000, 86_400_000]);
    expect(policy.retry.retryOn).toBe('5xx-and-429');
    expect(policy.circuitBreaker.consecutiveFailuresToDisable).toBe(5);
    expect(policy.whileDisabled).toBe('drop');
    expect(bodyUnder('flintn')).toEqual({
      event_id: 'evt_1',
      event: 'review.completed',
      created_at: '2026-05-30T18:09:12.941Z',
      data: source.event.data,
    });
  });

  it('FlexOrch: hex HMAC in X-Flexorch-Signature, result fields flattened between event and timestamp, retried once', () => {
    const policy = resolveEffectivePolicy(undefined, undefined, 'flexorch');
    expect(policy.signature).toEqual({ scheme: 'hmac-hex', header: 'X-Flexorch-Signature' });
    expect(maxAttempts(policy.retry)).toBe(2);
    expect(Object.keys(bodyUnder('flexorch') as object)).toEqual([
      'event',
      'review_id',
      'reference_id',
      'status',
      'report',
      'timestamp',
    ]);
    expect((bodyUnder('flexorch') as { timestamp: string }).timestamp).toBe('2026-05-30T18:09:12Z');
  });

  it('FlexOrch: a data key named like a template field (event, timestamp) gives way to the template, as its profile page says', () => {
    const colliding = {
      ...source,
      event: { ...source.event, data: { event: 'from-data', job_id: 'job_1', timestamp: 'from-data' } },
    };
    expect(JSON.stringify(bodyUnder('flexorch', colliding))).toBe(
      '{"event":"review.completed","job_id":"job_1","timestamp":"2026-05-30T18:09:12Z"}',
    );
  });

  it('FL3XX: Standard Webhooks deliveries; one-month, per-operator subscriptions renewable 5 days ahead; inactive means disabled', () => {
    expect(resolveEffectivePolicy(undefined, undefined, 'fl3xx')).toEqual(
      resolveEffectivePolicy(undefined, undefined),
    );
    expect(DELIVERY_PROFILES.fl3xx.subscriptions).toEqual({
      lifetime: { months: 1 },
      renewalWindowDays: 5,
      requiredScopeKey: 'operatorId',
      statusAliases: { inactive: 'disabled' },
    });
  });

  it('AviationAlley: hex HMAC plus event and delivery headers, {id, type, centerId, createdAt, data}, 5 s, 5 attempts on any failure', () => {
    const policy = resolveEffectivePolicy(undefined, undefined, 'aviationalley');
    expect(policy.signature).toEqual({ scheme: 'hmac-hex', header: 'X-AviationAlley-Signature' });
    expect(policy.headers).toEqual({
      eventType: 'X-AviationAlley-Event',
      deliveryId: 'X-AviationAlley-Delivery',
      extra: {},
    });
    expect(policy.timeoutMs).toBe(5_000);
    expect(policy.retry.delaysMs).toEqual([300_000, 1_800_000, 7_200_000, 28_800_000]);
    expect(maxAttempts(policy.retry)).toBe(5);
    expect(policy.retry.retryOn).toBe('any-non-2xx');
    expect(JSON.stringify(bodyUnder('aviationalley'))).toBe(
      '{"id":"del_1","type":"review.completed","centerId":"ctr_9","createdAt":"2026-05-30T18:09:12.941Z","data":{"review_id":"rv_1","reference_id":"LN-2026-0042","status":"completed","report":{"pages":3}}}',
    );
    expect(DELIVERY_PROFILES.aviationalley.subscriptions.requiredScopeKey).toBe('centerId');
  });

  it('names the scope key a per-tenant profile needs and the filter lacks', () => {
    expect(missingScopeKey('aviationalley', {})).toBe('centerId');
    expect(missingScopeKey('aviationalley', { operatorId: 'op_1' })).toBe('centerId');
    expect(missingScopeKey('aviationalley', { centerId: 'ctr_1' })).toBeUndefined();
    expect(missingScopeKey('fl3xx', {})).toBe('operatorId');
    expect(missingScopeKey('flintn', {})).toBeUndefined();
  });
});
