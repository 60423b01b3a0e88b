import { DEAD_LETTER_HEADERS, topicNameOf } from '@skyhook/messaging';
import { pollUntil, readTopic } from '@skyhook/testing';
import { deliveryEventStream, HistoryHarness, metricValue } from './test/history-harness';

describe('history projector against real Kafka and PostgreSQL', () => {
  let harness: HistoryHarness;

  beforeAll(async () => {
    harness = await HistoryHarness.create();
  });

  afterAll(async () => {
    await harness.close();
  });

  it('records every attempt exactly once across a kill -9 mid-stream, and a replay of the whole stream adds nothing', async () => {
    const stream = deliveryEventStream(13_340, new Date(Date.now() - 3_600_000).toISOString());
    const { events, attempts, expected } = stream;
    expect(events.length).toBeGreaterThanOrEqual(20_000);
    const half = Math.floor(events.length / 2);

    let history = await harness.startHistory();
    await harness.produce(events.slice(0, half));
    await pollUntil(async () => (await harness.count('delivery_attempts')) > 0, {
      intervalMs: 10,
      description: 'the first attempts written',
    });
    await history.stop('SIGKILL');
    const attemptsAtKill = await harness.count('delivery_attempts');
    await harness.produce(events.slice(half));
    expect(attemptsAtKill).toBeLessThan(attempts);

    const restarted = Date.now();
    history = await harness.startHistory();
    try {
      await harness.waitForCounts(expected.size, attempts);
      const seconds = (Date.now() - restarted) / 1_000;
      process.stdout.write(
        `history: ${attempts - attemptsAtKill} attempts (${events.length} events in all) projected within ${seconds.toFixed(1)} s of the restart, process start included\n`,
      );
      expect(await harness.mismatchedDeliveries(expected)).toEqual([]);
      const [distinct] = await harness.dataSource.query<{ count: number }[]>(
        'SELECT count(DISTINCT (delivery_id, attempt_number))::int AS count FROM delivery_attempts',
      );
      expect(distinct?.count).toBe(attempts);

      // The same events again, in the same order: every attempt row is already there, and each
      // delivery's older events (replayed after its newest one was recorded) change nothing.
      const insertedBefore = await metricValue(history, 'skyhook_history_attempt_rows_total', {
        outcome: 'inserted',
      });
      await harness.produce(events);
      await harness.waitUntilCaughtUp();
      await pollUntil(
        async () =>
          (await metricValue(history, 'skyhook_history_attempt_rows_total', {
            outcome: 'already_present',
          })) >= attempts,
        { description: 'the replayed attempts seen as already present' },
      );
      expect(await metricValue(history, 'skyhook_history_attempt_rows_total', { outcome: 'inserted' })).toBe(
        insertedBefore,
      );
      expect(await harness.count('delivery_attempts')).toBe(attempts);
      expect(await harness.count('deliveries')).toBe(expected.size);
      expect(await harness.mismatchedDeliveries(expected)).toEqual([]);
      expect(
        await metricValue(history, 'skyhook_history_events_projected_total', { type: 'skipped' }),
      ).toBeGreaterThanOrEqual(events.length - attempts);
    } finally {
      expect(await history.stop('SIGTERM')).toBe(0);
    }
  });

  it('sends a delivery event that breaks its contract to the dead-letter topic and projects the next one', async () => {
    const deadLetters = await readTopic(
      harness.settings.brokers,
      topicNameOf(harness.settings, 'deliveryEventsDeadLetter'),
    );
    const history = await harness.startHistory();
    try {
      const before = await harness.count('delivery_attempts');
      const after = deliveryEventStream(1, new Date(Date.now() - 60_000).toISOString(), 900_000);
      await harness.produceRaw('del_broken', '{"type": "DeliveryAttempted", "deliveryId": ');
      await harness.produceRaw(
        'del_wrong',
        JSON.stringify({ type: 'DeliveryAttempted', deliveryId: 'del_wrong' }),
      );
      await harness.produce(after.events);
      await pollUntil(
        async () =>
          deadLetters.records.length >= 2 &&
          (await harness.count('delivery_attempts')) === before + after.attempts,
        { description: 'two dead letters and the next delivery projected' },
      );
      expect(deadLetters.records.map((record) => record.key).sort()).toEqual(['del_broken', 'del_wrong']);
      for (const record of deadLetters.records) {
        expect(record.headers[DEAD_LETTER_HEADERS.code]).toMatch(/^[A-Z_]+$/);
        expect(record.headers[DEAD_LETTER_HEADERS.reason]).toBeTruthy();
      }
      expect(deadLetters.records.find((record) => record.key === 'del_broken')?.value).toBe(
        '{"type": "DeliveryAttempted", "deliveryId": ',
      );
    } finally {
      await deadLetters.stop();
      expect(await history.stop('SIGTERM')).toBe(0);
    }
  });
});
