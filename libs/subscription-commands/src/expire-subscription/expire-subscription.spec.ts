import { CreateSubscription } from '../create-subscription/create-subscription.usecase';
import { fakeDependencies, ORGANISATION } from '../test/fakes';
import { ExpireSubscription } from './expire-subscription.usecase';

/** A subscription living 30 days from 2026-12-01T12:00Z. */
async function subscribed() {
  const deps = fakeDependencies();
  const organisation = { ...ORGANISATION, subscriptionLifetimeDays: 30 };
  const { subscription } = await new CreateSubscription(deps).execute({
    organisation,
    url: 'https://receiver.example/hooks',
    description: '',
    eventTypes: ['*'],
    scopeFilter: {},
    policy: {},
  });
  const expiresAt = new Date(subscription.expiresAt ?? '');
  const expire = () =>
    new ExpireSubscription(deps).execute({
      organisationId: organisation.id,
      subscriptionId: subscription.id,
    });
  const stored = () => deps.store.subscriptions.get(subscription.id);
  return { deps, expiresAt, expire, stored };
}

describe('ExpireSubscription', () => {
  it('expires a subscription once expiresAt has passed', async () => {
    const { deps, expiresAt, expire, stored } = await subscribed();
    deps.clock.set(expiresAt);
    expect(await expire()).toBe(true);
    expect(stored()).toMatchObject({ status: 'expired', version: 2 });
    expect(deps.store.events.map((event) => event.type)).toEqual([
      'SubscriptionCreated',
      'SubscriptionExpired',
    ]);
  });

  it('does nothing before expiresAt', async () => {
    const { deps, expiresAt, expire, stored } = await subscribed();
    deps.clock.set(new Date(expiresAt.getTime() - 1));
    expect(await expire()).toBe(false);
    expect(stored()).toMatchObject({ status: 'active', version: 1 });
    expect(deps.store.events).toHaveLength(1);
  });

  it('does nothing when already expired (another replica got there first)', async () => {
    const { deps, expiresAt, expire } = await subscribed();
    deps.clock.set(expiresAt);
    await expire();
    expect(await expire()).toBe(false);
    expect(deps.store.events).toHaveLength(2);
  });

  it('does nothing when the subscription was deleted after it was found due', async () => {
    const { deps, expiresAt, expire } = await subscribed();
    const [id] = [...deps.store.subscriptions.keys()];
    const current = deps.store.subscriptions.get(id ?? '');
    if (current !== undefined) deps.store.subscriptions.set(current.id, { ...current, deleted: true });
    deps.clock.set(expiresAt);
    expect(await expire()).toBe(false);
    expect(deps.store.events).toHaveLength(1);
  });
});
