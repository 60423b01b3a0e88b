import {
  decideDisable,
  decideUpdate,
  SubscriptionError,
  SubscriptionErrorCode,
  type SubscriptionState,
} from '@skyhook/subscriptions';
import { applyDecisions, type Decide } from './apply-decisions';
import { CreateSubscription } from './create-subscription/create-subscription.usecase';
import { fakeDependencies, ORGANISATION } from './test/fakes';

const now = new Date('2026-12-02T00:00:00.000Z');

async function created(): Promise<SubscriptionState> {
  const { subscription } = await new CreateSubscription(fakeDependencies()).execute({
    organisation: ORGANISATION,
    url: 'https://receiver.example/hooks',
    description: 'created',
    eventTypes: ['*'],
    scopeFilter: {},
    policy: {},
  });
  return subscription;
}

function apply(current: SubscriptionState | undefined, decide: Decide, expectedVersion?: number) {
  const target = {
    organisationId: ORGANISATION.id,
    subscriptionId: current?.id ?? 'sub_missing',
    expectedVersion,
  };
  return applyDecisions(target, current, decide, now);
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

describe('applyDecisions', () => {
  it('refuses a missing subscription as not found, deciding nothing', () => {
    const decide = jest.fn<ReturnType<Decide>, Parameters<Decide>>(() => []);
    expect(errorOf(() => apply(undefined, decide)).code).toBe(SubscriptionErrorCode.NotFound);
    expect(decide).not.toHaveBeenCalled();
  });

  it('refuses a stale expectedVersion, naming the current version', async () => {
    const current = await created();
    const decide = jest.fn<ReturnType<Decide>, Parameters<Decide>>(() => []);
    const error = errorOf(() => apply(current, decide, 2));
    expect(error.code).toBe(SubscriptionErrorCode.VersionConflict);
    expect(error.details).toEqual({ currentVersion: 1 });
    expect(decide).not.toHaveBeenCalled();
  });

  it('decides on the current state at the given time when expectedVersion matches', async () => {
    const current = await created();
    const decide = jest.fn<ReturnType<Decide>, Parameters<Decide>>(() => []);
    apply(current, decide, 1);
    expect(decide).toHaveBeenCalledWith(current, now);
  });

  it('skips null decisions', async () => {
    const current = await created();
    const { state, events } = apply(current, (state, at) => [
      null,
      decideDisable(state, 'partner', null, at),
      null,
    ]);
    expect(events.map((event) => [event.type, event.version])).toEqual([['SubscriptionDisabled', 2]]);
    expect(state).toMatchObject({ status: 'disabled', version: 2 });
  });

  it('numbers two decisions version+1 and version+2, the second applied on top of the first', async () => {
    const current = await created();
    // Both decided on the same state, so both claim version 2.
    const { state, events } = apply(current, (state, at) => [
      decideUpdate(state, { description: 'changed' }, at),
      decideDisable(state, 'partner', null, at),
    ]);
    expect(events.map((event) => [event.type, event.version])).toEqual([
      ['SubscriptionUpdated', 2],
      ['SubscriptionDisabled', 3],
    ]);
    expect(state).toMatchObject({ version: 3, description: 'changed', status: 'disabled' });
  });

  it('with no decisions returns no events and the state unchanged', async () => {
    const current = await created();
    for (const decide of [() => [], () => [null, null]] satisfies Decide[]) {
      const { state, events } = apply(current, decide);
      expect(events).toEqual([]);
      expect(state).toBe(current);
    }
  });
});
