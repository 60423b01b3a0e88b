import { DataSource } from 'typeorm';
import { type DatabaseSettings } from './database-config';
import { ENTITIES, MIGRATIONS } from './schema';

/** The schema is owned by migrations: `synchronize` stays off everywhere, tests included. */
export function createDataSource(settings: DatabaseSettings, applicationName: string): DataSource {
  return new DataSource({
    type: 'postgres',
    url: settings.url,
    ssl: settings.ssl,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'schema_migrations',
    entities: ENTITIES,
    migrations: MIGRATIONS,
    applicationName,
    connectTimeoutMS: settings.connectTimeoutMs,
    extra: { max: settings.poolSize },
    logging: ['error', 'warn', 'migration'],
  });
}
