import { randomBytes } from 'node:crypto';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { subscriptionEventContract } from '@skyhook/contracts';
import { createKafkaConsumerServer } from '@skyhook/messaging';
import { createHttpAdapter, HTTP_APPLICATION_OPTIONS } from '@skyhook/service-runtime';
import { type Clock } from '@skyhook/subscriptions';
import {
  createTestDatabase,
  type ServiceProcess,
  startService,
  TEST_CA_CERT_PATH,
  type TestDatabase,
  testKafkaBrokers,
  testKafkaEnvironment,
  testLogger,
} from '@skyhook/testing';
import { type ApiConfig, loadApiConfig } from '../api.config';
import { ApiModule } from '../api.module';
import { CLOCK } from '../clock.provider';
import { subscriptionCommandsConsumerOptions } from '../subscriptions/subscription-commands.consumer';
import { eventTypesResponseSchema } from '../event-types/event-types.schemas';
import { createdOrganisationResponseSchema } from '../organisations/admin-organisations.schemas';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/**
 * A clock tests move by hand, to reach expiry and renewal-window edges exactly. Started
 * without a time it follows the system clock until it is set or advanced (tests that run
 * time-scaled lifetimes end to end in real time).
 */
export class ControllableClock implements Clock {
  constructor(private current: Date | undefined) {}
  now(): Date {
    return this.current === undefined ? new Date() : new Date(this.current);
  }
  set(at: Date | string | number): void {
    this.current = new Date(at);
  }
  advance(ms: number): void {
    this.current = new Date(this.now().getTime() + ms);
  }
}

export interface ApiTestApp {
  readonly app: NestFastifyApplication;
  readonly config: ApiConfig;
  readonly database: TestDatabase;
  readonly clock: ControllableClock;
  request(options: {
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
    url: string;
    key?: string;
    body?: unknown;
    rawBody?: string | Buffer;
    headers?: Record<string, string>;
  }): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

/**
 * The api module hosted in-process with the production HTTP adapter, real Kafka (unique
 * topics) and a fresh Postgres database migrated by the real migrations; only the clock is
 * the test's.
 */
export async function startApiTestApp(
  options: {
    environment?: Record<string, string>;
    database?: TestDatabase;
    /** Follow the system clock instead of starting frozen at 2026-01-01. */
    systemClock?: boolean;
  } = {},
): Promise<ApiTestApp> {
  const database = options.database ?? (await createTestDatabase('api'));
  const config = loadApiConfig({
    ...testKafkaEnvironment(),
    DATABASE_URL: database.url,
    PORT: '0',
    SECRETS_MASTER_KEY: randomBytes(32).toString('base64'),
    SKYHOOK_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
    EXPIRY_SCAN_INTERVAL_MS: '100',
    ...options.environment,
  });
  const clock = new ControllableClock(
    options.systemClock === true ? undefined : new Date('2026-01-01T00:00:00.000Z'),
  );
  const moduleRef = await Test.createTestingModule({
    imports: [ApiModule.forRoot({ config, logger: testLogger(), registry: new Registry() })],
  })
    .overrideProvider(CLOCK)
    .useValue(clock)
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(), {
    ...HTTP_APPLICATION_OPTIONS,
    logger: false,
  });
  app.connectMicroservice(
    {
      strategy: createKafkaConsumerServer(app, {
        group: config.SUBSCRIPTION_READ_MODEL_GROUP,
        routes: [{ topicKey: 'subscriptionEvents', contract: subscriptionEventContract }],
        handleRejected: () => Promise.resolve(),
      }),
    },
    { inheritAppConfig: true },
  );
  app.connectMicroservice(
    { strategy: createKafkaConsumerServer(app, subscriptionCommandsConsumerOptions(app)) },
    { inheritAppConfig: true },
  );
  await app.init();
  await app.startAllMicroservices();
  await app.getHttpAdapter().getInstance().ready();

  return {
    app,
    config,
    database,
    clock,
    request: async ({ method, url, key, body, rawBody, headers }) => {
      const response = await app.inject({
        method,
        url,
        headers: {
          ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
          ...(body === undefined && rawBody === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        payload: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
      });
      const text = response.body;
      return {
        status: response.statusCode,
        body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
        headers: response.headers,
      };
    },
    close: async () => {
      await app.close();
      if (options.database === undefined) await database.drop();
    },
  };
}

/** Creates an organisation through the admin API and registers its catalogue; returns its API key. */
export async function createOrganisation(
  api: ApiTestApp,
  settings: Record<string, unknown> = {},
  eventTypes: string[] = [
    'booking.created',
    'booking.cancelled',
    'mel.deferral.expiring',
    'FLIGHT_TIME_UPDATE',
  ],
): Promise<{ organisationId: string; apiKey: string }> {
  const created = await api.request({
    method: 'POST',
    url: '/admin/v1/organisations',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    body: { name: 'Test Aviation', ...settings },
  });
  if (created.status !== 201) throw new Error(`organisation not created: ${JSON.stringify(created.body)}`);
  // Every organisation and catalogue a test makes is held to the documented response schemas.
  createdOrganisationResponseSchema.parse(created.body);
  const apiKey = created.body['apiKey'] as string;
  const organisationId = (created.body['organisation'] as { id: string }).id;
  const registered = await api.request({
    method: 'POST',
    url: '/v1/event-types',
    key: apiKey,
    body: { eventTypes: eventTypes.map((name) => ({ name })) },
  });
  if (registered.status !== 200)
    throw new Error(`catalogue not registered: ${JSON.stringify(registered.body)}`);
  eventTypesResponseSchema.parse(registered.body);
  return { organisationId, apiKey };
}

/** The delivery pipeline behind an in-process api: fan-out, dispatcher and history as processes. */
export interface DeliveryPipeline {
  /** Fan-out, dispatcher, history, in that order. */
  readonly services: ServiceProcess[];
  /** What the dispatcher was started with, to start another (or the same again after a kill). */
  readonly dispatcherEnvironment: Record<string, string>;
}

/**
 * Starts fan-out, the dispatcher and history as their own processes on the api's topics and
 * database; the dispatcher may deliver to loopback receivers and trusts the test CA.
 */
export async function startDeliveryPipeline(api: ApiTestApp): Promise<DeliveryPipeline> {
  const environment = {
    KAFKA_BROKERS: testKafkaBrokers(),
    KAFKA_TOPIC_PREFIX: api.config.kafka.topicPrefix,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    LOG_LEVEL: 'warn',
  };
  const dispatcherEnvironment = {
    ...environment,
    SECRETS_MASTER_KEY: api.config.SECRETS_MASTER_KEY,
    SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
    NODE_EXTRA_CA_CERTS: TEST_CA_CERT_PATH,
  };
  const services = await Promise.all([
    startService('fanout', environment),
    startService('dispatcher', dispatcherEnvironment),
    startService('history', { ...environment, DATABASE_URL: api.database.url }),
  ]);
  return { services, dispatcherEnvironment };
}
