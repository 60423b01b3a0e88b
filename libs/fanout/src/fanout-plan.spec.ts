import { type InboundEvent, type SubscriptionEvent } from '@skyhook/contracts';
import { FanoutRejection, planFanout } from './fanout-plan';
import { OrganisationDirectory } from './organisation-directory';
import { SubscriptionIndex } from './subscription-index';

const at = '2026-05-31T14:03:22.000Z';
let version = new Map<string, number>();

function created(
  id: string,
  eventTypes: string[],
  scopeFilter: Record<string, string> = {},
  organisationId = 'org_a',
  policy: Record<string, unknown> = {},
): SubscriptionEvent {
  version.set(id, 1);
  return {
    type: 'SubscriptionCreated',
    subscriptionId: id,
    organisationId,
    version: 1,
    occurredAt: at,
    fields: { url: 'https://93.184.216.34/', description: '', eventTypes, scopeFilter, policy },
    secrets: [{ id: 's', encrypted: 'x', hint: 'h', createdAt: at, retiresAt: null }],
    expiresAt: null,
  };
}

function next(
  id: string,
  change: Record<string, unknown> & { type: SubscriptionEvent['type'] },
  organisationId = 'org_a',
): SubscriptionEvent {
  const v = (version.get(id) ?? 0) + 1;
  version.set(id, v);
  return { subscriptionId: id, organisationId, version: v, occurredAt: at, ...change } as SubscriptionEvent;
}

function event(
  type: string,
  scope: Record<string, string> = {},
  extra: Partial<InboundEvent> = {},
): InboundEvent {
  return { id: 'evt_1', type, organisationId: 'org_a', scope, occurredAt: at, data: { n: 1 }, ...extra };
}

function setup(): { index: SubscriptionIndex; directory: OrganisationDirectory } {
  version = new Map();
  const index = new SubscriptionIndex();
  const directory = new OrganisationDirectory();
  for (const organisationId of ['org_a', 'org_b']) {
    directory.apply({
      organisationId,
      eventTypes: ['booking.created', 'booking.cancelled', 'mel.deferral.expiring', 'FLIGHT_TIME_UPDATE'],
      profile: 'standard-webhooks',
      defaultPolicy: {},
      updatedAt: at,
    });
  }
  return { index, directory };
}

function matchedIds(plan: ReturnType<typeof planFanout>): string[] {
  if (plan.kind !== 'deliver') throw new Error(`expected deliveries, got ${plan.reason}`);
  return plan.requests.map((request) => request.subscriptionId).sort();
}

describe('fan-out matching', () => {
  it('matches exact, wildcard and prefix filters, each subscription once', () => {
    const { index, directory } = setup();
    index.apply(created('exact', ['booking.created']));
    index.apply(created('star', ['*']));
    index.apply(created('prefix', ['booking.*', 'booking.created']));
    index.apply(created('deep', ['mel.deferral.*']));
    index.apply(created('other', ['booking.cancelled']));
    index.apply(created('upper', ['FLIGHT_TIME_UPDATE']));
    expect(matchedIds(planFanout(event('booking.created'), at, index, directory))).toEqual([
      'exact',
      'prefix',
      'star',
    ]);
    expect(matchedIds(planFanout(event('mel.deferral.expiring'), at, index, directory))).toEqual([
      'deep',
      'star',
    ]);
    expect(matchedIds(planFanout(event('FLIGHT_TIME_UPDATE'), at, index, directory))).toEqual([
      'star',
      'upper',
    ]);
  });

  it("delivers Skyhook's notifications to the endpoints that name them, whatever their scope filter, not to `*`, without a catalogue entry", () => {
    const { index, directory } = setup();
    index.apply(created('star', ['*']));
    index.apply(created('notices', ['skyhook.*']));
    index.apply(created('disabled-only', ['skyhook.subscription.disabled'], { centerId: 'c1' }));
    expect(matchedIds(planFanout(event('skyhook.subscription.disabled'), at, index, directory))).toEqual([
      'disabled-only',
      'notices',
    ]);
    expect(matchedIds(planFanout(event('skyhook.replay.completed'), at, index, directory))).toEqual([
      'notices',
    ]);
    // The reserved domain holds only Skyhook's types: another name in it is not in any catalogue.
    expect(planFanout(event('skyhook.invented'), at, index, directory)).toMatchObject({
      kind: 'reject',
      reason: FanoutRejection.UnknownEventType,
    });
  });

  it('applies the scope filter: every key must match the event scope', () => {
    const { index, directory } = setup();
    index.apply(created('center-1', ['*'], { centerId: 'c1' }));
    index.apply(created('center-1-op', ['*'], { centerId: 'c1', operatorId: 'o9' }));
    index.apply(created('unscoped', ['*']));
    expect(
      matchedIds(planFanout(event('booking.created', { centerId: 'c1' }), at, index, directory)),
    ).toEqual(['center-1', 'unscoped']);
    expect(
      matchedIds(
        planFanout(event('booking.created', { centerId: 'c1', operatorId: 'o9' }), at, index, directory),
      ),
    ).toEqual(['center-1', 'center-1-op', 'unscoped']);
  });

  it('never matches across organisations', () => {
    const { index, directory } = setup();
    index.apply(created('b-star', ['*'], {}, 'org_b'));
    expect(matchedIds(planFanout(event('booking.created'), at, index, directory))).toEqual([]);
  });

  it('follows the lifecycle: disabled drops, re-enabled matches, expired and deleted never match', () => {
    const { index, directory } = setup();
    index.apply(created('s', ['*']));
    index.apply(next('s', { type: 'SubscriptionDisabled', reason: 'partner', detail: null }));
    expect(matchedIds(planFanout(event('booking.created'), at, index, directory))).toEqual([]);
    index.apply(next('s', { type: 'SubscriptionEnabled' }));
    expect(matchedIds(planFanout(event('booking.created'), at, index, directory))).toEqual(['s']);
    index.apply(next('s', { type: 'SubscriptionExpired' }));
    expect(matchedIds(planFanout(event('booking.created'), at, index, directory))).toEqual([]);
    index.apply(created('d', ['*']));
    index.apply(next('d', { type: 'SubscriptionDeleted' }));
    expect(index.size).toBe(1);
    expect(matchedIds(planFanout(event('booking.created'), at, index, directory))).toEqual([]);
  });

  it('holds deliveries for a disabled subscription whose policy says hold', () => {
    const { index, directory } = setup();
    index.apply(created('held', ['*'], {}, 'org_a', { whileDisabled: 'hold' }));
    index.apply(
      next('held', { type: 'SubscriptionDisabled', reason: 'circuit-breaker', detail: '5 failures' }),
    );
    const plan = planFanout(event('booking.created'), at, index, directory);
    expect(
      plan.kind === 'deliver' && plan.requests.map((request) => [request.subscriptionId, request.held]),
    ).toEqual([['held', true]]);
  });

  it('ignores re-delivered and out-of-date events', () => {
    const { index, directory } = setup();
    const creation = created('s', ['booking.created']);
    index.apply(creation);
    const disable = next('s', { type: 'SubscriptionDisabled', reason: 'partner', detail: null });
    index.apply(disable);
    index.apply(creation);
    index.apply(disable);
    expect(index.get('s')?.status).toBe('disabled');
    const deleted = next('s', { type: 'SubscriptionDeleted' });
    index.apply(deleted);
    index.apply(creation);
    expect(index.size).toBe(0);
    expect(matchedIds(planFanout(event('booking.created'), at, index, directory))).toEqual([]);
  });

  it('counts subscriptions per status, every status present, deleted ones gone', () => {
    const { index } = setup();
    expect(index.countsByStatus()).toEqual({ active: 0, disabled: 0, revoked: 0, expired: 0 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) index.apply(created(id, ['booking.created']));
    index.apply(next('a', { type: 'SubscriptionDisabled', reason: 'circuit-breaker', detail: '5 failures' }));
    index.apply(next('b', { type: 'SubscriptionDisabled', reason: 'partner', detail: null }));
    index.apply(next('b', { type: 'SubscriptionEnabled' }));
    index.apply(next('c', { type: 'SubscriptionExpired' }));
    index.apply(next('d', { type: 'SubscriptionDeleted' }));
    expect(index.countsByStatus()).toEqual({ active: 2, disabled: 1, revoked: 0, expired: 1 });
  });

  it('re-indexes a subscription whose filters change', () => {
    const { index, directory } = setup();
    index.apply(created('s', ['booking.created']));
    index.apply(next('s', { type: 'SubscriptionUpdated', changes: { eventTypes: ['mel.*'] } }));
    expect(matchedIds(planFanout(event('booking.created'), at, index, directory))).toEqual([]);
    expect(matchedIds(planFanout(event('mel.deferral.expiring'), at, index, directory))).toEqual(['s']);
  });

  it('gives the same event and subscription the same delivery id, every time', () => {
    const { index, directory } = setup();
    index.apply(created('s', ['*']));
    const first = planFanout(event('booking.created'), at, index, directory);
    const second = planFanout(event('booking.created'), at, index, directory);
    const other = planFanout(event('booking.created', {}, { id: 'evt_2' }), at, index, directory);
    if (first.kind !== 'deliver' || second.kind !== 'deliver' || other.kind !== 'deliver')
      throw new Error('expected deliveries');
    expect(first.requests[0]?.deliveryId).toBe(second.requests[0]?.deliveryId);
    expect(first.requests[0]?.deliveryId).not.toBe(other.requests[0]?.deliveryId);
    expect(first.requests[0]?.deliveryId).toMatch(/^del_[A-Za-z0-9_-]{26}$/);
  });

  it('rejects an event type outside the catalogue, and an unknown organisation', () => {
    const { index, directory } = setup();
    expect(planFanout(event('invoice.paid'), at, index, directory)).toMatchObject({
      kind: 'reject',
      reason: FanoutRejection.UnknownEventType,
    });
    expect(
      planFanout(event('booking.created', {}, { organisationId: 'org_z' }), at, index, directory),
    ).toMatchObject({
      kind: 'reject',
      reason: FanoutRejection.UnknownOrganisation,
    });
  });

  it('sends a test event to its one target, never across organisations', () => {
    const { index, directory } = setup();
    index.apply(created('mine', ['booking.created']));
    index.apply(created('theirs', ['*'], {}, 'org_b'));
    expect(
      matchedIds(planFanout(event('webhook.test', {}, { deliverTo: 'mine' }), at, index, directory)),
    ).toEqual(['mine']);
    expect(
      matchedIds(planFanout(event('webhook.test', {}, { deliverTo: 'theirs' }), at, index, directory)),
    ).toEqual([]);
  });

  it('gives an ordered subscription’s requests their ordering key (tests excepted), and follows ordering being turned on and off', () => {
    const { index, directory } = setup();
    const ordered = created('ordered', ['booking.*']);
    if (ordered.type !== 'SubscriptionCreated') throw new Error('unreachable');
    index.apply({
      ...ordered,
      fields: { ...ordered.fields, ordering: { key: '/data/n', afterFinalFailure: 'skip' } },
    });
    index.apply(created('plain', ['booking.*']));
    const plan = planFanout(event('booking.created'), at, index, directory);
    if (plan.kind !== 'deliver') throw new Error('expected deliveries');
    const keys = Object.fromEntries(
      plan.requests.map((request) => [request.subscriptionId, request.orderingKey]),
    );
    expect(keys).toEqual({ ordered: '1', plain: undefined });
    expect('orderingKey' in (plan.requests.find((r) => r.subscriptionId === 'plain') ?? {})).toBe(false);

    const test = planFanout(event('booking.created', {}, { deliverTo: 'ordered' }), at, index, directory);
    expect(test.kind === 'deliver' && test.requests[0]?.orderingKey).toBeUndefined();

    index.apply(next('ordered', { type: 'SubscriptionUpdated', changes: { ordering: null } }));
    const after = planFanout(event('booking.created'), at, index, directory);
    expect(after.kind === 'deliver' && after.requests.every((r) => r.orderingKey === undefined)).toBe(true);
  });
});
