import { copyJson, copyScalar, copyText } from '@skyhook/persistence';
import {
  attempted,
  deliveryRequest,
  PUBLISHED_AT,
  skipped,
  waiting,
  withoutAttemptId,
} from '@skyhook/testing';
import { deliveryStatusOf, oldestRetainedDay, planHistoryBatch } from './delivery-history-batch';
import {
  ATTEMPT_COLUMNS,
  attemptCopyRows,
  copyFormOf,
  DELIVERY_COLUMNS,
  deliveryCopyRows,
  type HistoryColumn,
  jsonRowsOf,
} from './delivery-history-rows';

const DAY_MS = 86_400_000;
const KEEP_ALL = Number.NEGATIVE_INFINITY;

describe('planning a batch of delivery events', () => {
  it('maps attempt results and skip dispositions to delivery statuses', () => {
    const request = deliveryRequest(1);
    expect(deliveryStatusOf(attempted(request, 1, 'delivered'))).toBe('delivered');
    expect(deliveryStatusOf(attempted(request, 1, 'retry-scheduled'))).toBe('retrying');
    expect(deliveryStatusOf(attempted(request, 1, 'failed'))).toBe('failed');
    expect(deliveryStatusOf(skipped(request, 2, 'dropped'))).toBe('dropped');
    expect(deliveryStatusOf(skipped(request, 2, 'held'))).toBe('held');
  });

  it('folds a delivery retried twice into one row with the last attempt status and the first request', () => {
    const request = deliveryRequest(1);
    const events = [
      attempted(request, 1, 'retry-scheduled'),
      attempted(request, 2, 'retry-scheduled'),
      attempted(request, 3, 'delivered'),
    ];
    const batch = planHistoryBatch(events, KEEP_ALL);

    expect(batch.attempts).toHaveLength(3);
    expect(batch.deliveries).toEqual([
      {
        publishedAt: PUBLISHED_AT,
        deliveryId: request.deliveryId,
        organisationId: 'org_1',
        subscriptionId: 'sub_1',
        eventId: 'evt_1',
        eventType: 'booking.created',
        test: false,
        status: 'delivered',
        statusAt: events[2]?.attemptedAt,
        attemptCount: 3,
        firstAttemptAt: events[0]?.attemptedAt,
        lastAttemptAt: events[2]?.attemptedAt,
        nextAttemptAt: null,
        lastOutcome: 'success',
        lastResponseStatus: 200,
        skipReason: null,
        waitingBehind: null,
        request,
        opensDelivery: true,
      },
    ]);
    expect(batch.days).toEqual(new Set([Date.parse('2026-11-20T00:00:00Z')]));
    expect([batch.attempted, batch.skipped, batch.expired]).toEqual([3, 0, 0]);
  });

  it('keeps the status of the newest event when an older one comes later in the log', () => {
    const request = deliveryRequest(1);
    const batch = planHistoryBatch(
      [attempted(request, 2, 'delivered'), attempted(request, 1, 'retry-scheduled')],
      KEEP_ALL,
    );
    expect(batch.deliveries[0]).toMatchObject({
      status: 'delivered',
      attemptCount: 2,
      nextAttemptAt: null,
      lastOutcome: 'success',
      firstAttemptAt: '2026-11-20T10:00:01.000Z',
      lastAttemptAt: '2026-11-20T10:00:02.000Z',
      request,
    });
  });

  it('lets the later event in the log win when two happened at the same instant', () => {
    const request = deliveryRequest(1);
    const batch = planHistoryBatch(
      [attempted(request, 1, 'retry-scheduled', 5_000), skipped(request, 2, 'held', 5_000)],
      KEEP_ALL,
    );
    expect(batch.deliveries[0]).toMatchObject({ status: 'held', skipReason: 'subscription-disabled' });
  });

  it('records a skip after a failed attempt as the status, counting only the attempt made, and keeps the last outcome', () => {
    const request = deliveryRequest(1);
    const batch = planHistoryBatch(
      [attempted(request, 1, 'retry-scheduled'), skipped(request, 2, 'dropped')],
      KEEP_ALL,
    );
    expect(batch.attempts).toHaveLength(1);
    expect([batch.attempted, batch.skipped]).toEqual([1, 1]);
    expect(batch.deliveries[0]).toMatchObject({
      status: 'dropped',
      statusAt: '2026-11-20T10:00:02.000Z',
      skipReason: 'subscription-disabled',
      nextAttemptAt: null,
      attemptCount: 1,
      lastOutcome: 'http-error',
      lastResponseStatus: 503,
      lastAttemptAt: '2026-11-20T10:00:01.000Z',
    });
  });

  it('shows an ordered delivery waiting behind the one before it until its first attempt, then forgets that one', () => {
    const request = deliveryRequest(2);
    const waits = planHistoryBatch([waiting(request, 'del_before', 1_500)], KEEP_ALL);
    expect(deliveryStatusOf(waiting(request, 'del_before', 1_500))).toBe('waiting');
    expect([waits.attempted, waits.skipped, waits.waiting]).toEqual([0, 0, 1]);
    expect(waits.attempts).toEqual([]);
    expect(waits.deliveries[0]).toMatchObject({
      status: 'waiting',
      waitingBehind: 'del_before',
      statusAt: '2026-11-20T10:00:01.500Z',
      attemptCount: 0,
      firstAttemptAt: null,
      request,
      opensDelivery: true,
    });

    const thenSent = planHistoryBatch(
      [waiting(request, 'del_before', 1_500), attempted(request, 1, 'delivered', 4_000)],
      KEEP_ALL,
    );
    expect(thenSent.deliveries[0]).toMatchObject({
      status: 'delivered',
      waitingBehind: null,
      attemptCount: 1,
    });
    // A notice produced late (a crash re-read the delivery) never hides an attempt made after it was noticed.
    const noticeLate = planHistoryBatch(
      [attempted(request, 1, 'delivered', 4_000), waiting(request, 'del_before', 1_500)],
      KEEP_ALL,
    );
    expect(noticeLate.deliveries[0]).toMatchObject({ status: 'delivered', waitingBehind: null });
  });

  it('summarises a delivery only ever skipped without attempt times or outcome', () => {
    const request = deliveryRequest(1);
    const batch = planHistoryBatch([skipped(request, 1, 'held')], KEEP_ALL);
    expect(batch.attempts).toEqual([]);
    expect(batch.deliveries[0]).toMatchObject({
      status: 'held',
      attemptCount: 0,
      firstAttemptAt: null,
      lastAttemptAt: null,
      lastOutcome: null,
      lastResponseStatus: null,
      request,
    });
  });

  it('plans a re-produced attempt once, and one row per delivery ordered by delivery id', () => {
    const [a, b] = [deliveryRequest(1), deliveryRequest(2)];
    const first = attempted(a, 1, 'delivered');
    const batch = planHistoryBatch([first, attempted(b, 1, 'delivered'), first], KEEP_ALL);
    expect(batch.attempts).toHaveLength(2);
    expect(batch.attempted).toBe(3);
    expect(batch.deliveries.map((delivery) => delivery.deliveryId)).toEqual(
      [a.deliveryId, b.deliveryId].sort(),
    );
  });

  it('plans a request sent again under the same number as an attempt of its own, and a re-produced one once', () => {
    const request = deliveryRequest(1);
    const first = attempted(request, 1, 'retry-scheduled');
    const sentAgain = attempted(request, 1, 'retry-scheduled', 4_000, 1);
    const batch = planHistoryBatch([first, first, sentAgain, sentAgain], KEEP_ALL);
    expect(batch.attempts).toEqual([first, sentAgain]);
    expect(batch.attempted).toBe(4);
    expect(batch.deliveries).toMatchObject([{ attemptCount: 1, lastAttemptAt: sentAgain.attemptedAt }]);
  });

  it('keys attempts produced before attempts had ids by their number alone, as before', () => {
    const request = deliveryRequest(1);
    const old = withoutAttemptId(attempted(request, 1, 'retry-scheduled'));
    const batch = planHistoryBatch(
      [old, old, withoutAttemptId(attempted(request, 2, 'delivered'))],
      KEEP_ALL,
    );
    expect(batch.attempts.map((attempt) => [attempt.attemptNumber, attempt.attemptId])).toEqual([
      [1, undefined],
      [2, undefined],
    ]);
    expect(
      (JSON.parse(jsonRowsOf(batch.attempts, ATTEMPT_COLUMNS)) as Record<string, unknown>[])[0],
    ).not.toHaveProperty('attemptId');
  });

  it('files every event of a delivery under the first publish time in the run, whatever day the others name', () => {
    // The same event entered twice: one delivery id, two publish times a day apart.
    const firstCopy = deliveryRequest(1);
    const secondCopy = {
      ...firstCopy,
      publishedAt: new Date(Date.parse(PUBLISHED_AT) + DAY_MS).toISOString(),
    };
    const batch = planHistoryBatch(
      [
        attempted(firstCopy, 1, 'retry-scheduled'),
        attempted(secondCopy, 1, 'delivered', 1_000, 1),
        attempted(firstCopy, 2, 'delivered'),
      ],
      KEEP_ALL,
    );
    expect(batch.deliveries).toHaveLength(1);
    expect(batch.deliveries[0]).toMatchObject({ publishedAt: PUBLISHED_AT, opensDelivery: true });
    expect(batch.attempts).toHaveLength(3);
    expect(new Set(batch.attempts.map((attempt) => attempt.publishedAt))).toEqual(new Set([PUBLISHED_AT]));
    expect(batch.days).toEqual(new Set([Date.parse('2026-11-20T00:00:00Z')]));
  });

  it('files deliveries under the publish times the table gives, and judges expiry on them', () => {
    const filedBefore = deliveryRequest(1, '2026-11-19T23:59:00.000Z');
    const copy = { ...filedBefore, publishedAt: PUBLISHED_AT };
    const other = deliveryRequest(2);
    const publishTimes = new Map([[filedBefore.deliveryId, filedBefore.publishedAt]]);
    const batch = planHistoryBatch(
      [attempted(copy, 1, 'delivered'), attempted(other, 1, 'delivered')],
      KEEP_ALL,
      publishTimes,
    );
    expect(batch.deliveries.map((delivery) => [delivery.deliveryId, delivery.publishedAt]).sort()).toEqual(
      [
        [filedBefore.deliveryId, filedBefore.publishedAt],
        [other.deliveryId, PUBLISHED_AT],
      ].sort(),
    );
    expect(batch.attempts.find((attempt) => attempt.deliveryId === copy.deliveryId)?.publishedAt).toBe(
      filedBefore.publishedAt,
    );
    expect(batch.days.size).toBe(2);
    // Filed under a day retention has dropped: left out, although the copy's own day is kept.
    const expired = planHistoryBatch(
      [attempted(copy, 1, 'delivered')],
      Date.parse(PUBLISHED_AT),
      publishTimes,
    );
    expect([expired.expired, expired.attempts.length, expired.deliveries.length]).toEqual([1, 0, 0]);
  });

  it('leaves out events of days retention drops, and keeps the day the cutoff falls in', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    const oldest = oldestRetainedDay(now, 30);
    expect(new Date(oldest).toISOString()).toBe('2026-10-24T00:00:00.000Z');
    const expired = deliveryRequest(1, '2026-10-23T23:59:59.999Z');
    const kept = deliveryRequest(2, '2026-10-24T00:00:00.000Z');
    const batch = planHistoryBatch(
      [attempted(expired, 1, 'delivered'), attempted(kept, 1, 'delivered')],
      oldest,
    );
    expect(batch.expired).toBe(1);
    expect(batch.attempts.map((attempt) => attempt.deliveryId)).toEqual([kept.deliveryId]);
    expect(batch.deliveries.map((delivery) => delivery.deliveryId)).toEqual([kept.deliveryId]);
    expect([...batch.days]).toEqual([oldest]);
    expect(oldestRetainedDay(now, 1)).toBe(Date.parse('2026-11-22T00:00:00Z'));
    expect(oldestRetainedDay(Date.parse('2026-11-23T00:00:00Z'), 1) + DAY_MS).toBe(
      Date.parse('2026-11-23T00:00:00Z'),
    );
  });
});

describe('attempt counts', () => {
  it('counts no attempt for a delivery held or dropped before its first attempt', () => {
    const request = deliveryRequest(1);
    for (const disposition of ['held', 'dropped'] as const) {
      const [delivery] = planHistoryBatch([skipped(request, 1, disposition)], KEEP_ALL).deliveries;
      expect(delivery).toMatchObject({ status: disposition, attemptCount: 0, firstAttemptAt: null });
    }
  });

  it('counts the attempts made before a skip, whichever order the events come in', () => {
    const request = deliveryRequest(1);
    const events = [
      attempted(request, 1, 'retry-scheduled'),
      attempted(request, 2, 'retry-scheduled'),
      skipped(request, 3, 'held'),
    ];
    expect(planHistoryBatch(events, KEEP_ALL).deliveries[0]).toMatchObject({ attemptCount: 2 });
    expect(planHistoryBatch([...events].reverse(), KEEP_ALL).deliveries[0]).toMatchObject({
      attemptCount: 2,
    });
  });
});

describe('statement rows', () => {
  it('sends each attempt without its request, and each delivery summary whole, as JSON rows', () => {
    const request = deliveryRequest(1);
    const batch = planHistoryBatch(
      [attempted(request, 1, 'retry-scheduled'), skipped(request, 2, 'held')],
      KEEP_ALL,
    );
    const attempts = JSON.parse(jsonRowsOf(batch.attempts, ATTEMPT_COLUMNS)) as Record<string, unknown>[];
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).not.toHaveProperty('request');
    // Exactly the columns of the table.
    expect(Object.keys(attempts[0] ?? {}).sort()).toEqual(
      [
        'publishedAt',
        'deliveryId',
        'attemptNumber',
        'attemptId',
        'organisationId',
        'subscriptionId',
        'attemptedAt',
        'durationMs',
        'url',
        'requestHeaders',
        'requestBodyBytes',
        'outcome',
        'responseStatus',
        'responseBody',
        'errorCode',
        'errorMessage',
        'result',
        'nextAttemptAt',
      ].sort(),
    );
    expect(attempts[0]).toMatchObject({
      deliveryId: request.deliveryId,
      attemptNumber: 1,
      requestHeaders: { 'content-type': 'application/json', 'webhook-id': request.deliveryId },
      errorCode: null,
    });

    const deliveries = JSON.parse(jsonRowsOf(batch.deliveries, DELIVERY_COLUMNS)) as Record<
      string,
      unknown
    >[];
    expect(deliveries).toHaveLength(1);
    // One attempt made; the second was held, not made.
    expect(deliveries[0]).toMatchObject({ status: 'held', attemptCount: 1, request });
    expect(deliveries[0]).not.toHaveProperty('opensDelivery');
    const later = planHistoryBatch([attempted(request, 2, 'delivered')], KEEP_ALL).deliveries;
    expect(
      (JSON.parse(jsonRowsOf(later, DELIVERY_COLUMNS)) as Record<string, unknown>[])[0]?.['request'],
    ).toBeNull();
  });

  it('writes COPY rows in the order of the column lists the statements name', () => {
    const request = deliveryRequest(1);
    const first = {
      ...attempted(request, 1, 'retry-scheduled'),
      errorCode: 'E_CODE',
      errorMessage: 'message',
      afterUnknownOutcome: true,
    };
    const batch = planHistoryBatch(
      [first, attempted(request, 2, 'retry-scheduled'), skipped(request, 3, 'held', 5_000)],
      KEEP_ALL,
    );
    // Every value in a place of its own, so a swap of two columns shows.
    const copyFieldsOf = <Row>(row: Row, columns: readonly HistoryColumn<Row>[]) =>
      columns.map(({ field, type, absentAs }) => {
        // An absent attempt id goes in as the empty id, an absent mark as false (`absentAs`).
        const absent = row[field] === undefined && absentAs !== undefined;
        const value = absent ? (type === 'boolean' ? false : '') : (row[field] as unknown);
        if (type === 'jsonb') return copyJson(value);
        if (type === 'text' || type === 'timestamptz') return copyText(value as string | null);
        return copyScalar(value as number | boolean | null);
      });
    const [attempt] = batch.attempts;
    const [planned] = batch.deliveries;
    if (attempt === undefined || planned === undefined) throw new Error('the batch has rows');
    // No one event sets both a skip reason and a delivery waited for: the row has both here.
    const delivery = { ...planned, waitingBehind: 'del_ahead' };
    expect(attemptCopyRows([attempt]).join('')).toBe(
      `${copyFieldsOf(attempt, ATTEMPT_COLUMNS).join('\t')}\n`,
    );
    expect(deliveryCopyRows([delivery]).join('')).toBe(
      `${copyFieldsOf(delivery, DELIVERY_COLUMNS).join('\t')}\n`,
    );
    expect(new Set(copyFieldsOf(delivery, DELIVERY_COLUMNS)).size).toBe(DELIVERY_COLUMNS.length);
    expect(new Set(copyFieldsOf(attempt, ATTEMPT_COLUMNS)).size).toBe(ATTEMPT_COLUMNS.length);
    // An attempt without the mark (every undisturbed one) is stored unmarked.
    expect(attemptCopyRows([batch.attempts[1]!]).join('')).toMatch(/\tf\n$/);
  });

  it('gives the fast write one entry per publish day, in order of day, opened and merged deliveries apart', () => {
    const dayBefore = deliveryRequest(2, new Date(Date.parse(PUBLISHED_AT) - DAY_MS).toISOString());
    const today = deliveryRequest(3);
    const batch = planHistoryBatch(
      [attempted(today, 1, 'delivered'), attempted(dayBefore, 2, 'delivered'), skipped(today, 2, 'held')],
      KEEP_ALL,
    );
    const form = copyFormOf(batch);
    expect(form.days.map((day) => day.dayMs)).toEqual([...batch.days].sort((a, b) => a - b));
    const [before, current] = form.days;
    // The day before: only a later attempt, so its delivery is merged, not copied.
    expect(before?.attempts.join('')).toBe(attemptCopyRows([batch.attempts[1]!]).join(''));
    expect(before?.openedDeliveries).toEqual([]);
    expect(JSON.parse(before?.mergedDeliveries ?? 'null')).toMatchObject([
      { deliveryId: dayBefore.deliveryId },
    ]);
    // Today: attempt 1 opens the delivery, which is copied with the skip folded in.
    expect(current?.openedDeliveries.join('')).toContain(today.deliveryId);
    expect(current?.mergedDeliveries).toBeNull();
    // Only the delivery opened here is filed under its publish time by the fast write.
    expect(form.publishTimes.join('')).toBe(`${today.deliveryId}\t${PUBLISHED_AT}\n`);
    expect(copyFormOf(planHistoryBatch([], KEEP_ALL))).toEqual({ publishTimes: [], days: [] });
  });

  it('marks a delivery as opened in the run only when the run holds its attempt (or skip) number 1', () => {
    const request = deliveryRequest(1);
    const opensOf = (events: Parameters<typeof planHistoryBatch>[0]) =>
      planHistoryBatch(events, KEEP_ALL).deliveries.map((delivery) => delivery.opensDelivery);
    expect(opensOf([attempted(request, 1, 'retry-scheduled')])).toEqual([true]);
    expect(opensOf([skipped(request, 1, 'held')])).toEqual([true]);
    expect(opensOf([attempted(request, 2, 'retry-scheduled'), attempted(request, 3, 'delivered')])).toEqual([
      false,
    ]);
    // Out of log order (a re-produced first attempt after a later one): still opened here.
    expect(
      opensOf([attempted(request, 2, 'retry-scheduled'), attempted(request, 1, 'retry-scheduled')]),
    ).toEqual([true]);
  });
});
