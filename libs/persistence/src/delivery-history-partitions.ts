import { type DataSource } from 'typeorm';

/** The two history tables, partitioned by day of `published_at` (see the migration). */
export const HISTORY_TABLES = ['deliveries', 'delivery_attempts'] as const;
export type HistoryTable = (typeof HISTORY_TABLES)[number];

const DAY_MS = 86_400_000;
const PARTITION_NAME = /^(deliveries|delivery_attempts)_p(\d{4})(\d{2})(\d{2})$/;
/** Serialises partition DDL between history instances (any fixed 64-bit number unique to this use). */
const PARTITION_DDL_LOCK = 7_146_251_931;

/** Midnight UTC of the day `at` falls in. */
export function historyDayOf(at: Date | number): Date {
  const ms = typeof at === 'number' ? at : at.getTime();
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS);
}

/** `name` is that of a day partition of a history table. */
export function isHistoryPartitionName(name: string): boolean {
  return PARTITION_NAME.test(name);
}

export function historyPartitionName(table: HistoryTable, day: Date): string {
  return `${table}_p${day.toISOString().slice(0, 10).replaceAll('-', '')}`;
}

export interface HistoryPartition {
  readonly table: HistoryTable;
  readonly name: string;
  /** First instant of the day the partition holds (UTC). */
  readonly day: Date;
}

/**
 * Creates and drops the daily partitions of the history tables. Every write of a row first
 * makes sure its day's partitions exist (`ensureDays`, cached, so once per day per process);
 * retention drops whole days (`dropDaysBefore`).
 */
export class DeliveryHistoryPartitions {
  private readonly knownDays = new Set<number>();

  constructor(private readonly dataSource: DataSource) {}

  /** Creates the partitions of each given day that do not exist yet. */
  async ensureDays(instants: Iterable<Date | number>): Promise<void> {
    const missing = new Set<number>();
    for (const instant of instants) {
      const day = historyDayOf(instant).getTime();
      if (!this.knownDays.has(day)) missing.add(day);
    }
    if (missing.size === 0) return;
    await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_DDL_LOCK]);
      for (const dayMs of missing) {
        const day = new Date(dayMs);
        const from = day.toISOString();
        const to = new Date(dayMs + DAY_MS).toISOString();
        for (const table of HISTORY_TABLES) {
          await manager.query(
            `CREATE TABLE IF NOT EXISTS "${historyPartitionName(table, day)}" PARTITION OF "${table}"
             FOR VALUES FROM ('${from}') TO ('${to}')`,
          );
        }
        // A subscription belongs to one organisation. Without this the planner multiplies the two
        // selectivities, expects a handful of rows for a subscription page, and sorts every row of
        // the subscription instead of reading the newest 50 off the index (bench/RESULTS.md).
        const deliveries = historyPartitionName('deliveries', day);
        await manager.query(
          `CREATE STATISTICS IF NOT EXISTS "${deliveries}_subscription_organisation" (dependencies)
           ON organisation_id, subscription_id FROM "${deliveries}"`,
        );
      }
    });
    for (const day of missing) this.knownDays.add(day);
  }

  /**
   * Forgets that the given days' partitions exist, so the next `ensureDays` creates them again:
   * for a writer whose insert found no partition because another process dropped the day after
   * this one cached it.
   */
  forgetDays(instants: Iterable<Date | number>): void {
    for (const instant of instants) this.knownDays.delete(historyDayOf(instant).getTime());
  }

  /** The history partitions that exist, oldest first. */
  async list(): Promise<HistoryPartition[]> {
    const rows = await this.dataSource.query<{ name: string }[]>(
      `SELECT child.relname AS name
         FROM pg_inherits
         JOIN pg_class child ON child.oid = pg_inherits.inhrelid
         JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
        WHERE parent.relname = ANY($1)`,
      [[...HISTORY_TABLES]],
    );
    const partitions: HistoryPartition[] = [];
    for (const { name } of rows) {
      const match = PARTITION_NAME.exec(name);
      if (match === null) continue;
      const [, table, year, month, date] = match;
      partitions.push({
        table: table as HistoryTable,
        name,
        day: new Date(`${year}-${month}-${date}T00:00:00.000Z`),
      });
    }
    return partitions.sort((a, b) => a.day.getTime() - b.day.getTime() || a.name.localeCompare(b.name));
  }

  /**
   * Drops every partition whose whole day lies before `cutoff` (a day that straddles the cutoff
   * is kept). Returns what it dropped.
   */
  async dropDaysBefore(cutoff: Date): Promise<HistoryPartition[]> {
    const expired = (await this.list()).filter(
      (partition) => partition.day.getTime() + DAY_MS <= cutoff.getTime(),
    );
    if (expired.length === 0) return [];
    await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_DDL_LOCK]);
      for (const partition of expired) {
        // A delivery is filed under the publish time of its row (`delivery_publish_times`), so
        // the day's deliveries name exactly the day's filings: those go with the day, and a copy
        // of one of its events arriving later opens a delivery afresh rather than one that is gone.
        if (partition.table === 'deliveries') {
          await manager.query(
            `DELETE FROM delivery_publish_times t USING "${partition.name}" d
              WHERE t.delivery_id = d.delivery_id AND t.published_at = d.published_at`,
          );
        }
        await manager.query(`DROP TABLE IF EXISTS "${partition.name}"`);
      }
    });
    for (const partition of expired) this.knownDays.delete(partition.day.getTime());
    return expired;
  }
}
