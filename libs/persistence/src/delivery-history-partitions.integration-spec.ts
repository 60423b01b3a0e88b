import { type DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@skyhook/testing';
import { createDataSource } from './data-source.factory';
import { DeliveryHistoryPartitions, historyDayOf } from './delivery-history-partitions';
import { runMigrations } from './run-migrations';

const DAY_MS = 86_400_000;

describe('delivery history partitions against a real PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeEach(async () => {
    database = await createTestDatabase('history_partitions');
    dataSource = await createDataSource(
      { url: database.url, poolSize: 4, ssl: false, connectTimeoutMs: 2_000 },
      'skyhook-test',
    ).initialize();
    await runMigrations(dataSource);
  });

  afterEach(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  async function insertDelivery(publishedAt: Date, deliveryId: string): Promise<void> {
    await dataSource.query(
      `INSERT INTO deliveries (published_at, delivery_id, organisation_id, subscription_id, event_id,
         event_type, test, status, attempt_count, status_at)
       VALUES ($1, $2, 'org_1', 'sub_1', 'evt_1', 'flight.departed', false, 'delivered', 1, now())`,
      [publishedAt, deliveryId],
    );
  }

  it('refuses a row whose day has no partition, and takes it once the day is ensured', async () => {
    const partitions = new DeliveryHistoryPartitions(dataSource);
    const at = new Date('2026-11-20T23:59:59.999Z');
    await expect(insertDelivery(at, 'del_1')).rejects.toThrow(/no partition/);
    await partitions.ensureDays([at, at.getTime()]);
    await partitions.ensureDays([at]);
    await insertDelivery(at, 'del_1');
    expect((await partitions.list()).map((partition) => partition.name)).toEqual([
      'deliveries_p20261120',
      'delivery_attempts_p20261120',
    ]);
  });

  it('creates the same days from several processes at once without error', async () => {
    const others = await Promise.all(
      [1, 2, 3].map(() =>
        createDataSource(
          { url: database.url, poolSize: 2, ssl: false, connectTimeoutMs: 2_000 },
          'skyhook-test',
        ).initialize(),
      ),
    );
    try {
      const days = [0, 1, 2].map((n) => Date.parse('2026-11-01T12:00:00Z') + n * DAY_MS);
      await Promise.all(
        [dataSource, ...others].map((source) => new DeliveryHistoryPartitions(source).ensureDays(days)),
      );
      expect(await new DeliveryHistoryPartitions(dataSource).list()).toHaveLength(6);
    } finally {
      await Promise.all(others.map((source) => source.destroy()));
    }
  });

  it('drops whole days before the cutoff, rows, publish times and all, and keeps the day the cutoff falls in', async () => {
    const partitions = new DeliveryHistoryPartitions(dataSource);
    const today = historyDayOf(new Date('2026-11-23T10:00:00Z'));
    const days = [40, 31, 30, 29, 0].map((n) => new Date(today.getTime() - n * DAY_MS + 3_600_000));
    await partitions.ensureDays(days);
    for (const [index, day] of days.entries()) {
      await insertDelivery(day, `del_${index}`);
      await dataSource.query(
        'INSERT INTO delivery_publish_times (delivery_id, published_at) VALUES ($1, $2)',
        [`del_${index}`, day],
      );
    }

    const cutoff = new Date(Date.parse('2026-11-23T10:00:00Z') - 30 * DAY_MS);
    const dropped = await partitions.dropDaysBefore(cutoff);

    expect(dropped.map((partition) => partition.name).sort()).toEqual([
      'deliveries_p20261014',
      'deliveries_p20261023',
      'delivery_attempts_p20261014',
      'delivery_attempts_p20261023',
    ]);
    const left = await dataSource.query<{ delivery_id: string }[]>(
      'SELECT delivery_id FROM deliveries ORDER BY delivery_id',
    );
    expect(left.map((row) => row.delivery_id)).toEqual(['del_2', 'del_3', 'del_4']);
    const filed = await dataSource.query<{ delivery_id: string }[]>(
      'SELECT delivery_id FROM delivery_publish_times ORDER BY delivery_id',
    );
    expect(filed.map((row) => row.delivery_id)).toEqual(['del_2', 'del_3', 'del_4']);
    expect(await partitions.dropDaysBefore(cutoff)).toEqual([]);
    // A dropped day is forgotten: writing to it again recreates it rather than failing.
    await partitions.ensureDays([days[0] as Date]);
    await insertDelivery(days[0] as Date, 'del_again');
  });
});
