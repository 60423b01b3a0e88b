import { ChangeSubscriptionStatus } from '../change-subscription-status/change-subscription-status.usecase';
import { type SubscriptionStatusChange } from '../change-subscription-status/change-subscription-status.command';
import { CreateSubscription } from '../create-subscription/create-subscription.usecase';
import { fakeDependencies, ORGANISATION } from '../test/fakes';
import { DisableByCircuitBreaker } from './disable-by-circuit-breaker.usecase';

async function subscribed() {
  const deps = fakeDependencies();
  const { subscription } = await new CreateSubscription(deps).execute({
    organisation: ORGANISATION,
    url: 'https://receiver.example/hooks',
    description: '',
    eventTypes: ['*'],
    scopeFilter: {},
    policy: {},
  });
  const subscriptionId = subscription.id;
  /** The partner's step, at `at`. */
  const partner = (change: SubscriptionStatusChange, at: string) => {
    deps.clock.set(new Date(at));
    return new ChangeSubscriptionStatus(deps).execute({ organisation: ORGANISATION, subscriptionId, change });
  };
  const trip = (issuedAt: string) =>
    new DisableByCircuitBreaker(deps).execute({
      organisationId: ORGANISATION.id,
      subscriptionId,
      detail: '5 consecutive failures',
      issuedAt,
    });
  return { deps, partner, trip };
}

describe('DisableByCircuitBreaker', () => {
  it('disables an active subscription', async () => {
    const { deps, trip } = await subscribed();
    const { subscription, applied } = await trip('2026-12-01T12:00:00.000Z');
    expect(applied).toBe(true);
    expect(subscription).toMatchObject({
      status: 'disabled',
      disabledReason: 'circuit-breaker',
      disabledDetail: '5 consecutive failures',
      version: 2,
    });
    expect(deps.store.events.map((event) => event.type)).toEqual([
      'SubscriptionCreated',
      'SubscriptionDisabled',
    ]);
  });

  it('does nothing to a subscription already disabled', async () => {
    const { deps, partner, trip } = await subscribed();
    await partner('disable', '2026-12-01T12:01:00.000Z');
    const { subscription, applied } = await trip('2026-12-01T12:02:00.000Z');
    expect(applied).toBe(false);
    expect(subscription).toMatchObject({ status: 'disabled', disabledReason: 'partner', version: 2 });
    expect(deps.store.events).toHaveLength(2);
  });

  it('does nothing to a subscription re-enabled after the request was issued', async () => {
    const { deps, partner, trip } = await subscribed();
    await partner('disable', '2026-12-01T12:01:00.000Z');
    await partner('enable', '2026-12-01T12:03:00.000Z');
    const { subscription, applied } = await trip('2026-12-01T12:02:00.000Z');
    expect(applied).toBe(false);
    expect(subscription).toMatchObject({ status: 'active', version: 3 });
    expect(deps.store.events).toHaveLength(3);
  });
});
