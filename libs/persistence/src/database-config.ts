import { z } from 'zod';

export const databaseEnvironmentSchema = z.object({
  DATABASE_URL: z.string().refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'expected postgres://user[:password]@host[:port]/database'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_SSL: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .default(false),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
});

export type DatabaseEnvironment = z.infer<typeof databaseEnvironmentSchema>;

export interface DatabaseSettings {
  readonly url: string;
  readonly poolSize: number;
  readonly ssl: boolean;
  readonly connectTimeoutMs: number;
  /**
   * A statement running longer is cancelled by the server, and a query without any answer
   * (a connection that hangs rather than fails) is abandoned by the client a little later, so a
   * stalled database fails the work in hand, which is retried, instead of holding it forever.
   * Migrations run under it too: raise it for one that rewrites a large table. Default 60 s.
   */
  readonly queryTimeoutMs?: number;
}

export function databaseSettingsFrom(environment: DatabaseEnvironment): DatabaseSettings {
  return {
    url: environment.DATABASE_URL,
    poolSize: environment.DATABASE_POOL_SIZE,
    ssl: environment.DATABASE_SSL,
    connectTimeoutMs: environment.DATABASE_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: environment.DATABASE_QUERY_TIMEOUT_MS,
  };
}

/** host:port/database, never the credentials: safe for logs and error messages. */
export function describeDatabase(settings: Pick<DatabaseSettings, 'url'>): string {
  const url = new URL(settings.url);
  return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
}
