// Jest applies moduleNameMapper to tests, not to global setup: resolve @skyhook/* here.
import 'tsconfig-paths/register';
import { join } from 'node:path';
import { provisionInfrastructure } from '@skyhook/local-infrastructure';
import { TEST_INFRASTRUCTURE_ENV } from '../test-infrastructure-env';

/**
 * One Kafka broker and one PostgreSQL server for the whole integration run, shared by every
 * test file (each isolates itself by unique topic, group and database names). Their
 * addresses reach the test workers through the environment, which workers inherit.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const infrastructure = await provisionInfrastructure({
    stateDir: join(process.cwd(), 'tmp', 'test-infrastructure'),
    log: (message) => process.stderr.write(`[test infrastructure] ${message}\n`),
  });
  process.env[TEST_INFRASTRUCTURE_ENV.kafkaBrokers] = infrastructure.kafkaBrokers;
  process.env[TEST_INFRASTRUCTURE_ENV.postgresAdminUrl] = infrastructure.postgresAdminUrl;
  process.stderr.write(
    `[test infrastructure] ready in ${Date.now() - started} ms: Kafka ${infrastructure.kafkaBrokers} (${infrastructure.kafkaOrigin}), PostgreSQL (${infrastructure.postgresOrigin})\n`,
  );
  (globalThis as { skyhookTestInfrastructure?: typeof infrastructure }).skyhookTestInfrastructure =
    infrastructure;
}
