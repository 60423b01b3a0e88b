import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { type DeliveryRetry } from '@skyhook/contracts';
import { topicNameOf } from '@skyhook/messaging';
import { pollUntil, readTopic } from '@skyhook/testing';
import { type ApiTestApp, createOrganisation, startApiTestApp } from '../test/api-test-app';
import {
  insertAttempts,
  insertDeliveries,
  type SeedDelivery,
  seedDelivery,
} from '../test/delivery-history-seed';
import { pageSchemaOf } from '../http/page-response';
import { DELIVERY_STATUSES } from './delivery-history.schemas';
import { deliveryDetailResponseSchema, deliverySummaryResponseSchema } from './delivery.response';
import { REDELIVERY_TOPIC_KEY } from '@skyhook/delivery';
import { RedeliveryAttemptNumbers } from '@skyhook/delivery-history';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RECEIVER = 'https://localhost:9/hooks';
const EVENT_TYPES = ['booking.created', 'booking.cancelled', 'mel.deferral.expiring'] as const;

/**
 * Newest first, as the API promises: publish time (to the microsecond; the seeded instants all
 * have one format, so they compare as strings), then delivery id (lower-case hex where ids share
 * an instant, which every collation orders alike).
 */
function newestFirst(rows: readonly SeedDelivery[]): SeedDelivery[] {
  const key = (row: SeedDelivery) => `${row.publishedAt} ${row.deliveryId}`;
  return [...rows].sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
}

/** `2026-…T…:…:….123456Z` for an instant in ms plus microseconds. */
function microsecondIso(ms: number, micros: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

describe('delivery history API against real Postgres (and Kafka for resend)', () => {
  let api: ApiTestApp;
  let dataSource: DataSource;
  let keyA: string;
  let keyB: string;
  let orgA: string;
  let orgB: string;
  let subA1: string;
  let subA2: string;
  let subB: string;
  let retries: Awaited<ReturnType<typeof readTopic>>;
  const now = Date.now();

  async function subscribe(key: string): Promise<string> {
    const created = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key,
      body: { url: RECEIVER, eventTypes: ['*'] },
    });
    expect(created.status).toBe(201);
    return created.body['id'] as string;
  }

  const get = (url: string, key = keyA) => api.request({ method: 'GET', url, key });

  /** Every page of a list, following nextCursor. */
  async function allPages(url: string, key = keyA): Promise<Record<string, unknown>[]> {
    const seen: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const separator = url.includes('?') ? '&' : '?';
      const response = await get(
        cursor === null ? url : `${url}${separator}cursor=${encodeURIComponent(cursor)}`,
        key,
      );
      expect(response.status).toBe(200);
      // Every page read here is also held to the documented response schema.
      expect(
        pageSchemaOf(deliverySummaryResponseSchema).safeParse(response.body).error?.issues ?? [],
      ).toEqual([]);
      seen.push(...(response.body['data'] as Record<string, unknown>[]));
      cursor = response.body['nextCursor'] as string | null;
    } while (cursor !== null);
    return seen;
  }

  beforeAll(async () => {
    api = await startApiTestApp();
    api.clock.set(now);
    dataSource = api.app.get(DataSource);
    ({ apiKey: keyA, organisationId: orgA } = await createOrganisation(api));
    ({ apiKey: keyB, organisationId: orgB } = await createOrganisation(api));
    [subA1, subA2, subB] = await Promise.all([subscribe(keyA), subscribe(keyA), subscribe(keyB)]);
    retries = await readTopic(api.config.kafka.brokers, topicNameOf(api.config.kafka, REDELIVERY_TOPIC_KEY));
  });

  afterAll(async () => {
    await retries.stop();
    await api.close();
  });

  describe('pagination', () => {
    it('returns every delivery that existed when paging began exactly once, while newer and same-time rows arrive', async () => {
      // 3,000 deliveries over five days (five partitions); groups of up to 4 share one instant,
      // and instants differ below the millisecond, so the cursor must keep microseconds.
      const base = now - 5 * DAY;
      const seeded: SeedDelivery[] = [];
      for (let i = 0; i < 3_000; i += 1) {
        const group = Math.floor(i / 4) * 4;
        seeded.push(
          seedDelivery(orgA, i % 2 === 0 ? subA1 : subA2, {
            deliveryId: `del_${randomBytes(8).toString('hex')}`,
            publishedAt: microsecondIso(base + Math.floor((group * 5 * DAY) / 3_000), group % 1000),
            status: DELIVERY_STATUSES[Math.floor(i / 2) % DELIVERY_STATUSES.length], // every status in both subscriptions
            eventType: EVENT_TYPES[i % 3],
          }),
        );
      }
      await insertDeliveries(dataSource, seeded);

      let inserting = true;
      let inserted = 0;
      const concurrentInserts = (async () => {
        for (let round = 0; inserting && round < 200; round += 1) {
          const sameTime = seeded[(round * 131) % seeded.length]!;
          await insertDeliveries(dataSource, [
            seedDelivery(orgA, subA1, { publishedAt: microsecondIso(Date.now(), round % 1000) }),
            // Same instant as an existing row: lands before or after the cursor by its id.
            seedDelivery(orgA, subA2, {
              deliveryId: `del_${randomBytes(8).toString('hex')}`,
              publishedAt: sameTime.publishedAt,
            }),
          ]);
          inserted += 2;
        }
      })();

      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const response = await get(
          `/v1/deliveries?limit=37${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        );
        expect(response.status).toBe(200);
        pages.push((response.body['data'] as { id: string }[]).map((delivery) => delivery.id));
        cursor = response.body['nextCursor'] as string | null;
      } while (cursor !== null);
      inserting = false;
      await concurrentInserts;

      const returned = pages.flat();
      expect(inserted).toBeGreaterThan(0);
      expect(new Set(returned).size).toBe(returned.length);
      const returnedSet = new Set(returned);
      expect(seeded.filter((row) => !returnedSet.has(row.deliveryId))).toEqual([]);
      expect(pages.slice(0, -1).every((page) => page.length === 37)).toBe(true);
      // The seeded rows come back in the promised order (the concurrent ones interleave by their own keys).
      const seededIds = new Set(seeded.map((row) => row.deliveryId));
      expect(returned.filter((id) => seededIds.has(id))).toEqual(
        newestFirst(seeded).map((row) => row.deliveryId),
      );
    });
  });

  describe('filters', () => {
    // Organisation B's history is small enough to compute every expected answer in the test.
    const rowsB: SeedDelivery[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 150; i += 1) {
        rowsB.push(
          seedDelivery(orgB, subB, {
            publishedAt: new Date(now - 3 * DAY + i * 20 * 60_000).toISOString(),
            status: DELIVERY_STATUSES[(i * 7) % DELIVERY_STATUSES.length],
            eventType: EVENT_TYPES[i % 3],
          }),
        );
      }
      await insertDeliveries(dataSource, rowsB);
    });

    const expected = (predicate: (row: SeedDelivery) => boolean) =>
      newestFirst(rowsB.filter(predicate)).map((row) => row.deliveryId);
    const ids = (rows: Record<string, unknown>[]) => rows.map((row) => row['id']);
    const since = () => new Date(now - 2 * DAY).toISOString();
    const until = () => new Date(now - DAY).toISOString();
    const inWindow = (row: SeedDelivery) =>
      row.publishedAt >= since() && Date.parse(row.publishedAt) < Date.parse(until());

    it.each<[string, () => string, (row: SeedDelivery) => boolean]>([
      ['no filter', () => '', () => true],
      ['one status', () => 'status=held', (row) => row.status === 'held'],
      [
        'repeated statuses',
        () => 'status=failed&status=dropped',
        (row) => ['failed', 'dropped'].includes(row.status),
      ],
      [
        'comma-separated statuses',
        () => 'status=retrying,delivered,held',
        (row) => ['retrying', 'delivered', 'held'].includes(row.status),
      ],
      ['an event type', () => 'eventType=booking.cancelled', (row) => row.eventType === 'booking.cancelled'],
      ['since', () => `since=${since()}`, (row) => row.publishedAt >= since()],
      [
        'until (exclusive)',
        () => `until=${until()}`,
        (row) => Date.parse(row.publishedAt) < Date.parse(until()),
      ],
      ['since and until', () => `since=${since()}&until=${until()}`, inWindow],
      [
        'everything combined',
        () => `status=failed,held&eventType=booking.created&since=${since()}&until=${until()}`,
        (row) =>
          ['failed', 'held'].includes(row.status) && row.eventType === 'booking.created' && inWindow(row),
      ],
    ])('filters by %s, on both lists, across pages', async (_, query, predicate) => {
      const want = expected(predicate);
      expect(want.length).toBeGreaterThan(0);
      expect(ids(await allPages(`/v1/deliveries?limit=13&${query()}`, keyB))).toEqual(want);
      expect(ids(await allPages(`/v1/subscriptions/${subB}/deliveries?limit=7&${query()}`, keyB))).toEqual(
        want,
      );
    });

    it('answers an empty page for a window with nothing in it', async () => {
      const response = await get(`/v1/deliveries?since=${new Date(now + DAY).toISOString()}`, keyB);
      expect(response.body).toEqual({ data: [], nextCursor: null });
    });

    it('lists only the subscription asked for', async () => {
      const a1 = await allPages(`/v1/subscriptions/${subA1}/deliveries?limit=200&status=held`);
      expect(a1.length).toBeGreaterThan(0);
      expect(a1.every((row) => row['subscriptionId'] === subA1 && row['status'] === 'held')).toBe(true);
    });
  });

  describe('organisation scoping', () => {
    let deliveryOfA: SeedDelivery;
    beforeAll(async () => {
      deliveryOfA = seedDelivery(orgA, subA1, { publishedAt: new Date(now - HOUR).toISOString() });
      await insertDeliveries(dataSource, [deliveryOfA]);
    });

    it("answers 404 for another organisation's delivery, subscription history and resend", async () => {
      const detail = await get(`/v1/deliveries/${deliveryOfA.deliveryId}`, keyB);
      expect([detail.status, (detail.body['error'] as { code: string }).code]).toEqual([
        404,
        'DELIVERY_NOT_FOUND',
      ]);
      const history = await get(`/v1/subscriptions/${subA1}/deliveries`, keyB);
      expect([history.status, (history.body['error'] as { code: string }).code]).toEqual([
        404,
        'SUBSCRIPTION_NOT_FOUND',
      ]);
      const resend = await api.request({
        method: 'POST',
        url: `/v1/deliveries/${deliveryOfA.deliveryId}/resend`,
        key: keyB,
      });
      expect(resend.status).toBe(404);
      const own = await get(`/v1/deliveries/${deliveryOfA.deliveryId}`, keyA);
      expect(own.status).toBe(200);
      expect(deliveryDetailResponseSchema.safeParse(own.body).error?.issues ?? []).toEqual([]);
    });

    it("never lists another organisation's deliveries", async () => {
      const ofB = await allPages('/v1/deliveries?limit=200', keyB);
      expect(ofB.length).toBeGreaterThan(0);
      expect(ofB.every((row) => row['subscriptionId'] === subB)).toBe(true);
    });

    it('answers 401 without an API key', async () => {
      expect((await api.request({ method: 'GET', url: '/v1/deliveries' })).status).toBe(401);
    });
  });

  describe('hostile input', () => {
    const forged = (payload: string) => Buffer.from(payload).toString('base64url');

    it.each([
      ['a cursor that is not one', 'cursor=abc', 'cursor'],
      [
        'a forged cursor with SQL in it',
        `cursor=${forged(`{"t":"2026-01-01T00:00:00.000000Z","i":"x' OR '1'='1"}`)}`,
        'cursor',
      ],
      [
        'a forged cursor with an impossible date',
        `cursor=${forged('{"t":"2026-13-45T00:00:00.000000Z","i":"del_x"}')}`,
        'cursor',
      ],
      ['a huge limit', 'limit=1000000', 'limit'],
      ['a limit over 200', 'limit=201', 'limit'],
      ['a negative limit', 'limit=-1', 'limit'],
      ['an unknown status', 'status=lost', 'status'],
      ['a status with SQL in it', "status=failed');DROP TABLE deliveries;--", 'status'],
      ['an event type with SQL in it', "eventType=booking.created' OR 1=1--", 'eventType'],
      ['an invalid date', 'since=2026-02-30T00:00:00Z', 'since'],
      ['a date without a zone', 'since=2026-02-01T00:00:00', 'since'],
      ['since after until', 'since=2026-02-02T00:00:00Z&until=2026-02-01T00:00:00Z', 'until'],
      ['an unknown parameter', 'order=asc', 'order'],
    ])('answers 400 VALIDATION_FAILED to %s, naming the parameter', async (_, query, parameter) => {
      for (const url of [`/v1/deliveries?${query}`, `/v1/subscriptions/${subA1}/deliveries?${query}`]) {
        const response = await get(url);
        expect(response.status).toBe(400);
        const error = response.body['error'] as { code: string; message: string };
        expect(error.code).toBe('VALIDATION_FAILED');
        expect(error.message).toContain(parameter);
      }
    });

    it('answers 404 to ids that cannot exist, SQL-ish ones included', async () => {
      const count = async () =>
        (await dataSource.query<{ n: number }[]>('SELECT count(*)::int AS n FROM deliveries'))[0]?.n;
      const before = await count();
      for (const id of ["x'%20OR%20'1'='1", "x';%20DELETE%20FROM%20deliveries;--", 'del_unknown', 'del%00']) {
        expect((await get(`/v1/deliveries/${id}`)).status).toBe(404);
        expect((await get(`/v1/subscriptions/${id}/deliveries`)).status).toBe(404);
      }
      expect(await count()).toBe(before);
    });
  });

  describe('one delivery', () => {
    it('shows its attempts by attempt number and what its event was, without the event data', async () => {
      const delivery = seedDelivery(orgA, subA1, {
        publishedAt: microsecondIso(now - 2 * HOUR, 789),
        status: 'delivered',
        attemptCount: 2,
        data: { passengerName: 'not shown in the history' },
      });
      await insertDeliveries(dataSource, [delivery]);
      const firstAt = new Date(now - 2 * HOUR + 50).toISOString();
      await insertAttempts(dataSource, delivery, [
        {
          attemptNumber: 2,
          attemptedAt: new Date(now - 2 * HOUR + 60_050).toISOString(),
          outcome: 'success',
          responseStatus: 200,
          responseBody: 'ok',
          result: 'delivered',
          nextAttemptAt: null,
        },
        {
          attemptNumber: 1,
          attemptedAt: firstAt,
          outcome: 'http-error',
          responseStatus: 503,
          responseBody: 'busy',
          result: 'retry-scheduled',
          nextAttemptAt: new Date(now - 2 * HOUR + 60_000).toISOString(),
        },
      ]);
      const response = await get(`/v1/deliveries/${delivery.deliveryId}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        id: delivery.deliveryId,
        subscriptionId: subA1,
        status: 'delivered',
        attemptCount: 2,
        requestRecorded: true,
        event: {
          id: delivery.eventId,
          type: 'booking.created',
          scope: { centerId: 'ctr-1' },
          occurredAt: delivery.request?.event.occurredAt,
        },
      });
      const attempts = response.body['attempts'] as Record<string, unknown>[];
      expect(attempts.map((attempt) => attempt['attemptNumber'])).toEqual([1, 2]);
      expect(attempts[0]).toEqual({
        attemptNumber: 1,
        attemptId: null,
        repeated: false,
        repeatOf: null,
        attemptedAt: firstAt,
        url: 'https://localhost/hooks',
        requestHeaders: { 'webhook-id': delivery.deliveryId, 'webhook-signature': 'v1,c2lnbmF0dXJl' },
        requestBodyBytes: 321,
        outcome: 'http-error',
        responseStatus: 503,
        responseBody: 'busy',
        durationMs: 42.5,
        errorCode: null,
        errorMessage: null,
        result: 'retry-scheduled',
        nextAttemptAt: new Date(now - 2 * HOUR + 60_000).toISOString(),
      });
      expect(JSON.stringify(response.body)).not.toContain('passengerName');
    });
  });

  describe('resend', () => {
    const retriesOf = (deliveryId: string): DeliveryRetry[] =>
      retries.records
        .map((record) => JSON.parse(record.value) as DeliveryRetry)
        .filter((retry) => retry.request.deliveryId === deliveryId);
    const resend = (deliveryId: string) =>
      api.request({ method: 'POST', url: `/v1/deliveries/${deliveryId}/resend`, key: keyA });

    it('hands the recorded request to the shortest retry tier as the next attempt, due now', async () => {
      const delivery = seedDelivery(orgA, subA1, { status: 'held', attemptCount: 3 });
      await insertDeliveries(dataSource, [delivery]);
      const response = await resend(delivery.deliveryId);
      expect(response).toMatchObject({
        status: 202,
        body: { deliveryId: delivery.deliveryId, attemptNumber: 4, status: 'enqueued' },
      });
      const [retry] = await pollUntil(
        () => retriesOf(delivery.deliveryId).length === 1 && retriesOf(delivery.deliveryId),
        {
          description: 'the retry on the tier topic',
        },
      );
      expect(retry).toEqual({
        request: { ...delivery.request, held: false },
        attemptNumber: 4,
        dueAt: new Date(now).toISOString(),
      });
    });

    it('gives quick successive resends their own attempt numbers before history records them', async () => {
      const delivery = seedDelivery(orgA, subA1, { status: 'failed', attemptCount: 5 });
      await insertDeliveries(dataSource, [delivery]);
      const numbers: unknown[] = [];
      for (let n = 0; n < 3; n += 1) {
        const response = await resend(delivery.deliveryId);
        expect(response.status).toBe(202);
        numbers.push(response.body['attemptNumber']);
      }
      expect(numbers).toEqual([6, 7, 8]);
      const onTopic = await pollUntil(
        () => retriesOf(delivery.deliveryId).length === 3 && retriesOf(delivery.deliveryId),
        { description: 'three retries on the tier topic' },
      );
      expect(onTopic.map((retry) => retry.attemptNumber).sort()).toEqual([6, 7, 8]);

      // Reservations older than the retention are forgotten; numbering then starts from history again.
      const reservations = api.app.get(RedeliveryAttemptNumbers);
      expect(await reservations.forgetUntouchedSince(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(
        1,
      );
      expect((await resend(delivery.deliveryId)).body['attemptNumber']).toBe(6);
    });

    it('answers 409 when the history has no request for the delivery yet', async () => {
      const delivery = seedDelivery(orgA, subA1, { status: 'retrying', request: null });
      await insertDeliveries(dataSource, [delivery]);
      const response = await resend(delivery.deliveryId);
      expect(response.status).toBe(409);
      expect(response.body['error']).toMatchObject({ code: 'DELIVERY_REQUEST_NOT_RECORDED' });
    });

    it('answers 409 once the subscription is deleted, while its history stays readable', async () => {
      const doomed = await subscribe(keyA);
      const delivery = seedDelivery(orgA, doomed, { status: 'failed' });
      await insertDeliveries(dataSource, [delivery]);
      expect(
        (await api.request({ method: 'DELETE', url: `/v1/subscriptions/${doomed}`, key: keyA })).status,
      ).toBe(204);
      const response = await resend(delivery.deliveryId);
      expect(response.status).toBe(409);
      expect(response.body['error']).toMatchObject({ code: 'SUBSCRIPTION_DELETED' });
      const history = await get(`/v1/subscriptions/${doomed}/deliveries`);
      expect((history.body['data'] as { id: string }[]).map((row) => row.id)).toEqual([delivery.deliveryId]);
    });

    it('answers 409 while the subscription is disabled, saying to enable it', async () => {
      const paused = await subscribe(keyA);
      const delivery = seedDelivery(orgA, paused, { status: 'dropped' });
      await insertDeliveries(dataSource, [delivery]);
      expect(
        (await api.request({ method: 'POST', url: `/v1/subscriptions/${paused}/disable`, key: keyA })).status,
      ).toBe(200);
      const response = await resend(delivery.deliveryId);
      expect(response.status).toBe(409);
      expect(response.body['error']).toMatchObject({ code: 'SUBSCRIPTION_NOT_ACTIVE' });
      expect((response.body['error'] as { message: string }).message).toContain('enable it first');
    });

    it('answers 404 for an unknown delivery', async () => {
      expect((await resend('del_unknown')).status).toBe(404);
    });
  });
});
