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
});

export type DatabaseEnvironment = z.infer<typeof databaseEnvironmentSchema>;

export interface DatabaseSettings {
  readonly url: string;
  readonly poolSize: number;
  readonly ssl: boolean;
  readonly connectTimeoutMs: number;
}

export function databaseSettingsFrom(environment: DatabaseEnvironment): DatabaseSettings {
  return {
    url: environment.DATABASE_URL,
    poolSize: environment.DATABASE_POOL_SIZE,
    ssl: environment.DATABASE_SSL,
    connectTimeoutMs: environment.DATABASE_CONNECT_TIMEOUT_MS,
  };
}

/** host:port/database, never the credentials: safe for logs and error messages. */
export function describeDatabase(settings: Pick<DatabaseSettings, 'url'>): string {
  const url = new URL(settings.url);
  return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
}
