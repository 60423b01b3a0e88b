import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { type SubscriptionEvent, subscriptionEventContract } from '@skyhook/contracts';
import {
  ContractProducer,
  kafkaEnvironmentSchema,
  kafkaSettingsFrom,
  provisionTopics,
} from '@skyhook/messaging';
import { createDataSource, runMigrations } from '@skyhook/persistence';
import {
  decideCreate,
  decideDelete,
  decideDisable,
  decideEnable,
  decideUpdate,
  evolveSubscription,
  type SubscriptionState,
} from '@skyhook/subscriptions';
import { createTestDatabase, pollUntil, spawnService, testKafkaEnvironment } from '@skyhook/testing';
import { type ApiTestApp, createOrganisation, startApiTestApp } from '../test/api-test-app';
import { SubscriptionOutbox } from './subscription-outbox';
import { rebuildSubscriptionReadModel } from './subscription-read-model.rebuild';

const ROW_COLUMNS = `id, organisation_id, version, status, deleted, url, description, event_types, scope_filter, policy,
  secrets, expires_at, disabled_reason, disabled_detail, created_at, updated_at`;

async function readModelRows(databaseUrl: string): Promise<unknown[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (
      await client.query<Record<string, unknown>>(`SELECT ${ROW_COLUMNS} FROM subscriptions ORDER BY id`)
    ).rows;
  } finally {
    await client.end();
  }
}

async function versionTotals(databaseUrl: string): Promise<{ rows: number; versions: number }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ rows: string; versions: string | null }>(
      'SELECT count(*) AS rows, sum(version) AS versions FROM subscriptions',
    );
    return { rows: Number(result.rows[0]?.rows ?? 0), versions: Number(result.rows[0]?.versions ?? 0) };
  } catch {
    return { rows: 0, versions: 0 };
  } finally {
    await client.end();
  }
}

describe('subscription read model rebuilt from the topic', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp();
  });

  afterAll(async () => {
    await api.close();
  });

  it('rebuilds, into an empty database and in place, exactly the live read model', async () => {
    const { apiKey } = await createOrganisation(api);
    const ids: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      const created = await api.request({
        method: 'POST',
        url: '/v1/subscriptions',
        key: apiKey,
        body: { url: `http://127.0.0.1:9/hook/${i}`, eventTypes: ['booking.*'], description: `n${i}` },
      });
      ids.push(created.body['id'] as string);
    }
    const at = (i: number) => `/v1/subscriptions/${ids[i] ?? ''}`;
    await api.request({
      method: 'PATCH',
      url: at(0),
      key: apiKey,
      body: { description: 'changed', eventTypes: ['*'] },
    });
    await api.request({ method: 'POST', url: `${at(1)}/disable`, key: apiKey });
    await api.request({ method: 'POST', url: `${at(2)}/revoke`, key: apiKey });
    await api.request({ method: 'DELETE', url: at(3), key: apiKey });
    await api.request({ method: 'POST', url: `${at(4)}/secret-rotations`, key: apiKey, body: {} });
    await api.app.get(SubscriptionOutbox).flush();
    const live = await readModelRows(api.database.url);

    const kafka = new Kafka({
      clientId: 'rebuild-test',
      brokers: [...api.config.kafka.brokers],
      logLevel: logLevel.NOTHING,
    });
    const fresh = await createTestDatabase('rebuild');
    const freshSource = await createDataSource(
      { url: fresh.url, poolSize: 2, ssl: false, connectTimeoutMs: 2_000 },
      'test',
    ).initialize();
    try {
      await runMigrations(freshSource);
      const summary = await rebuildSubscriptionReadModel(freshSource, kafka, api.config.kafka);
      expect(summary.subscriptions).toBe(12);
      expect(await readModelRows(fresh.url)).toEqual(live);
    } finally {
      await freshSource.destroy();
      await fresh.drop();
    }

    const liveSource = await createDataSource(
      { url: api.database.url, poolSize: 2, ssl: false, connectTimeoutMs: 2_000 },
      'test',
    ).initialize();
    try {
      await rebuildSubscriptionReadModel(liveSource, kafka, api.config.kafka);
    } finally {
      await liveSource.destroy();
    }
    expect(await readModelRows(api.database.url)).toEqual(live);
  });
});

describe('subscription read model projector killed mid-stream', () => {
  it('converges after kill -9 and restart, with nothing lost or applied twice', async () => {
    const environment = testKafkaEnvironment();
    const settings = kafkaSettingsFrom(kafkaEnvironmentSchema.parse(environment), 'projector-test');
    const kafka = new Kafka({
      clientId: 'projector-test',
      brokers: [...settings.brokers],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await provisionTopics(admin, settings, ['subscriptionEvents', 'inboundEvents']);
    await admin.disconnect();

    const expected = new Map<string, SubscriptionState>();
    const events: SubscriptionEvent[] = [];
    const record = (event: SubscriptionEvent | null): void => {
      if (event === null) return;
      events.push(event);
      expected.set(event.subscriptionId, evolveSubscription(expected.get(event.subscriptionId), event));
    };
    const now = new Date('2026-02-01T00:00:00.000Z');
    for (let i = 0; i < 500; i += 1) {
      const id = `sub_${i.toString().padStart(4, '0')}`;
      record(
        decideCreate({
          subscriptionId: id,
          organisationId: `org_${i % 7}`,
          fields: {
            url: `https://93.184.216.34/${i}`,
            description: '',
            eventTypes: ['*'],
            scopeFilter: {},
            policy: {},
          },
          secret: {
            id: 'sec_1',
            encrypted: 'v1.x',
            hint: 'whsec_…abcd',
            createdAt: now.toISOString(),
            retiresAt: null,
          },
          lifetime: { lifetime: null, renewalWindowDays: 5 },
          now,
        }),
      );
      const s = (): SubscriptionState => expected.get(id) as SubscriptionState;
      record(decideUpdate(s(), { description: `d${i}` }, now));
      record(decideDisable(s(), 'circuit-breaker', '5 failures', now));
      record(decideEnable(s(), now));
      if (i % 5 === 0) record(decideDelete(s(), now));
    }
    const producer = new ContractProducer(kafka, settings);
    await producer.connect();
    for (let start = 0; start < events.length; start += 500) {
      await producer.send(subscriptionEventContract, 'subscriptionEvents', events.slice(start, start + 500));
    }
    await producer.disconnect();
    const expectedVersions = [...expected.values()].reduce((sum, state) => sum + state.version, 0);

    const database = await createTestDatabase('projector');
    const serviceEnvironment = {
      ...environment,
      DATABASE_URL: database.url,
      SECRETS_MASTER_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
      PORT: '0',
    };
    try {
      const first = spawnService('api', serviceEnvironment);
      const partial = await pollUntil(
        async () => {
          const totals = await versionTotals(database.url);
          return totals.versions > 0 ? totals : undefined;
        },
        { intervalMs: 10, description: 'projector applying events' },
      );
      first.child.kill('SIGKILL');
      await first.exited;
      const atKill = await versionTotals(database.url);
      expect(partial.versions).toBeLessThan(expectedVersions);
      expect(atKill.versions).toBeLessThan(expectedVersions);

      const second = spawnService('api', serviceEnvironment);
      try {
        await pollUntil(async () => (await versionTotals(database.url)).versions === expectedVersions, {
          timeoutMs: 60_000,
          description: 'read model converged',
        });
      } finally {
        await second.stop();
      }
      const rows = (await readModelRows(database.url)) as {
        id: string;
        version: number;
        status: string;
        deleted: boolean;
        description: string;
      }[];
      expect(rows).toHaveLength(expected.size);
      for (const row of rows) {
        const state = expected.get(row.id);
        expect({
          version: row.version,
          status: row.status,
          deleted: row.deleted,
          description: row.description,
        }).toEqual({
          version: state?.version,
          status: state?.status,
          deleted: state?.deleted,
          description: state?.description,
        });
      }
    } finally {
      await database.drop();
    }
  });
});
