import { type DataSource } from 'typeorm';
import { createDataSource, DeliveryHistoryPartitions, runMigrations } from '@skyhook/persistence';
import { createTestDatabase, type TestDatabase } from '@skyhook/testing';
import {
  attempted,
  deliveryRequest,
  PUBLISHED_AT,
  skipped,
  waiting,
  withoutAttemptId,
} from '@skyhook/testing';
import { planHistoryBatch } from './delivery-history-batch';
import { attemptCopyRows, deliveryCopyRows } from './delivery-history-rows';
import { DeliveryHistoryWriter } from './delivery-history.writer';

const KEEP_ALL = 0;
/** The day before PUBLISHED_AT's, a minute before its midnight: a batch can span both days. */
const DAY_BEFORE = '2026-11-19T23:59:00.000Z';

describe('delivery history writer against a real PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let writer: DeliveryHistoryWriter;

  beforeAll(async () => {
    database = await createTestDatabase('history-writer');
    dataSource = await createDataSource(
      { url: database.url, poolSize: 2, ssl: false, connectTimeoutMs: 5_000 },
      'history-writer-test',
    ).initialize();
    await runMigrations(dataSource);
    await new DeliveryHistoryPartitions(dataSource).ensureDays([
      new Date(PUBLISHED_AT),
      new Date(DAY_BEFORE),
    ]);
    writer = new DeliveryHistoryWriter(dataSource);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  async function row(deliveryId: string): Promise<Record<string, unknown>> {
    const [found] = await dataSource.query<Record<string, unknown>[]>(
      `SELECT status, attempt_count, last_response_status, request IS NOT NULL AS has_request,
         (SELECT count(*)::int FROM delivery_attempts a WHERE a.delivery_id = d.delivery_id) AS attempts
       FROM deliveries d WHERE delivery_id = $1`,
      [deliveryId],
    );
    return found ?? {};
  }

  it('inserts the deliveries a batch opens, merges the others, and merges all when an opened one is already there', async () => {
    const first = deliveryRequest(1);
    const second = deliveryRequest(2);
    const retryOfFirst = attempted(first, 1, 'retry-scheduled');

    // Both open here: plain inserts.
    expect(await writer.write(planHistoryBatch([retryOfFirst, skipped(second, 1, 'held')], KEEP_ALL))).toBe(
      1,
    );
    expect(await row(first.deliveryId)).toEqual({
      status: 'retrying',
      attempt_count: 1,
      last_response_status: 503,
      has_request: true,
      attempts: 1,
    });

    // A later attempt: merged into the row that is there.
    expect(await writer.write(planHistoryBatch([attempted(first, 2, 'delivered')], KEEP_ALL))).toBe(1);
    expect(await row(first.deliveryId)).toMatchObject({ status: 'delivered', attempt_count: 2, attempts: 2 });

    // The first batch again (re-delivered after a crash) with a new delivery beside it: the
    // opened rows are there, so the whole batch is merged; nothing regresses or doubles, and
    // the new delivery is written all the same.
    const third = deliveryRequest(3);
    const again = planHistoryBatch(
      [retryOfFirst, skipped(second, 1, 'held'), attempted(third, 1, 'delivered')],
      KEEP_ALL,
    );
    expect(await writer.write(again)).toBe(1);
    expect(await row(first.deliveryId)).toEqual({
      status: 'delivered',
      attempt_count: 2,
      last_response_status: 200,
      has_request: true,
      attempts: 2,
    });
    expect(await row(second.deliveryId)).toMatchObject({ status: 'held', attempt_count: 0, attempts: 0 });
    expect(await row(third.deliveryId)).toMatchObject({ status: 'delivered', attempt_count: 1, attempts: 1 });
  });

  it('shows an ordered delivery waiting behind another until its first attempt, whose copy then merges into the row', async () => {
    const request = deliveryRequest(40);
    const waitingOf = async () =>
      (
        await dataSource.query<{ waiting_behind: string | null }[]>(
          'SELECT waiting_behind FROM deliveries WHERE delivery_id = $1',
          [request.deliveryId],
        )
      )[0]?.waiting_behind;
    expect(await writer.write(planHistoryBatch([waiting(request, 'del_ahead', 1_500)], KEEP_ALL))).toBe(0);
    expect(await row(request.deliveryId)).toEqual({
      status: 'waiting',
      attempt_count: 0,
      last_response_status: null,
      has_request: true,
      attempts: 0,
    });
    expect(await waitingOf()).toBe('del_ahead');
    // Attempt 1 opens the delivery too: the row is there, so the batch goes the merging way.
    expect(await writer.write(planHistoryBatch([attempted(request, 1, 'delivered', 3_000)], KEEP_ALL))).toBe(
      1,
    );
    expect(await row(request.deliveryId)).toMatchObject({
      status: 'delivered',
      attempt_count: 1,
      attempts: 1,
    });
    expect(await waitingOf()).toBeNull();
    // The notice again, re-produced after a crash: older than the attempt, it changes nothing.
    await writer.write(planHistoryBatch([waiting(request, 'del_ahead', 1_500)], KEEP_ALL));
    expect(await row(request.deliveryId)).toMatchObject({ status: 'delivered', attempt_count: 1 });
    expect(await waitingOf()).toBeNull();
  });

  it('stores hostile strings exactly (U+0000 and unpaired surrogates as U+FFFD) whether a batch is copied or merged', async () => {
    const hostile = 'tab\there\nnew line\r\\N back\\slash \u0000 nul "quote" ✈ 😀 lone \ud800 \udfff';
    const stored = hostile
      .replaceAll('\u0000', '\uFFFD')
      .replace('\ud800', '\uFFFD')
      .replace('\udfff', '\uFFFD');
    const hostileData = { note: hostile, [hostile]: [hostile, '\\u0000 as text'] };
    const storedData = { note: stored, [stored]: [stored, '\\u0000 as text'] };
    const request = deliveryRequest(10);
    const withHostileData = { ...request, event: { ...request.event, data: hostileData } };
    const merged = deliveryRequest(11);
    const mergedWithHostileData = { ...merged, event: { ...merged.event, data: hostileData } };
    const first = {
      ...attempted(withHostileData, 1, 'retry-scheduled'),
      requestHeaders: { 'x-note': hostile },
      responseBody: hostile,
      errorMessage: hostile,
    };
    const second = { ...attempted(withHostileData, 2, 'failed'), responseBody: hostile };

    // First write: copied. The same attempt again beside new ones: the whole batch merged.
    expect(await writer.write(planHistoryBatch([first], KEEP_ALL))).toBe(1);
    const again = [first, second, attempted(mergedWithHostileData, 1, 'delivered')];
    expect(await writer.write(planHistoryBatch(again, KEEP_ALL))).toBe(2);

    const attempts = await dataSource.query<Record<string, unknown>[]>(
      `SELECT attempt_number, response_body, error_message, request_headers
       FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt_number`,
      [request.deliveryId],
    );
    expect(attempts).toEqual([
      {
        attempt_number: 1,
        response_body: stored,
        error_message: stored,
        request_headers: { 'x-note': stored },
      },
      {
        attempt_number: 2,
        response_body: stored,
        error_message: null,
        request_headers: second.requestHeaders,
      },
    ]);
    const deliveries = await dataSource.query<{ data: unknown; status: string }[]>(
      `SELECT request->'event'->'data' AS data, status FROM deliveries WHERE delivery_id = ANY($1)
       ORDER BY event_id`,
      [[request.deliveryId, merged.deliveryId]],
    );
    expect(deliveries).toEqual([
      { data: storedData, status: 'failed' },
      { data: storedData, status: 'delivered' },
    ]);
  });

  it('writes a batch that spans two publish days into each day’s partitions, copied or merged', async () => {
    const late = deliveryRequest(20, DAY_BEFORE);
    const early = deliveryRequest(21);
    const lateRetried = deliveryRequest(22, DAY_BEFORE);
    await writer.write(planHistoryBatch([attempted(lateRetried, 1, 'retry-scheduled')], KEEP_ALL));

    // Copied: two opening deliveries of two days; merged: a later attempt of the day before.
    const batch = planHistoryBatch(
      [
        attempted(late, 1, 'delivered'),
        attempted(early, 1, 'delivered'),
        attempted(lateRetried, 2, 'delivered'),
      ],
      KEEP_ALL,
    );
    expect(batch.days.size).toBe(2);
    expect(await writer.write(batch)).toBe(3);
    // The same batch again, with a new delivery: every row merged, nothing doubled.
    const again = planHistoryBatch(
      [...batch.attempts, attempted(deliveryRequest(23), 1, 'delivered')],
      KEEP_ALL,
    );
    expect(await writer.write(again)).toBe(1);

    const rows = await dataSource.query<
      { partition: string; delivery_id: string; status: string; attempts: number }[]
    >(
      `SELECT d.tableoid::regclass::text AS partition, d.delivery_id, d.status,
         (SELECT count(*)::int FROM delivery_attempts a
           WHERE a.delivery_id = d.delivery_id AND a.tableoid::regclass::text = replace(d.tableoid::regclass::text, 'deliveries', 'delivery_attempts')) AS attempts
       FROM deliveries d WHERE delivery_id = ANY($1) ORDER BY d.delivery_id`,
      [[late.deliveryId, early.deliveryId, lateRetried.deliveryId]],
    );
    const expected = [
      { partition: 'deliveries_p20261119', delivery_id: late.deliveryId, status: 'delivered', attempts: 1 },
      { partition: 'deliveries_p20261120', delivery_id: early.deliveryId, status: 'delivered', attempts: 1 },
      {
        partition: 'deliveries_p20261119',
        delivery_id: lateRetried.deliveryId,
        status: 'delivered',
        attempts: 2,
      },
    ].sort((a, b) => (a.delivery_id < b.delivery_id ? -1 : 1));
    expect(rows).toEqual(expected);
  });

  async function attemptsOf(deliveryId: string): Promise<Record<string, unknown>[]> {
    return dataSource.query<Record<string, unknown>[]>(
      `SELECT attempt_number, attempt_id, response_status, tableoid::regclass::text AS partition
       FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt_number, attempted_at`,
      [deliveryId],
    );
  }

  async function deliveryRows(deliveryId: string): Promise<Record<string, unknown>[]> {
    return dataSource.query<Record<string, unknown>[]>(
      `SELECT tableoid::regclass::text AS partition, status, attempt_count, request IS NOT NULL AS has_request,
         (SELECT published_at FROM delivery_publish_times t WHERE t.delivery_id = d.delivery_id) = d.published_at
           AS filed_here
       FROM deliveries d WHERE delivery_id = $1`,
      [deliveryId],
    );
  }

  it('stores a request sent again under the same number as an attempt of its own, and a re-produced attempt once', async () => {
    const request = deliveryRequest(30);
    const first = attempted(request, 1, 'retry-scheduled');
    const sentAgain = { ...attempted(request, 1, 'delivered', 9_000, 1) };

    expect(await writer.write(planHistoryBatch([first, first], KEEP_ALL))).toBe(1);
    // After a crash: the first attempt's record again (produced twice), and the request sent again.
    expect(await writer.write(planHistoryBatch([first, sentAgain], KEEP_ALL))).toBe(1);
    expect(await writer.write(planHistoryBatch([sentAgain], KEEP_ALL))).toBe(0);

    expect(await attemptsOf(request.deliveryId)).toEqual([
      expect.objectContaining({ attempt_number: 1, attempt_id: first.attemptId, response_status: 503 }),
      expect.objectContaining({ attempt_number: 1, attempt_id: sentAgain.attemptId, response_status: 200 }),
    ]);
    expect(await deliveryRows(request.deliveryId)).toEqual([
      {
        partition: 'deliveries_p20261120',
        status: 'delivered',
        attempt_count: 1,
        has_request: true,
        filed_here: true,
      },
    ]);
  });

  it('keeps the mark of a request sent after a dispatch whose outcome is unknown, copied or merged', async () => {
    const request = deliveryRequest(34);
    const marked = { ...attempted(request, 1, 'retry-scheduled'), afterUnknownOutcome: true };
    const next = { ...attempted(request, 2, 'retry-scheduled') };
    const markedLater = { ...attempted(request, 3, 'delivered'), afterUnknownOutcome: true };
    // Copied: the batch opens the delivery.
    await writer.write(planHistoryBatch([marked], KEEP_ALL));
    // Merged: the first attempt's record again opens a delivery that is there already.
    await writer.write(planHistoryBatch([marked, next, markedLater], KEEP_ALL));
    const marks = await dataSource.query<Record<string, unknown>[]>(
      `SELECT attempt_number, after_unknown_outcome FROM delivery_attempts
       WHERE delivery_id = $1 ORDER BY attempt_number`,
      [request.deliveryId],
    );
    expect(marks).toEqual([
      { attempt_number: 1, after_unknown_outcome: true },
      { attempt_number: 2, after_unknown_outcome: false },
      { attempt_number: 3, after_unknown_outcome: true },
    ]);
  });

  it('keeps attempts produced before attempts had ids keyed by their number, copied or merged', async () => {
    const request = deliveryRequest(31);
    const old = withoutAttemptId(attempted(request, 1, 'retry-scheduled'));
    expect(await writer.write(planHistoryBatch([old], KEEP_ALL))).toBe(1);
    expect(await writer.write(planHistoryBatch([old, attempted(request, 2, 'delivered')], KEEP_ALL))).toBe(1);
    expect(await attemptsOf(request.deliveryId)).toEqual([
      expect.objectContaining({ attempt_number: 1, attempt_id: '' }),
      expect.objectContaining({ attempt_number: 2, attempt_id: `att_${request.deliveryId}_2_0` }),
    ]);
  });

  it('keeps one row for a delivery whose event entered twice, under the first copy’s publish time, whatever day the second names', async () => {
    // The first copy is published a minute before midnight, the second the next morning; each
    // copy's attempts are requests of their own (attempt ids of their own).
    const firstCopy = deliveryRequest(32, DAY_BEFORE);
    const secondCopy = { ...firstCopy, publishedAt: PUBLISHED_AT };
    const other = deliveryRequest(33);

    expect(await writer.write(planHistoryBatch([attempted(firstCopy, 1, 'retry-scheduled')], KEEP_ALL))).toBe(
      1,
    );
    // The second copy opens "its" delivery in a batch of its own (the fast write finds the
    // delivery filed, and the batch is merged), beside a delivery that is new.
    expect(
      await writer.write(
        planHistoryBatch(
          [attempted(secondCopy, 1, 'retry-scheduled', 3_600_000, 1), attempted(other, 1, 'delivered')],
          KEEP_ALL,
        ),
      ),
    ).toBe(2);
    // A later attempt of the second copy alone: merged by the fast write, which finds no row
    // under its publish time and so files it, and finds the delivery filed under another.
    expect(
      await writer.write(planHistoryBatch([attempted(secondCopy, 2, 'delivered', 3_700_000, 1)], KEEP_ALL)),
    ).toBe(1);
    // And the first copy's own retry, in the fast write as ever.
    expect(await writer.write(planHistoryBatch([attempted(firstCopy, 2, 'failed', 2_000)], KEEP_ALL))).toBe(
      1,
    );

    expect(await deliveryRows(firstCopy.deliveryId)).toEqual([
      {
        partition: 'deliveries_p20261119',
        status: 'delivered',
        attempt_count: 2,
        has_request: true,
        filed_here: true,
      },
    ]);
    const attempts = await attemptsOf(firstCopy.deliveryId);
    expect(attempts).toHaveLength(4);
    expect(new Set(attempts.map((attempt) => attempt['partition']))).toEqual(
      new Set(['delivery_attempts_p20261119']),
    );
    expect(await deliveryRows(other.deliveryId)).toEqual([
      {
        partition: 'deliveries_p20261120',
        status: 'delivered',
        attempt_count: 1,
        has_request: true,
        filed_here: true,
      },
    ]);
  });

  it('copies a batch whose COPY text runs to many pieces, every row whole and once', async () => {
    const requests = Array.from({ length: 3_000 }, (_, n) => deliveryRequest(1_000 + n));
    const batch = planHistoryBatch(
      requests.map((request) => attempted(request, 1, 'delivered')),
      KEEP_ALL,
    );
    expect(attemptCopyRows(batch.attempts).length).toBeGreaterThan(10);
    expect(deliveryCopyRows(batch.deliveries).length).toBeGreaterThan(10);

    expect(await writer.write(batch)).toBe(3_000);

    const ids = requests.map((request) => request.deliveryId);
    const [stored] = await dataSource.query<
      { deliveries: number; attempts: number; whole_requests: number; whole_headers: number }[]
    >(
      `SELECT count(*)::int AS deliveries,
         count(*) FILTER (WHERE d.request->>'deliveryId' = d.delivery_id)::int AS whole_requests,
         (SELECT count(*)::int FROM delivery_attempts a WHERE a.delivery_id = ANY($1)) AS attempts,
         (SELECT count(*)::int FROM delivery_attempts a
           WHERE a.delivery_id = ANY($1) AND a.request_headers->>'webhook-id' = a.delivery_id) AS whole_headers
       FROM deliveries d WHERE d.delivery_id = ANY($1)`,
      [ids],
    );
    expect(stored).toEqual({
      deliveries: 3_000,
      attempts: 3_000,
      whole_requests: 3_000,
      whole_headers: 3_000,
    });
  });
});
