import { SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { UrlPolicyViolation, UrlPolicyViolationCode } from '@skyhook/url-policy';
import { type FakeDependencies, fakeDependencies, FakeUrlPolicy, ORGANISATION } from '../test/fakes';
import { type CreateSubscriptionCommand } from './create-subscription.command';
import { CreateSubscription } from './create-subscription.usecase';

const COMMAND: CreateSubscriptionCommand = {
  organisation: ORGANISATION,
  url: 'https://receiver.example/hooks',
  description: 'departures',
  eventTypes: ['flight.departed'],
  scopeFilter: { centerId: 'C1' },
  policy: { timeoutMs: 5_000 },
};

function create(deps: FakeDependencies, overrides: Partial<CreateSubscriptionCommand> = {}) {
  return new CreateSubscription(deps).execute({ ...COMMAND, ...overrides });
}

describe('CreateSubscription', () => {
  it('stores the subscription with one SubscriptionCreated event', async () => {
    const deps = fakeDependencies();
    const { subscription } = await create(deps);
    expect(subscription).toMatchObject({
      organisationId: ORGANISATION.id,
      version: 1,
      status: 'active',
      url: 'https://receiver.example/hooks',
      eventTypes: ['flight.departed'],
      scopeFilter: { centerId: 'C1' },
      policy: { timeoutMs: 5_000 },
      expiresAt: null,
      createdAt: '2026-12-01T12:00:00.000Z',
    });
    expect(subscription.id).toMatch(/^sub_[0-9a-f]{32}$/);
    expect(deps.store.subscriptions.get(subscription.id)).toEqual(subscription);
    expect(deps.store.events).toEqual([
      expect.objectContaining({ type: 'SubscriptionCreated', subscriptionId: subscription.id, version: 1 }),
    ]);
  });

  it('generates a whsec_ secret when none is given, sealed under the subscription and secret ids', async () => {
    const { subscription, signingSecret, secretId } = await create(fakeDependencies());
    expect(signingSecret).toMatch(/^whsec_/);
    expect(subscription.secrets).toEqual([expect.objectContaining({ id: secretId })]);
    expect(subscription.secrets[0]?.encrypted).toBe(
      `sealed(${subscription.id}:${secretId}):${signingSecret}`,
    );
  });

  it("returns and seals the caller's own secret", async () => {
    const secret = 'receivers-own-secret-1234';
    const { subscription, signingSecret, secretId } = await create(fakeDependencies(), { secret });
    expect(signingSecret).toBe(secret);
    expect(subscription.secrets[0]?.encrypted).toBe(`sealed(${subscription.id}:${secretId}):${secret}`);
  });

  it('expires one organisation lifetime after creation', async () => {
    const organisation = { ...ORGANISATION, subscriptionLifetimeDays: 30 };
    const { subscription } = await create(fakeDependencies(), { organisation });
    expect(subscription.expiresAt).toBe('2026-12-31T12:00:00.000Z');
  });

  it("propagates the URL policy's refusal and stores nothing", async () => {
    const refusal = new UrlPolicyViolation(UrlPolicyViolationCode.AddressNotAllowed, 'private address');
    const deps = fakeDependencies({ urlPolicy: new FakeUrlPolicy(refusal) });
    await expect(create(deps)).rejects.toBe(refusal);
    expect(deps.store.subscriptions.size).toBe(0);
    expect(deps.store.events).toEqual([]);
  });

  it('refuses an event type outside the catalogue and stores nothing', async () => {
    const deps = fakeDependencies();
    const rejection = create(deps, { eventTypes: ['flight.departed', 'flight.landed'] });
    await expect(rejection).rejects.toBeInstanceOf(SubscriptionError);
    await expect(rejection).rejects.toMatchObject({
      code: SubscriptionErrorCode.UnknownEventTypes,
      details: { unknownEventTypes: ['flight.landed'] },
    });
    expect(deps.store.subscriptions.size).toBe(0);
    expect(deps.store.events).toEqual([]);
  });
});
