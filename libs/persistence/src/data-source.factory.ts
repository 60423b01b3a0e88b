import { DataSource } from 'typeorm';
import { type ServiceLogger } from '@skyhook/observability';
import { type DatabaseSettings } from './database-config';
import { MIGRATIONS } from './schema';
import { TypeOrmPinoLogger } from './typeorm-pino.logger';

const DEFAULT_QUERY_TIMEOUT_MS = 60_000;

/** The schema is owned by migrations: `synchronize` stays off everywhere, tests included. */
export function createDataSource(
  settings: DatabaseSettings,
  applicationName: string,
  logger?: ServiceLogger,
): DataSource {
  return new DataSource({
    type: 'postgres',
    url: settings.url,
    ssl: settings.ssl,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'schema_migrations',
    entities: [],
    migrations: MIGRATIONS,
    applicationName,
    connectTimeoutMS: settings.connectTimeoutMs,
    extra: {
      max: settings.poolSize,
      statement_timeout: settings.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
      // Client side, a little later than the server's cancel: for a connection that never answers.
      query_timeout: (settings.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS) + 5_000,
    },
    // Without a service logger (tools, tests) TypeORM stays quiet; errors still reject.
    logging: logger === undefined ? false : ['error', 'warn', 'migration'],
    logger: logger === undefined ? undefined : new TypeOrmPinoLogger(logger),
    maxQueryExecutionTime: 1_000,
  });
}
