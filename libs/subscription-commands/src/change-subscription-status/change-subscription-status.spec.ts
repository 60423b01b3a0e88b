import { SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { CreateSubscription } from '../create-subscription/create-subscription.usecase';
import { type SubscriberOrganisation } from '../subscriber-organisation';
import { fakeDependencies, ORGANISATION } from '../test/fakes';
import { type SubscriptionStatusChange } from './change-subscription-status.command';
import { ChangeSubscriptionStatus } from './change-subscription-status.usecase';

async function subscribed(organisation: SubscriberOrganisation = ORGANISATION) {
  const deps = fakeDependencies();
  const { subscription } = await new CreateSubscription(deps).execute({
    organisation,
    url: 'https://receiver.example/hooks',
    description: '',
    eventTypes: ['*'],
    scopeFilter: {},
    policy: {},
  });
  const change = (step: SubscriptionStatusChange) =>
    new ChangeSubscriptionStatus(deps).execute({
      organisation,
      subscriptionId: subscription.id,
      change: step,
    });
  const storedTypes = () => deps.store.events.map((event) => event.type);
  return { deps, subscription, change, storedTypes };
}

describe('ChangeSubscriptionStatus', () => {
  it('disables as the partner', async () => {
    const { change, storedTypes } = await subscribed();
    expect(await change('disable')).toMatchObject({
      status: 'disabled',
      disabledReason: 'partner',
      version: 2,
    });
    expect(storedTypes()).toEqual(['SubscriptionCreated', 'SubscriptionDisabled']);
  });

  it('enables a disabled subscription', async () => {
    const { change, storedTypes } = await subscribed();
    await change('disable');
    expect(await change('enable')).toMatchObject({ status: 'active', disabledReason: null, version: 3 });
    expect(storedTypes()).toEqual(['SubscriptionCreated', 'SubscriptionDisabled', 'SubscriptionEnabled']);
  });

  it('enabling an active subscription is a no-op that stores nothing', async () => {
    const { subscription, change, storedTypes } = await subscribed();
    expect(await change('enable')).toEqual(subscription);
    expect(storedTypes()).toEqual(['SubscriptionCreated']);
  });

  it('revokes', async () => {
    const { change, storedTypes } = await subscribed();
    expect(await change('revoke')).toMatchObject({ status: 'revoked', version: 2 });
    expect(storedTypes()).toEqual(['SubscriptionCreated', 'SubscriptionRevoked']);
  });

  it('deletes: the subscription is not found afterwards', async () => {
    const { deps, subscription, change } = await subscribed();
    expect(await change('delete')).toMatchObject({ deleted: true, version: 2 });
    expect(await deps.store.findLive(ORGANISATION.id, subscription.id)).toBeUndefined();
    const rejection = change('enable');
    await expect(rejection).rejects.toBeInstanceOf(SubscriptionError);
    await expect(rejection).rejects.toMatchObject({ code: SubscriptionErrorCode.NotFound });
  });

  it("renews by the organisation's lifetime once the renewal window opens", async () => {
    const organisation = { ...ORGANISATION, subscriptionLifetimeDays: 30, renewalWindowDays: 7 };
    const { deps, subscription, change, storedTypes } = await subscribed(organisation);
    expect(subscription.expiresAt).toBe('2026-12-31T12:00:00.000Z');
    await expect(change('renew')).rejects.toMatchObject({
      code: SubscriptionErrorCode.RenewalNotOpen,
      details: { opensAt: '2026-12-24T12:00:00.000Z' },
    });
    expect(storedTypes()).toEqual(['SubscriptionCreated']);
    deps.clock.set(new Date('2026-12-24T12:00:00.000Z'));
    expect(await change('renew')).toMatchObject({ expiresAt: '2027-01-30T12:00:00.000Z', version: 2 });
    expect(storedTypes()).toEqual(['SubscriptionCreated', 'SubscriptionRenewed']);
  });

  it('refuses to renew under an organisation without a lifetime', async () => {
    const { change } = await subscribed();
    await expect(change('renew')).rejects.toMatchObject({ code: SubscriptionErrorCode.RenewalNotApplicable });
  });
});
