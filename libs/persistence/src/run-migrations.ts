import { type DataSource } from 'typeorm';

/** Any fixed 64-bit number; every Skyhook instance migrating the same database agrees on it. */
const MIGRATION_LOCK_KEY = 7_236_014_522_101;

/**
 * Applies pending migrations under a Postgres advisory lock, so several services (or
 * replicas) starting together never race to apply the same migration. Returns the names of
 * the migrations this call applied.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const queryRunner = dataSource.createQueryRunner();
  await queryRunner.connect();
  try {
    await queryRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((migration) => migration.name);
    } finally {
      await queryRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await queryRunner.release();
  }
}
