/**
 * Latency of the history API's queries, run through the api's own repository
 * (`DeliveryHistoryRepository`) on the generated 10-million-attempt history (history-data.ts).
 */
import { type DataSource } from 'typeorm';
import { microsecondInstantSql, type PagePosition } from '@skyhook/persistence';
import {
  type DeliveryListQuery,
  DeliveryHistoryRepository,
  deliveryPageSql,
  type DeliveryScope,
} from '@skyhook/delivery-history';
import { ORGANISATIONS, SUBSCRIPTIONS } from './history-data';

const RUNS = 200;
const LIMIT = 50;
/** How far down an organisation's history (of ~40,000 deliveries) the deep pages start. */
const DEEP_ROWS = 30_000;

export interface QueryLatency {
  readonly query: string;
  readonly runs: number;
  readonly rowsPerPage: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

async function time(query: string, run: (n: number) => Promise<number>): Promise<QueryLatency> {
  for (let n = 0; n < 10; n += 1) await run(RUNS + n); // warm the cache and the plan
  const durations: number[] = [];
  let rows = 0;
  for (let n = 0; n < RUNS; n += 1) {
    const started = performance.now();
    rows += await run(n);
    durations.push(performance.now() - started);
  }
  durations.sort((a, b) => a - b);
  return {
    query,
    runs: RUNS,
    rowsPerPage: Math.round(rows / RUNS),
    p50Ms: round(percentile(durations, 50)),
    p95Ms: round(percentile(durations, 95)),
    p99Ms: round(percentile(durations, 99)),
    maxMs: round(durations[durations.length - 1] ?? Number.NaN),
  };
}

/** Delivery number `i` is organisation `i % 100`'s delivery number `i / 100` from the newest. */
function deliveryIdOf(i: number): string {
  return `del_${String(i).padStart(9, '0')}`;
}

export async function measureHistoryQueries(
  dataSource: DataSource,
  deliveries: number,
  log: (message: string) => void,
): Promise<{ results: QueryLatency[]; table: string; plans: string[] }> {
  const repository = new DeliveryHistoryRepository(dataSource);
  const deepRows = Math.min(DEEP_ROWS, Math.floor(deliveries / ORGANISATIONS) - LIMIT * 2);
  const subscriptionDeepRows = Math.floor((deepRows * ORGANISATIONS) / SUBSCRIPTIONS);
  // Page positions are read up front so that the timed runs measure only the repository.
  const positions = new Map<number, PagePosition>();
  const positionOf = (i: number) => positions.get(i) as PagePosition;
  const orgIndexOf = (n: number) => (n + 1) % ORGANISATIONS;
  const subscriptionIndexOf = (n: number) => (n * 7 + 1) % SUBSCRIPTIONS;
  // Delivery i belongs to organisation i % 100 and subscription i % 1,000 (history-data.ts), so an
  // organisation's k-th newest delivery is number 100k + org, a subscription's is 1,000k + s.
  const deepOrgDelivery = (n: number) => deepRows * ORGANISATIONS + orgIndexOf(n);
  const deepSubscriptionDelivery = (n: number) =>
    subscriptionDeepRows * SUBSCRIPTIONS + subscriptionIndexOf(n);
  for (let n = 0; n < RUNS + 10; n += 1) {
    for (const i of [deepOrgDelivery(n), deepSubscriptionDelivery(n)]) {
      if (positions.has(i)) continue;
      const [row] = await dataSource.query<{ at: string }[]>(
        `SELECT ${microsecondInstantSql('published_at')} AS at FROM deliveries WHERE delivery_id = $1`,
        [deliveryIdOf(i)],
      );
      if (row === undefined) throw new Error(`${deliveryIdOf(i)} missing`);
      positions.set(i, { at: row.at, id: deliveryIdOf(i) });
    }
  }
  const orgOf = (n: number) => `org_${orgIndexOf(n)}`;
  const deepOf = (n: number) => positionOf(deepOrgDelivery(n));
  const subscriptionOf = (n: number) => {
    const s = subscriptionIndexOf(n);
    return { organisationId: `org_${s % ORGANISATIONS}`, subscriptionId: `sub_${s}` };
  };
  const subscriptionDeep = (n: number) => positionOf(deepSubscriptionDelivery(n));

  const scenarios: {
    name: string;
    scope: (n: number) => DeliveryScope;
    query: (n: number) => DeliveryListQuery;
  }[] = [
    {
      name: 'organisation, first page',
      scope: (n) => ({ organisationId: orgOf(n) }),
      query: () => ({ limit: LIMIT }),
    },
    {
      name: `organisation, deep page (${deepRows.toLocaleString('en-GB')} rows down)`,
      scope: (n) => ({ organisationId: orgOf(n) }),
      query: (n) => ({ limit: LIMIT, after: deepOf(n) }),
    },
    {
      name: 'organisation, status failed, first page',
      scope: (n) => ({ organisationId: orgOf(n) }),
      query: () => ({ limit: LIMIT, statuses: ['failed'] }),
    },
    {
      name: 'organisation, status failed, deep page',
      scope: (n) => ({ organisationId: orgOf(n) }),
      query: (n) => ({ limit: LIMIT, statuses: ['failed'], after: deepOf(n) }),
    },
    {
      name: 'organisation, status failed or retrying, deep page',
      scope: (n) => ({ organisationId: orgOf(n) }),
      query: (n) => ({ limit: LIMIT, statuses: ['failed', 'retrying'], after: deepOf(n) }),
    },
    {
      name: 'organisation, event type and 7-day window, deep page',
      scope: (n) => ({ organisationId: orgOf(n) }),
      query: (n) => ({
        limit: LIMIT,
        eventType: 'booking.created',
        since: new Date(Date.parse(deepOf(n).at) - 7 * 86_400_000),
        until: new Date(),
        after: deepOf(n),
      }),
    },
    { name: 'subscription, first page', scope: subscriptionOf, query: () => ({ limit: LIMIT }) },
    {
      name: `subscription, deep page (${subscriptionDeepRows.toLocaleString('en-GB')} rows down)`,
      scope: subscriptionOf,
      query: (n) => ({ limit: LIMIT, after: subscriptionDeep(n) }),
    },
  ];

  const results: QueryLatency[] = [];
  const plans: string[] = [];
  for (const scenario of scenarios) {
    log(`history query: ${scenario.name}`);
    results.push(
      await time(scenario.name, async (n) => {
        const scope = scenario.scope(n);
        const page =
          'subscriptionId' in scope
            ? await repository.listForSubscription(
                scope.organisationId,
                scope.subscriptionId,
                scenario.query(n),
              )
            : await repository.listForOrganisation(scope.organisationId, scenario.query(n));
        return page.deliveries.length;
      }),
    );
    const { sql, parameters } = deliveryPageSql(scenario.scope(0), scenario.query(0));
    const plan = await dataSource.query<{ 'QUERY PLAN': string }[]>(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`,
      parameters,
    );
    plans.push(`-- ${scenario.name}\n${plan.map((row) => row['QUERY PLAN']).join('\n')}`);
  }
  log('history query: one delivery with its attempts');
  results.push(
    await time('one delivery by id, with its attempts', async (n) => {
      const i = ((n * 9_973) % deliveries) + 1;
      const delivery = await repository.find(`org_${i % ORGANISATIONS}`, deliveryIdOf(i));
      if (delivery === undefined) throw new Error(`${deliveryIdOf(i)} not found`);
      return (await repository.attemptsOf(delivery)).length;
    }),
  );

  const table = [
    '| query | p50 ms | p95 ms | p99 ms | max ms | rows/page |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (r) => `| ${r.query} | ${r.p50Ms} | ${r.p95Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.rowsPerPage} |`,
    ),
  ].join('\n');
  return { results, table, plans };
}
