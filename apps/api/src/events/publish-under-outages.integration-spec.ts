import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { type InboundEvent } from '@skyhook/contracts';
import { type LocalKafkaBroker, startLocalKafka } from '@skyhook/local-infrastructure';
import { topicNameOf } from '@skyhook/messaging';
import {
  createTestDatabase,
  pollUntil,
  readTopic,
  startTcpProxy,
  type TcpProxy,
  type TestDatabase,
  urlThroughProxy,
} from '@skyhook/testing';
import { type ApiTestApp, createOrganisation, startApiTestApp } from '../test/api-test-app';

type Response = Awaited<ReturnType<ApiTestApp['request']>>;

/** Room for a loaded CI machine (two cores shared with other test files) above each bound. */
const SLACK_MS = 2_000;
const FIRST_OCCURRED_AT = '2026-01-01T00:00:00.000Z';

async function timed(request: Promise<Response>): Promise<Response & { elapsedMs: number }> {
  const started = Date.now();
  const response = await request;
  return { ...response, elapsedMs: Date.now() - started };
}

function errorCodeOf(response: Response): string | undefined {
  return (response.body['error'] as { code?: string } | undefined)?.code;
}

/** The records of the inbound topic that carry event `id`, as the raw JSON text produced. */
function copiesOf(records: readonly { value: string }[], id: string): string[] {
  return records
    .map((record) => record.value)
    .filter((value) => (JSON.parse(value) as InboundEvent).id === id);
}

async function claimStates(databaseUrl: string, organisationId: string): Promise<Map<string, string>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ event_id: string; state: string }>(
      'SELECT event_id, state FROM published_events WHERE organisation_id = $1',
      [organisationId],
    );
    return new Map(rows.map((row) => [row.event_id, row.state]));
  } finally {
    await client.end();
  }
}

describe('POST /v1/events while PostgreSQL is unreachable', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let api: ApiTestApp;
  let apiKey: string;
  let inbound: Awaited<ReturnType<typeof readTopic>>;
  const connectTimeoutMs = 2_000;

  beforeAll(async () => {
    database = await createTestDatabase('api_pg_outage');
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || '5432') });
    api = await startApiTestApp({
      database,
      environment: {
        DATABASE_URL: urlThroughProxy(database.url, proxy),
        DATABASE_CONNECT_TIMEOUT_MS: String(connectTimeoutMs),
      },
    });
    ({ apiKey } = await createOrganisation(api));
    inbound = await readTopic(api.config.kafka.brokers, topicNameOf(api.config.kafka, 'inboundEvents'));
  });

  afterAll(async () => {
    await proxy.restore();
    await inbound.stop();
    await api.close();
    await proxy.close();
    await database.drop();
  });

  it('answers 503 DATABASE_UNAVAILABLE with Retry-After within the connect bound, on every route, produces nothing, and serves again once it is back', async () => {
    await proxy.cut();

    const publish = await timed(
      api.request({
        method: 'POST',
        url: '/v1/events',
        key: apiKey,
        body: { id: 'evt-pg-down', type: 'booking.created', data: { n: 1 } },
        headers: { 'idempotency-key': 'pg-down-1' },
      }),
    );
    const deliveries = await timed(api.request({ method: 'GET', url: '/v1/deliveries', key: apiKey }));
    const readiness = await timed(api.request({ method: 'GET', url: '/health/ready' }));
    process.stdout.write(
      `PostgreSQL cut: publish 503 in ${publish.elapsedMs} ms, GET /v1/deliveries ${deliveries.elapsedMs} ms, readiness ${readiness.elapsedMs} ms\n`,
    );

    for (const response of [publish, deliveries]) {
      expect([response.status, errorCodeOf(response), response.headers['retry-after']]).toEqual([
        503,
        'DATABASE_UNAVAILABLE',
        '2',
      ]);
      expect(response.elapsedMs).toBeLessThan(connectTimeoutMs + SLACK_MS);
    }
    expect(readiness.status).toBe(503);
    expect(readiness.body['error']).toHaveProperty('postgres');
    expect(readiness.elapsedMs).toBeLessThan(3_000 + SLACK_MS);

    await proxy.restore();
    const again = await pollUntil(
      async () => {
        const response = await api.request({
          method: 'POST',
          url: '/v1/events',
          key: apiKey,
          body: { id: 'evt-pg-down', type: 'booking.created', data: { n: 1 } },
          headers: { 'idempotency-key': 'pg-down-1' },
        });
        return response.status === 503 ? undefined : response;
      },
      { timeoutMs: 15_000, description: 'the api serving again after PostgreSQL is back' },
    );
    expect(again).toMatchObject({ status: 202, body: { id: 'evt-pg-down', status: 'accepted' } });
    await pollUntil(() => copiesOf(inbound.records, 'evt-pg-down').length > 0, {
      description: 'the retried event on the topic',
    });
    // Produced once: by the retry, nothing during the outage.
    expect(copiesOf(inbound.records, 'evt-pg-down')).toHaveLength(1);
    expect((await api.request({ method: 'GET', url: '/v1/deliveries', key: apiKey })).status).toBe(200);
  });
});

describe('POST /v1/events while the broker is stopped (a private broker, stopped and restarted)', () => {
  const publishTimeoutMs = 2_000;
  let dataDir: string;
  let broker: LocalKafkaBroker;
  let api: ApiTestApp;
  let apiKey: string;
  let organisationId: string;

  const startBroker = () => startLocalKafka({ dataDir, persistent: true, log: () => undefined });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'skyhook-api-kafka-outage-'));
    broker = await startBroker();
    api = await startApiTestApp({
      environment: {
        KAFKA_BROKERS: broker.bootstrapServers,
        PUBLISH_KAFKA_TIMEOUT_MS: String(publishTimeoutMs),
        // Fewer connections than publishes waiting on the broker: a request holding one while
        // it waits would starve every other request.
        DATABASE_POOL_SIZE: '2',
      },
    });
    ({ apiKey, organisationId } = await createOrganisation(api));
  }, 120_000);

  afterAll(async () => {
    await api.close();
    await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  const publish = (key: string) =>
    api.request({
      method: 'POST',
      url: '/v1/events',
      key: apiKey,
      body: { type: 'booking.created', data: { key } },
      headers: { 'idempotency-key': key },
    });

  /** A batch of three events without ids: their ids come from the key. */
  const publishBatch = (key: string) =>
    api.request({
      method: 'POST',
      url: '/v1/events/batch',
      key: apiKey,
      body: { events: [0, 1, 2].map((leg) => ({ type: 'booking.created', data: { key, leg } })) },
      headers: { 'idempotency-key': key },
    });

  it('answers 503 KAFKA_UNAVAILABLE within the bound holding no database connection, and a retry after the restart produces the same record', async () => {
    expect((await publish('kafka-up')).status).toBe(202);
    await broker.stop();

    const keys = ['kafka-down-0', 'kafka-down-1', 'kafka-down-2', 'kafka-down-3'];
    const waiting = keys.map((key) => timed(publish(key)));
    const waitingBatch = timed(publishBatch('kafka-down-batch'));
    // Every publish has committed its claim (the batch its three) and is waiting on the broker...
    await pollUntil(
      async () => {
        const states = await claimStates(api.database.url, organisationId);
        return [...states.values()].filter((state) => state === 'pending').length === keys.length + 3;
      },
      { timeoutMs: publishTimeoutMs, intervalMs: 20, description: 'every publish waiting on the broker' },
    );
    // ...and other requests are served by the two pooled connections meanwhile.
    const reads = [];
    for (let read = 0; read < 3; read += 1) {
      reads.push(await timed(api.request({ method: 'GET', url: '/v1/deliveries', key: apiKey })));
    }
    const readiness = await timed(api.request({ method: 'GET', url: '/health/ready' }));
    const answers = [...(await Promise.all(waiting)), await waitingBatch];
    process.stdout.write(
      `broker stopped: publishes 503 in ${answers.map((answer) => answer.elapsedMs).join(', ')} ms; ` +
        `GETs meanwhile ${reads.map((read) => read.elapsedMs).join(', ')} ms; readiness ${readiness.elapsedMs} ms\n`,
    );

    for (const read of reads) {
      expect(read.status).toBe(200);
      expect(read.elapsedMs).toBeLessThan(1_000 + SLACK_MS / 2);
    }
    for (const answer of answers) {
      expect([answer.status, errorCodeOf(answer), answer.headers['retry-after']]).toEqual([
        503,
        'KAFKA_UNAVAILABLE',
        '1',
      ]);
      expect(answer.elapsedMs).toBeGreaterThanOrEqual(publishTimeoutMs - 50);
      expect(answer.elapsedMs).toBeLessThan(publishTimeoutMs + SLACK_MS);
    }
    expect(readiness.status).toBe(503);
    expect(readiness.body['error']).toHaveProperty('kafka');
    expect(readiness.elapsedMs).toBeLessThan(3_000 + SLACK_MS);

    // A retry defaulting occurredAt now would carry this later time.
    api.clock.advance(60_000);
    const restartedAt = Date.now();
    broker = await startBroker();
    const brokerStartedMs = Date.now() - restartedAt;
    const retried = await Promise.all(
      keys.map((key) =>
        pollUntil(
          async () => {
            const response = await publish(key);
            return response.status === 503 ? undefined : response;
          },
          { timeoutMs: 60_000, intervalMs: 250, description: `the retry of ${key} accepted` },
        ),
      ),
    );
    process.stdout.write(
      `broker restarted in ${brokerStartedMs} ms; retries accepted ${Date.now() - restartedAt} ms after the restart began\n`,
    );
    for (const response of retried)
      expect(response).toMatchObject({ status: 202, body: { status: 'accepted' } });
    // The batch again: the answer it would have had, and its pending events produced.
    const retriedBatch = await pollUntil(
      async () => {
        const response = await publishBatch('kafka-down-batch');
        return response.status === 503 ? undefined : response;
      },
      { timeoutMs: 60_000, intervalMs: 250, description: 'the retry of the batch answered' },
    );
    expect(retriedBatch).toMatchObject({ status: 200, body: { accepted: 3, duplicates: 0, rejected: 0 } });
    const batchIds = (retriedBatch.body['results'] as { id: string }[]).map((result) => result.id);
    expect(new Set(batchIds).size).toBe(3);

    const inbound = await readTopic(
      [broker.bootstrapServers],
      topicNameOf(api.config.kafka, 'inboundEvents'),
    );
    try {
      for (const id of [...retried.map((response) => response.body['id'] as string), ...batchIds]) {
        const copies = await pollUntil(
          () => {
            const found = copiesOf(inbound.records, id);
            return found.length > 0 ? found : undefined;
          },
          { timeoutMs: 30_000, description: `${id} on the topic` },
        );
        // A send that outlived its request may have landed too: then the copies are the same bytes.
        expect(new Set(copies).size).toBe(1);
        expect((JSON.parse(copies[0] ?? '{}') as InboundEvent).occurredAt).toBe(FIRST_OCCURRED_AT);
      }
    } finally {
      await inbound.stop();
    }
    const states = await claimStates(api.database.url, organisationId);
    for (const response of retried) expect(states.get(response.body['id'] as string)).toBe('published');
    for (const id of batchIds) expect(states.get(id)).toBe('published');
    // Ready again without a restart: producer, admin and the api's consumer groups are back.
    // (Closing the api while a crashed consumer waits to restart leaves kafkajs retrying.)
    await pollUntil(async () => (await api.request({ method: 'GET', url: '/health/ready' })).status === 200, {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: 'the api ready again',
    });
    process.stdout.write(
      `broker restarted: api ready ${Date.now() - restartedAt} ms after the restart began\n`,
    );
  }, 180_000);
});

describe('POST /v1/events when the api dies between the send and marking the claim published', () => {
  let api: ApiTestApp;
  let apiKey: string;
  let organisationId: string;
  let inbound: Awaited<ReturnType<typeof readTopic>>;
  let admin: Client;

  beforeAll(async () => {
    api = await startApiTestApp();
    ({ apiKey, organisationId } = await createOrganisation(api));
    inbound = await readTopic(api.config.kafka.brokers, topicNameOf(api.config.kafka, 'inboundEvents'));
    admin = new Client({ connectionString: api.database.url });
    await admin.connect();
    // The marking of a listed event fails, as if the process had died right after the send.
    await admin.query(`
      CREATE TABLE test_unmarkable_events (event_id text PRIMARY KEY);
      CREATE FUNCTION test_refuse_marking() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.state = 'published' AND EXISTS (SELECT 1 FROM test_unmarkable_events WHERE event_id = NEW.event_id) THEN
          RAISE EXCEPTION 'the api died before marking %', NEW.event_id;
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_refuse_marking BEFORE UPDATE ON published_events
        FOR EACH ROW EXECUTE FUNCTION test_refuse_marking();`);
  });

  afterAll(async () => {
    await admin.end();
    await inbound.stop();
    await api.close();
  });

  const publish = (body: Record<string, unknown>, key: string) =>
    api.request({
      method: 'POST',
      url: '/v1/events',
      key: apiKey,
      body,
      headers: { 'idempotency-key': key },
    });

  it('answers 202 though the marking failed (the event was sent), and the retry with the same key produces the same body again, once', async () => {
    const body = { id: 'evt-crash', type: 'booking.created', scope: { centerId: 'c1' }, data: { b: 'x' } };
    await admin.query(`INSERT INTO test_unmarkable_events (event_id) VALUES ('evt-crash')`);

    const first = await publish(body, 'crash-between-send-and-mark');
    expect(first).toMatchObject({ status: 202, body: { id: 'evt-crash', status: 'accepted' } });
    expect((await claimStates(api.database.url, organisationId)).get('evt-crash')).toBe('pending');
    await pollUntil(() => copiesOf(inbound.records, 'evt-crash').length === 1, {
      description: 'the first send on the topic',
    });

    // The api is back; the client, which never saw an answer, retries later.
    await admin.query('DELETE FROM test_unmarkable_events');
    api.clock.advance(60_000);
    const retried = await publish(body, 'crash-between-send-and-mark');
    expect(retried).toMatchObject({ status: 202, body: first.body });
    const copies = await pollUntil(
      () => {
        const found = copiesOf(inbound.records, 'evt-crash');
        return found.length === 2 ? found : undefined;
      },
      { description: 'the pending claim produced again' },
    );
    expect(copies[1]).toBe(copies[0]);
    expect((JSON.parse(copies[0] ?? '{}') as InboundEvent).occurredAt).toBe(FIRST_OCCURRED_AT);
    expect((await claimStates(api.database.url, organisationId)).get('evt-crash')).toBe('published');

    // Marked now: a further retry answers as before and produces nothing.
    expect(await publish(body, 'crash-between-send-and-mark')).toMatchObject({
      status: 202,
      body: first.body,
    });
    expect(
      (await publish({ id: 'evt-crash-marker', type: 'booking.created', data: {} }, 'marker')).status,
    ).toBe(202);
    await pollUntil(() => copiesOf(inbound.records, 'evt-crash-marker').length === 1, {
      description: 'a later event on the topic',
    });
    expect(copiesOf(inbound.records, 'evt-crash')).toHaveLength(2);
  });

  it('refuses a pending event id with another body (409, nothing produced), and produces the stored record for the same body again', async () => {
    await admin.query(`INSERT INTO test_unmarkable_events (event_id) VALUES ('evt-crash-2')`);
    const body = { id: 'evt-crash-2', type: 'booking.created', data: { version: 1 } };
    const first = await api.request({ method: 'POST', url: '/v1/events', key: apiKey, body });
    expect(first.status).toBe(202);
    await admin.query('DELETE FROM test_unmarkable_events');
    const other = await api.request({
      method: 'POST',
      url: '/v1/events',
      key: apiKey,
      body: { ...body, data: { version: 2 } },
    });
    expect(other).toMatchObject({ status: 409, body: { error: { code: 'EVENT_ID_REUSED' } } });
    const again = await api.request({ method: 'POST', url: '/v1/events', key: apiKey, body });
    expect(again).toMatchObject({ status: 202, body: { id: 'evt-crash-2', status: 'accepted' } });
    const copies = await pollUntil(
      () => {
        const found = copiesOf(inbound.records, 'evt-crash-2');
        return found.length === 2 ? found : undefined;
      },
      { description: 'the pending claim produced again' },
    );
    expect(new Set(copies).size).toBe(1);
    expect((JSON.parse(copies[0] ?? '{}') as InboundEvent).data).toEqual({ version: 1 });
  });
});
