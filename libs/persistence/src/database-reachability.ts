import { Client } from 'pg';
import { type DatabaseSettings, describeDatabase } from './database-config';

export class DatabaseUnreachableError extends Error {
  constructor(settings: DatabaseSettings, reason: string) {
    super(`PostgreSQL at ${describeDatabase(settings)} unreachable: ${reason}`);
    this.name = 'DatabaseUnreachableError';
  }
}

/** One connection and `SELECT 1`, bounded in time: a clear start-up error instead of a hang. */
export async function assertDatabaseReachable(settings: DatabaseSettings): Promise<void> {
  const client = new Client({
    connectionString: settings.url,
    ssl: settings.ssl,
    connectionTimeoutMillis: settings.connectTimeoutMs,
  });
  // A failed connect still emits 'error' on some paths; without a listener Node would crash.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new DatabaseUnreachableError(
      settings,
      error instanceof Error ? error.message || error.name : String(error),
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
