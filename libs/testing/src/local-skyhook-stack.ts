import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  dropDatabase,
  ensureDatabase,
  provisionInfrastructure,
  type ProvisionedInfrastructure,
} from '@skyhook/local-infrastructure';
import { pollUntil } from './poll-until';
import { type ServiceProcess, startService } from './service-process';
import { TEST_CA_CERT_PATH } from './test-tls';
import { uniqueTopicPrefix } from './unique-names';
import { type ReceiverBehaviour, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

/** The api first: it runs the migrations the history service writes into. */
export const LOCAL_STACK_SERVICES = ['api', 'fanout', 'dispatcher', 'history'] as const;

export interface LocalSkyhookStack {
  /** In the order of LOCAL_STACK_SERVICES. */
  readonly services: readonly ServiceProcess[];
  readonly receiver: WebhookReceiver;
  readonly adminToken: string;
  stop(): Promise<void>;
}

/**
 * Kafka and PostgreSQL the way `npm start` provisions them (under `stateDir`), a throw-away
 * database, an HTTPS webhook receiver, and the four services as processes, all ready: what the
 * doc renderers drive real traffic through. `environment` is added to every service's.
 */
export async function startLocalSkyhook(options: {
  readonly stateDir: string;
  readonly log: (line: string) => void;
  readonly databasePrefix: string;
  readonly behaviour?: ReceiverBehaviour;
  readonly environment?: Record<string, string>;
}): Promise<LocalSkyhookStack> {
  let infrastructure: ProvisionedInfrastructure | undefined;
  let database: { adminUrl: string; name: string } | undefined;
  let receiver: WebhookReceiver | undefined;
  const services: ServiceProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(services.map((service) => service.stop().catch(() => undefined)));
    await receiver?.close();
    if (database !== undefined) await dropDatabase(database.adminUrl, database.name).catch(() => undefined);
    await infrastructure?.stop();
  };
  try {
    options.log('starting Kafka and PostgreSQL…');
    infrastructure = await provisionInfrastructure({
      stateDir: join(options.stateDir, 'infrastructure'),
      log: options.log,
    });
    database = {
      adminUrl: infrastructure.postgresAdminUrl,
      name: `${options.databasePrefix}_${randomBytes(4).toString('hex')}`,
    };
    const databaseUrl = await ensureDatabase(database.adminUrl, database.name);
    receiver = await startWebhookReceiver(
      options.behaviour === undefined ? {} : { behaviour: options.behaviour },
    );
    const adminToken = randomBytes(24).toString('base64url');
    const environment = {
      KAFKA_BROKERS: infrastructure.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: uniqueTopicPrefix(),
      DATABASE_URL: databaseUrl,
      SECRETS_MASTER_KEY: randomBytes(32).toString('base64'),
      SKYHOOK_ADMIN_TOKEN: adminToken,
      SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
      // The receiver's certificate is signed by the test CA; only this run's services trust it.
      NODE_EXTRA_CA_CERTS: TEST_CA_CERT_PATH,
      LOG_LEVEL: 'warn',
      ...options.environment,
    };
    options.log('starting the services…');
    for (const name of LOCAL_STACK_SERVICES) services.push(await startService(name, environment));
    for (const service of services) {
      await pollUntil(async () => (await fetch(`${service.baseUrl}/health/ready`)).ok, {
        timeoutMs: 90_000,
        intervalMs: 250,
        description: `${service.baseUrl} ready`,
      });
    }
    return { services, receiver, adminToken, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
