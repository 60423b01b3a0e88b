import { pollUntil, startTcpProxy, type TcpProxy, urlThroughProxy } from '@skyhook/testing';
import { deliveryEventStream, HistoryHarness, metricValue } from './test/history-harness';

const OUTAGE_MS = 10_000;

describe('history projector through a PostgreSQL outage', () => {
  let harness: HistoryHarness;
  let proxy: TcpProxy;

  beforeAll(async () => {
    harness = await HistoryHarness.create();
    const database = new URL(harness.database.url);
    proxy = await startTcpProxy({ host: database.hostname, port: Number(database.port || '5432') });
  });

  afterAll(async () => {
    await proxy.close();
    await harness.close();
  });

  it('stays up without committing while PostgreSQL is unreachable for 10 s, then catches up with nothing lost or doubled', async () => {
    const { events, attempts, expected } = deliveryEventStream(
      6_000,
      new Date(Date.now() - 3_600_000).toISOString(),
    );
    const half = Math.floor(events.length / 2);
    const history = await harness.startHistory({
      DATABASE_URL: urlThroughProxy(harness.database.url, proxy),
      HISTORY_READY_MAX_LAG: '1000',
    });
    let exitCode: number | null | undefined;
    void history.exited.then((code) => (exitCode = code));
    try {
      await harness.produce(events.slice(0, half));
      await pollUntil(async () => (await harness.count('delivery_attempts')) > 0, {
        intervalMs: 10,
        description: 'the first attempts written',
      });

      await proxy.cut();
      const cutAt = Date.now();
      await harness.produce(events.slice(half));
      // Unready for both reasons: the database does not answer, and the backlog outgrows the limit.
      const unready = await pollUntil(
        async () => {
          const response = await fetch(`${history.baseUrl}/health/ready`);
          const body = (await response.json()) as { error?: Record<string, { reason?: string }> };
          return response.status === 503 && body.error?.['history-projector-lag'] !== undefined
            ? body.error
            : undefined;
        },
        { timeoutMs: 15_000, description: 'history unready while PostgreSQL is unreachable' },
      );
      expect(unready['postgres']).toBeDefined();
      expect(unready['history-projector-lag']?.reason).toMatch(
        /^projector lag \d+ records exceeds HISTORY_READY_MAX_LAG 1000$/,
      );
      const attemptsDuringOutage = await harness.count('delivery_attempts');
      expect(attemptsDuringOutage).toBeLessThan(attempts);
      // The outage is the scenario itself: PostgreSQL stays away this long whatever the service does.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - cutAt))));
      expect(await harness.count('delivery_attempts')).toBe(attemptsDuringOutage);
      expect(await metricValue(history, 'skyhook_history_batch_failures_total')).toBeGreaterThan(0);
      await proxy.restore();
      const restoredAt = Date.now();

      await pollUntil(async () => (await harness.count('delivery_attempts')) > attemptsDuringOutage, {
        intervalMs: 100,
        description: 'history writing again',
      });
      const resumedAfterMs = Date.now() - restoredAt;
      process.stdout.write(`history: writing again ${resumedAfterMs} ms after PostgreSQL came back\n`);
      // Generous (a loaded machine): the failed batch is retried at least once a second in place.
      // A backoff that grows with the outage (kafkajs' own, up to 10 s) shows here.
      expect(resumedAfterMs).toBeLessThan(5_000);
      await harness.waitForCounts(expected.size, attempts);
      process.stdout.write(
        `history: caught up ${((Date.now() - restoredAt) / 1_000).toFixed(1)} s after PostgreSQL came back\n`,
      );
      expect(await harness.mismatchedDeliveries(expected)).toEqual([]);
      await harness.waitUntilCaughtUp();
      await pollUntil(async () => (await fetch(`${history.baseUrl}/health/ready`)).status === 200, {
        description: 'history ready again',
      });
      expect(exitCode).toBeUndefined();
      expect(proxy.connectionsAccepted).toBeGreaterThan(1);
    } finally {
      expect(await history.stop('SIGTERM')).toBe(0);
    }
  });
});
