import { SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { CreateSubscription } from '../create-subscription/create-subscription.usecase';
import { type SubscriptionChange } from '../ports';
import { fakeDependencies, InMemorySubscriptionStore, ORGANISATION } from '../test/fakes';
import { ExpireDueSubscriptions } from './expire-due-subscriptions.usecase';

const DAY_MS = 24 * 3_600_000;
const organisation = { ...ORGANISATION, subscriptionLifetimeDays: 30 };

/** A store whose changes to the listed subscriptions fail, as a lost connection would. */
class FailingFor extends InMemorySubscriptionStore {
  constructor(readonly failing: Set<string>) {
    super();
  }

  override change(
    organisationId: string,
    subscriptionId: string,
    change: (
      current: Parameters<Parameters<InMemorySubscriptionStore['change']>[2]>[0],
    ) => SubscriptionChange,
  ): Promise<SubscriptionChange> {
    if (this.failing.has(subscriptionId)) {
      return Promise.reject(new SubscriptionError(SubscriptionErrorCode.VersionConflict, 'lost the row'));
    }
    return super.change(organisationId, subscriptionId, change);
  }
}

async function withSubscriptions(count: number, store = new InMemorySubscriptionStore()) {
  const deps = fakeDependencies({ store });
  const create = new CreateSubscription(deps);
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const { subscription } = await create.execute({
      organisation,
      url: `https://receiver.example/hooks/${index}`,
      description: '',
      eventTypes: ['*'],
      scopeFilter: {},
      policy: {},
    });
    ids.push(subscription.id);
  }
  return { deps, ids, scan: new ExpireDueSubscriptions(deps) };
}

describe('ExpireDueSubscriptions', () => {
  it('expires nothing before the lifetime has passed', async () => {
    const { scan } = await withSubscriptions(3);
    expect(await scan.execute()).toEqual({ expired: 0, failures: [] });
  });

  it('expires every due subscription, batch after batch', async () => {
    const { deps, ids, scan } = await withSubscriptions(5);
    deps.clock.set(new Date(deps.clock.now().getTime() + 30 * DAY_MS));
    expect(await scan.execute(2)).toEqual({ expired: 5, failures: [] });
    expect(ids.map((id) => deps.store.subscriptions.get(id)?.status)).toEqual(Array(5).fill('expired'));
  });

  it('reports one that fails and still expires the others', async () => {
    const store = new FailingFor(new Set());
    const { deps, ids, scan } = await withSubscriptions(3, store);
    store.failing.add(ids[1] ?? '');
    deps.clock.set(new Date(deps.clock.now().getTime() + 30 * DAY_MS));
    const { expired, failures } = await scan.execute(2);
    expect(expired).toBe(2);
    expect(failures.map(({ subscription }) => subscription.id)).toEqual([ids[1]]);
    expect(deps.store.subscriptions.get(ids[1] ?? '')?.status).toBe('active');
  });

  it('stops when a whole batch fails rather than repeat it forever', async () => {
    const store = new FailingFor(new Set());
    const { deps, ids, scan } = await withSubscriptions(2, store);
    for (const id of ids) store.failing.add(id);
    deps.clock.set(new Date(deps.clock.now().getTime() + 30 * DAY_MS));
    const { expired, failures } = await scan.execute(2);
    expect(expired).toBe(0);
    expect(failures).toHaveLength(2);
  });
});
