/**
 * `npm run rebuild:subscriptions`: replaces the subscription read model with the state the
 * subscription topic (plus not-yet-relayed events) says it should have. Reads the same
 * environment as the api service.
 */
import 'reflect-metadata';
import { createKafkaClient } from '@skyhook/messaging';
import { createDataSource, runMigrations } from '@skyhook/persistence';
import { createServiceLogger } from '@skyhook/observability';
import { loadApiConfig } from './api.config';
import { rebuildSubscriptionReadModel } from './subscriptions/subscription-read-model.rebuild';

async function main(): Promise<void> {
  const config = loadApiConfig({ PORT: '0', ...process.env });
  const logger = createServiceLogger({ service: 'api-rebuild', level: config.LOG_LEVEL });
  const dataSource = await createDataSource(config.database, 'skyhook-api-rebuild', logger).initialize();
  try {
    await runMigrations(dataSource);
    const summary = await rebuildSubscriptionReadModel(
      dataSource,
      createKafkaClient(config.kafka, logger),
      config.kafka,
    );
    logger.info(summary, 'subscription read model rebuilt');
    logger.flush();
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`skyhook rebuild: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
