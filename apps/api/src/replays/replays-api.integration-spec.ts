import { randomBytes } from 'node:crypto';
import { DataSource, type QueryRunner } from 'typeorm';
import { type DeliveryRetry } from '@skyhook/contracts';
import { topicNameOf } from '@skyhook/messaging';
import { pollUntil, readTopic } from '@skyhook/testing';
import { REDELIVERY_TOPIC_KEY } from '@skyhook/delivery';
import { type ApiTestApp, createOrganisation, startApiTestApp } from '../test/api-test-app';
import { replayJobResponseSchema } from './replays.controller';
import { insertDeliveries, type SeedDelivery, seedDelivery } from '../test/delivery-history-seed';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RECEIVER = 'https://localhost:9/hooks';
const REPLAY_MAX_DELIVERIES = 40;

type Job = Record<string, unknown> & { id: string; state: string; matched: number; enqueued: number };

describe('replays against real Postgres and Kafka', () => {
  let api: ApiTestApp;
  let dataSource: DataSource;
  let key: string;
  let organisationId: string;
  let otherKey: string;
  let retries: Awaited<ReturnType<typeof readTopic>>;
  const now = Date.now();

  async function subscribe(apiKey = key): Promise<string> {
    const created = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: apiKey,
      body: { url: RECEIVER, eventTypes: ['*'] },
    });
    expect(created.status).toBe(201);
    return created.body['id'] as string;
  }

  const replay = (
    subscriptionId: string,
    body: unknown,
    headers: Record<string, string> = {},
    apiKey = key,
  ) =>
    api.request({
      method: 'POST',
      url: `/v1/subscriptions/${subscriptionId}/replay`,
      key: apiKey,
      body,
      headers,
    });

  const job = async (subscriptionId: string, id: string): Promise<Job> => {
    const { body } = await api.request({
      method: 'GET',
      url: `/v1/subscriptions/${subscriptionId}/replays/${id}`,
      key,
    });
    // Every job read here is also held to the documented response schema.
    expect(replayJobResponseSchema.safeParse(body).error?.issues ?? []).toEqual([]);
    return body as Job;
  };

  const finished = (subscriptionId: string, id: string) =>
    pollUntil(
      async () => {
        const current = await job(subscriptionId, id);
        return current.state === 'running' ? undefined : current;
      },
      { timeoutMs: 20_000, description: `replay ${id} finished` },
    );

  /** The retries on the tier topic for a subscription, in topic order. */
  const retriesFor = (subscriptionId: string): DeliveryRetry[] =>
    retries.records
      .map((record) => JSON.parse(record.value) as DeliveryRetry)
      .filter((retry) => retry.request.subscriptionId === subscriptionId);

  /**
   * `count` deliveries of the subscription an hour apart, ending an hour ago, with the given
   * statuses in turn; ids in publish order.
   */
  async function seedHistory(
    subscriptionId: string,
    count: number,
    statuses: SeedDelivery['status'][] = ['failed', 'dropped', 'held'],
  ): Promise<SeedDelivery[]> {
    const rows = Array.from({ length: count }, (_, i) =>
      seedDelivery(organisationId, subscriptionId, {
        publishedAt: new Date(now - (count - i) * HOUR).toISOString(),
        status: statuses[i % statuses.length],
        attemptCount: 1 + (i % 3),
      }),
    );
    await insertDeliveries(dataSource, rows);
    return rows;
  }

  beforeAll(async () => {
    api = await startApiTestApp({
      environment: {
        REPLAY_MAX_DELIVERIES: String(REPLAY_MAX_DELIVERIES),
        REPLAY_PAGE_SIZE: '7',
        REPLAY_POLL_INTERVAL_MS: '100',
        HISTORY_RETENTION_DAYS: '30',
      },
    });
    api.clock.set(now);
    dataSource = api.app.get(DataSource);
    ({ apiKey: key, organisationId } = await createOrganisation(api));
    ({ apiKey: otherKey } = await createOrganisation(api));
    retries = await readTopic(api.config.kafka.brokers, topicNameOf(api.config.kafka, REDELIVERY_TOPIC_KEY));
  });

  afterAll(async () => {
    await retries.stop();
    await api.close();
  });

  it('resends every matching delivery once, oldest first, as its next attempt, and completes with matched = enqueued', async () => {
    const subscriptionId = await subscribe();
    const matching = await seedHistory(subscriptionId, 24);
    const notMatching = [
      // delivered (not a default status), published before since, and no request recorded yet
      seedDelivery(organisationId, subscriptionId, {
        status: 'delivered',
        publishedAt: new Date(now - 2 * HOUR).toISOString(),
      }),
      seedDelivery(organisationId, subscriptionId, {
        status: 'failed',
        publishedAt: new Date(now - 3 * DAY).toISOString(),
      }),
      seedDelivery(organisationId, subscriptionId, {
        status: 'held',
        request: null,
        publishedAt: new Date(now - 3 * HOUR).toISOString(),
      }),
    ];
    await insertDeliveries(dataSource, notMatching);

    const started = await replay(subscriptionId, { since: new Date(now - DAY).toISOString() });
    expect(started.status).toBe(202);
    const created = started.body as Job;
    expect(created).toMatchObject({
      subscriptionId,
      state: 'running',
      matched: 24,
      statuses: ['failed', 'dropped', 'held'],
      until: new Date(now).toISOString(),
    });
    expect(started.headers['location']).toBe(`/v1/subscriptions/${subscriptionId}/replays/${created.id}`);

    expect(await finished(subscriptionId, created.id)).toMatchObject({
      state: 'completed',
      matched: 24,
      enqueued: 24,
      error: null,
    });
    const sent = await pollUntil(
      () => retriesFor(subscriptionId).length >= 24 && retriesFor(subscriptionId),
      {
        description: 'the replayed deliveries on the retry tier',
      },
    );
    expect(sent.map((retry) => retry.request.deliveryId)).toEqual(matching.map((row) => row.deliveryId));
    expect(sent.map((retry) => retry.attemptNumber)).toEqual(matching.map((row) => row.attemptCount + 1));
    expect(sent.every((retry) => !retry.request.held && retry.dueAt === new Date(now).toISOString())).toBe(
      true,
    );

    const list = await api.request({
      method: 'GET',
      url: `/v1/subscriptions/${subscriptionId}/replays`,
      key,
    });
    expect((list.body['data'] as Job[]).map((listed) => listed.id)).toEqual([created.id]);
    const metrics = (await api.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/skyhook_api_replay_deliveries_enqueued_total \d+/);
    expect(metrics).toContain('skyhook_api_replay_jobs_total{state="completed"}');
  });

  it('answers the same job for the same Idempotency-Key and body without sending again; 422 for another body', async () => {
    const subscriptionId = await subscribe();
    const rows = await seedHistory(subscriptionId, 5, ['failed', 'delivered']);
    const body = { since: new Date(now - DAY).toISOString(), statuses: ['failed'] };
    const first = await replay(subscriptionId, body, { 'idempotency-key': 'replay-key-1' });
    expect(first.status).toBe(202);
    const id = (first.body as Job).id;
    await finished(subscriptionId, id);

    const again = await replay(subscriptionId, body, { 'idempotency-key': 'replay-key-1' });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id, state: 'completed', matched: 3, enqueued: 3 });
    const reused = await replay(
      subscriptionId,
      { ...body, statuses: ['delivered'] },
      { 'idempotency-key': 'replay-key-1' },
    );
    expect([reused.status, (reused.body['error'] as { code: string }).code]).toEqual([
      422,
      'IDEMPOTENCY_KEY_REUSED',
    ]);

    // A later replay of the other deliveries lands behind anything the repeat could have sent
    // (one subscription, one partition): once it is there, the first three were sent once only.
    const marker = await replay(subscriptionId, { since: body.since, statuses: ['delivered'] });
    await finished(subscriptionId, (marker.body as Job).id);
    const sent = await pollUntil(() => retriesFor(subscriptionId).length >= 5 && retriesFor(subscriptionId), {
      description: 'the marker replay on the topic',
    });
    const failedIds = rows.filter((row) => row.status === 'failed').map((row) => row.deliveryId);
    expect(sent.filter((retry) => failedIds.includes(retry.request.deliveryId))).toHaveLength(3);
    expect(sent).toHaveLength(5);
  });

  it('answers the running job to the same replay asked again, and a job another instance holds is left to it', async () => {
    const subscriptionId = await subscribe();
    await seedHistory(subscriptionId, 10);
    const since = new Date(now - DAY);
    // A running job that another api instance is working on: that instance holds a lock on its
    // row. The row is made running only after the lock is taken (FOR KEY SHARE lets the update
    // through, and still makes the runner's FOR UPDATE SKIP LOCKED skip the row), so this
    // instance's runner can never see it running and unlocked.
    const jobId = `rpl_${randomBytes(8).toString('hex')}`;
    await dataSource.query(
      `INSERT INTO replay_jobs (id, organisation_id, subscription_id, since, until, statuses, state, matched)
       VALUES ($1, $2, $3, $4, $5, '{held,failed,dropped}', 'completed', 10)`,
      [jobId, organisationId, subscriptionId, since.toISOString(), new Date(now - 1_000).toISOString()],
    );
    const otherInstance: QueryRunner = dataSource.createQueryRunner();
    await otherInstance.startTransaction();
    await otherInstance.query('SELECT id FROM replay_jobs WHERE id = $1 FOR KEY SHARE', [jobId]);
    await dataSource.query(`UPDATE replay_jobs SET state = 'running' WHERE id = $1`, [jobId]);
    try {
      const again = await replay(subscriptionId, { since: since.toISOString() });
      expect(again.status).toBe(202);
      expect(again.body).toMatchObject({ id: jobId, state: 'running', enqueued: 0 });
      expect(retriesFor(subscriptionId)).toEqual([]);
    } finally {
      await otherInstance.commitTransaction();
      await otherInstance.release();
    }
    expect(await finished(subscriptionId, jobId)).toMatchObject({
      state: 'completed',
      matched: 10,
      enqueued: 10,
    });
  });

  it('works running jobs from two api instances at once without sending a delivery twice, and resumes after a saved cursor', async () => {
    const second = await startApiTestApp({
      database: api.database,
      environment: {
        KAFKA_TOPIC_PREFIX: api.config.kafka.topicPrefix,
        SECRETS_MASTER_KEY: api.config.SECRETS_MASTER_KEY,
        REPLAY_PAGE_SIZE: '3',
        REPLAY_POLL_INTERVAL_MS: '20',
      },
    });
    try {
      const subscriptions = await Promise.all([subscribe(), subscribe(), subscribe()]);
      const seeded = await Promise.all(subscriptions.map((id) => seedHistory(id, 30)));
      // The third job had enqueued ten deliveries when its api stopped: it resumes after them.
      const resumeAfter = seeded[2]![9]!;
      const jobIds = subscriptions.map(() => `rpl_${randomBytes(8).toString('hex')}`);
      await dataSource.query(
        `INSERT INTO replay_jobs (id, organisation_id, subscription_id, since, until, statuses, state, matched, enqueued,
           cursor_published_at, cursor_delivery_id)
         SELECT job.id, $2, job.subscription_id, $3, $4, '{failed,dropped,held}', 'running', 30,
           CASE WHEN job.n = 3 THEN 10 ELSE 0 END,
           CASE WHEN job.n = 3 THEN $5::timestamptz END, CASE WHEN job.n = 3 THEN $6 END
         FROM unnest($1::text[], $7::text[]) WITH ORDINALITY AS job(id, subscription_id, n)`,
        [
          jobIds,
          organisationId,
          new Date(now - 2 * DAY).toISOString(),
          new Date(now).toISOString(),
          resumeAfter.publishedAt,
          resumeAfter.deliveryId,
          subscriptions,
        ],
      );
      const jobs = await Promise.all(subscriptions.map((id, i) => finished(id, jobIds[i]!)));
      expect(jobs.map((done) => [done.state, done.enqueued])).toEqual([
        ['completed', 30],
        ['completed', 30],
        ['completed', 30],
      ]);
      for (const [i, subscriptionId] of subscriptions.entries()) {
        const expected = seeded[i]!.slice(i === 2 ? 10 : 0).map((row) => row.deliveryId);
        const sent = await pollUntil(
          () => retriesFor(subscriptionId).length >= expected.length && retriesFor(subscriptionId),
          { description: `the retries of subscription ${i + 1}` },
        );
        expect(sent.map((retry) => retry.request.deliveryId)).toEqual(expected);
      }
    } finally {
      await second.close();
    }
  });

  describe('refusals', () => {
    it('refuses a replay matching more than REPLAY_MAX_DELIVERIES with 422 stating the count and the limit', async () => {
      const subscriptionId = await subscribe();
      await seedHistory(subscriptionId, REPLAY_MAX_DELIVERIES + 5);
      const response = await replay(subscriptionId, { since: new Date(now - 3 * DAY).toISOString() });
      expect(response.status).toBe(422);
      expect(response.body['error']).toMatchObject({
        code: 'REPLAY_TOO_LARGE',
        details: { matched: 45, limit: 40 },
      });
      expect((response.body['error'] as { message: string }).message).toContain(
        'matches 45 deliveries; the limit is 40',
      );
      const list = await api.request({
        method: 'GET',
        url: `/v1/subscriptions/${subscriptionId}/replays`,
        key,
      });
      expect(list.body['data']).toEqual([]);
    });

    it('refuses a window longer than the retention with 422', async () => {
      const subscriptionId = await subscribe();
      const response = await replay(subscriptionId, { since: new Date(now - 31 * DAY).toISOString() });
      expect(response.status).toBe(422);
      expect(response.body['error']).toMatchObject({ code: 'REPLAY_WINDOW_TOO_LONG' });
      expect((response.body['error'] as { message: string }).message).toContain('history is kept 30 days');
    });

    it.each([
      ['no since', {}],
      ['since not a date', { since: 'yesterday' }],
      ['until before since', { since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }],
      ['an unknown status', { since: '2026-01-01T00:00:00Z', statuses: ['lost'] }],
      ['an unknown field', { since: '2026-01-01T00:00:00Z', everything: true }],
    ])('answers 400 to %s', async (_, body) => {
      const subscriptionId = await subscribe();
      const response = await replay(subscriptionId, body);
      expect([response.status, (response.body['error'] as { code: string }).code]).toEqual([
        400,
        'VALIDATION_FAILED',
      ]);
    });

    it('answers 400 to a since in the future when until defaults to now', async () => {
      const subscriptionId = await subscribe();
      const response = await replay(subscriptionId, { since: new Date(now + HOUR).toISOString() });
      expect(response.status).toBe(400);
      expect((response.body['error'] as { message: string }).message).toContain(
        'since must be before until (now)',
      );
    });

    it("answers 404 for another organisation's subscription and replay job, 409 for a deleted subscription", async () => {
      const subscriptionId = await subscribe();
      const since = new Date(now - DAY).toISOString();
      expect((await replay(subscriptionId, { since }, {}, otherKey)).status).toBe(404);
      const mine = await replay(subscriptionId, { since });
      const jobId = (mine.body as Job).id;
      const foreign = await api.request({
        method: 'GET',
        url: `/v1/subscriptions/${subscriptionId}/replays/${jobId}`,
        key: otherKey,
      });
      expect(foreign.status).toBe(404);
      const wrongSubscription = await api.request({
        method: 'GET',
        url: `/v1/subscriptions/${await subscribe()}/replays/${jobId}`,
        key,
      });
      expect([wrongSubscription.status, (wrongSubscription.body['error'] as { code: string }).code]).toEqual([
        404,
        'REPLAY_NOT_FOUND',
      ]);
      expect(
        (await api.request({ method: 'DELETE', url: `/v1/subscriptions/${subscriptionId}`, key })).status,
      ).toBe(204);
      const deleted = await replay(subscriptionId, { since });
      expect([deleted.status, (deleted.body['error'] as { code: string }).code]).toEqual([
        409,
        'SUBSCRIPTION_DELETED',
      ]);
    });

    it('answers 400 to a malformed Idempotency-Key, and 422 to a key already used to publish an event', async () => {
      const subscriptionId = await subscribe();
      const since = new Date(now - DAY).toISOString();
      expect((await replay(subscriptionId, { since }, { 'idempotency-key': 'has space' })).status).toBe(400);
      const published = await api.request({
        method: 'POST',
        url: '/v1/events',
        key,
        body: { type: 'booking.created', data: {} },
        headers: { 'idempotency-key': 'shared-key' },
      });
      expect(published.status).toBe(202);
      const reused = await replay(subscriptionId, { since }, { 'idempotency-key': 'shared-key' });
      expect([reused.status, (reused.body['error'] as { code: string }).code]).toEqual([
        422,
        'IDEMPOTENCY_KEY_REUSED',
      ]);
    });
  });
});
