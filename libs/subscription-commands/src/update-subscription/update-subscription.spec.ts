import { SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { CreateSubscription } from '../create-subscription/create-subscription.usecase';
import { type SubscriberOrganisation } from '../subscriber-organisation';
import { SubscriptionInputError, SubscriptionInputErrorCode } from '../subscription-command.error';
import { fakeDependencies, ORGANISATION } from '../test/fakes';
import { type UpdateSubscriptionCommand } from './update-subscription.command';
import { UpdateSubscription } from './update-subscription.usecase';

type Changes = Omit<UpdateSubscriptionCommand, 'organisation' | 'subscriptionId'>;

async function subscribed(organisation: SubscriberOrganisation = ORGANISATION) {
  const deps = fakeDependencies();
  const { subscription } = await new CreateSubscription(deps).execute({
    organisation,
    url: 'https://receiver.example/hooks',
    description: 'before',
    eventTypes: ['*'],
    scopeFilter: { operatorId: 'OP1' },
    policy: {},
  });
  const update = (changes: Changes) =>
    new UpdateSubscription(deps).execute({ organisation, subscriptionId: subscription.id, ...changes });
  return { deps, subscription, update };
}

describe('UpdateSubscription', () => {
  it('changes a field and stores one SubscriptionUpdated event', async () => {
    const { deps, update } = await subscribed();
    const updated = await update({ description: 'after', url: 'https://receiver.example/v2' });
    expect(updated).toMatchObject({ version: 2, description: 'after', url: 'https://receiver.example/v2' });
    expect(deps.urlPolicy.checked).toEqual(['https://receiver.example/hooks', 'https://receiver.example/v2']);
    expect(deps.store.events.slice(1)).toEqual([
      expect.objectContaining({
        type: 'SubscriptionUpdated',
        version: 2,
        changes: { description: 'after', url: 'https://receiver.example/v2' },
      }),
    ]);
  });

  it('disables in the same command with the next version', async () => {
    const { deps, update } = await subscribed();
    const updated = await update({ description: 'after', status: 'disabled' });
    expect(updated).toMatchObject({ version: 3, description: 'after', status: 'disabled' });
    expect(deps.store.events.slice(1).map((event) => [event.type, event.version])).toEqual([
      ['SubscriptionUpdated', 2],
      ['SubscriptionDisabled', 3],
    ]);
  });

  it("takes FL3XX's inactive for disabled", async () => {
    const { update } = await subscribed({ ...ORGANISATION, profile: 'fl3xx' });
    expect((await update({ status: 'inactive' })).status).toBe('disabled');
  });

  it('refuses a status word the profile does not name before touching the store', async () => {
    const { deps, update } = await subscribed();
    const change = jest.spyOn(deps.store, 'change');
    const rejection = update({ description: 'after', status: 'inactive' });
    await expect(rejection).rejects.toBeInstanceOf(SubscriptionInputError);
    await expect(rejection).rejects.toMatchObject({ code: SubscriptionInputErrorCode.Invalid });
    expect(change).not.toHaveBeenCalled();
    expect(deps.store.events).toHaveLength(1);
  });

  it('refuses a stale expectedVersion and stores nothing', async () => {
    const { deps, update } = await subscribed();
    const rejection = update({ description: 'after', expectedVersion: 2 });
    await expect(rejection).rejects.toBeInstanceOf(SubscriptionError);
    await expect(rejection).rejects.toMatchObject({
      code: SubscriptionErrorCode.VersionConflict,
      details: { currentVersion: 1 },
    });
    expect(deps.store.events).toHaveLength(1);
  });
});
