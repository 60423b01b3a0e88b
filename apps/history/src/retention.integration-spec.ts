import { DeliveryHistoryPartitions, historyDayOf, historyPartitionName } from '@skyhook/persistence';
import { pollUntil } from '@skyhook/testing';
import { deliveryEventStream, HistoryHarness, metricValue } from './test/history-harness';

const DAY_MS = 86_400_000;

describe('history retention against a real PostgreSQL', () => {
  let harness: HistoryHarness;
  let partitions: DeliveryHistoryPartitions;

  beforeAll(async () => {
    harness = await HistoryHarness.create({
      HISTORY_RETENTION_DAYS: '30',
      HISTORY_RETENTION_CHECK_INTERVAL_MS: '1000',
    });
    partitions = new DeliveryHistoryPartitions(harness.dataSource);
  });

  afterAll(async () => {
    await harness.close();
  });

  function daysAgo(days: number): Date {
    return new Date(Date.now() - days * DAY_MS);
  }

  async function partitionNames(): Promise<string[]> {
    return (await partitions.list()).map((partition) => partition.name);
  }

  /** A delivery with one attempt, written straight into the day's partitions. */
  async function seedDay(publishedAt: Date, deliveryId: string): Promise<void> {
    await partitions.ensureDays([publishedAt]);
    await harness.dataSource.query(
      `INSERT INTO deliveries (published_at, delivery_id, organisation_id, subscription_id, event_id,
         event_type, test, status, attempt_count, status_at)
       VALUES ($1, $2, 'org_1', 'sub_1', 'evt_1', 'booking.created', false, 'delivered', 1, $1)`,
      [publishedAt, deliveryId],
    );
    await harness.dataSource.query(
      `INSERT INTO delivery_attempts (published_at, delivery_id, attempt_number, organisation_id,
         subscription_id, attempted_at, duration_ms, url, request_headers, request_body_bytes, outcome, result)
       VALUES ($1, $2, 1, 'org_1', 'sub_1', $1, 10, 'https://hooks.example.com', '{}', 2, 'success', 'delivered')`,
      [publishedAt, deliveryId],
    );
  }

  function namesOfDay(day: Date): [string, string] {
    return [
      historyPartitionName('deliveries', historyDayOf(day)),
      historyPartitionName('delivery_attempts', historyDayOf(day)),
    ];
  }

  it('drops expired days at start and on every check, creates today and tomorrow ahead, never writes events of an expired day and recreates a day dropped under it', async () => {
    const [fiftyDaysAgo, fortyDaysAgo, twoDaysAgo] = [daysAgo(50), daysAgo(40), daysAgo(2)];
    await seedDay(fiftyDaysAgo, 'del_seeded_50');
    await seedDay(twoDaysAgo, 'del_seeded_2');

    const history = await harness.startHistory();
    try {
      // The first check runs before the service answers at all.
      const atStart = await partitionNames();
      for (const name of namesOfDay(fiftyDaysAgo)) expect(atStart).not.toContain(name);
      expect(atStart).toEqual(
        expect.arrayContaining([
          ...namesOfDay(twoDaysAgo),
          ...namesOfDay(new Date()),
          ...namesOfDay(daysAgo(-1)),
        ]),
      );

      // A day that expires while the service runs goes at the next check.
      await seedDay(fortyDaysAgo, 'del_seeded_40');
      await pollUntil(
        async () => {
          const names = await partitionNames();
          return namesOfDay(fortyDaysAgo).every((name) => !names.includes(name));
        },
        { timeoutMs: 10_000, description: 'the partitions of 40 days ago dropped' },
      );
      // Two tables, at start (50 days ago) and at a later check (40 days ago). The service counts
      // a drop once its transaction has committed, so the count can trail the drop seen above.
      await pollUntil(
        async () => (await metricValue(history, 'skyhook_history_partitions_dropped_total')) >= 4,
        { timeoutMs: 5_000, description: 'four partitions counted as dropped' },
      );
      expect(await metricValue(history, 'skyhook_history_partitions_dropped_total')).toBe(4);
      expect(
        await metricValue(history, 'skyhook_history_partitions_dropped_total', { table: 'deliveries' }),
      ).toBe(2);

      const old = deliveryEventStream(100, fortyDaysAgo.toISOString());
      const recent = deliveryEventStream(100, twoDaysAgo.toISOString());
      await harness.produce([...old.events, ...recent.events]);
      await harness.waitForCounts(recent.expected.size + 1, recent.attempts + 1);
      await harness.waitUntilCaughtUp();
      expect(await metricValue(history, 'skyhook_history_events_expired_total')).toBe(old.events.length);
      const names = await partitionNames();
      for (const name of namesOfDay(fortyDaysAgo)) expect(names).not.toContain(name);
      const [oldest] = await harness.dataSource.query<{ oldest: Date }[]>(
        'SELECT min(published_at) AS oldest FROM deliveries',
      );
      expect(oldest?.oldest.getTime()).toBe(twoDaysAgo.getTime());

      // Another process drops a day this one has cached (a retention race, an operator): the
      // write finds no partition, the day is created again and the batch written, not failed.
      await harness.dataSource.query(
        `DROP TABLE ${namesOfDay(twoDaysAgo)
          .map((name) => `"${name}"`)
          .join(', ')}`,
      );
      const again = deliveryEventStream(50, twoDaysAgo.toISOString(), 1_000);
      await harness.produce(again.events);
      await harness.waitForCounts(again.expected.size, again.attempts);
      expect(await harness.mismatchedDeliveries(again.expected)).toEqual([]);
      expect(await metricValue(history, 'skyhook_history_batch_failures_total')).toBe(0);
    } finally {
      expect(await history.stop('SIGTERM')).toBe(0);
    }
  });
});
