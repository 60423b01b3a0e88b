import { type OtlpReceiver, startOtlpReceiver } from '../otlp-receiver';
import { pollUntil } from '../poll-until';
import { testPostgresAdminUrl } from '../test-infrastructure-env';
import { auditFailures, type ChaosScenarioReport, runChaosScenario } from './chaos-scenario';
import { type ChaosStack, startChaosStack } from './chaos-stack';
import { ArrivalLog, expectedDeliveryIds, listedDeliveryIds } from './delivery-audit';
import { describeChaosReport, keepServiceOutput } from './chaos-report';
import { auditTraces, describeTraceAudit, traceAuditFailures } from './trace-audit';

/**
 * The promise the product rests on, tried the hard way: the four services run as real processes
 * against a Kafka broker of this test's own, which is SIGKILLed mid-stream and started again on
 * the same data directory, twice. Every event the api acknowledged must reach the receiver for
 * both subscriptions, every delivered webhook must be in the history once, and all of it must
 * converge with no service restarted (a producer stuck after the broker came back shows here as
 * no convergence). Duplicates are allowed, but only as the same delivery with the same body.
 *
 * The services run with OpenTelemetry on (every trace sampled, exported to a receiver of the
 * test's own), so the trace context each record carries in its headers (ADR 0035) is tried
 * through the kills too: every delivered webhook must be seen from the api's request through
 * fan-out and the attempt to the history write, and no request may carry trace context to the
 * partner. (The cluster's fault tests run with tracing off, the default.)
 */
describe('the Kafka broker SIGKILLed under load and restarted on its data', () => {
  let stack: ChaosStack | undefined;
  let otlp: OtlpReceiver | undefined;
  const log = (line: string): void => {
    process.stdout.write(`[broker kill] ${line}\n`);
  };

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    stack = await startChaosStack({
      postgresAdminUrl: testPostgresAdminUrl(),
      label: 'broker-kill',
      serviceEnvironment: {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_TRACES_SAMPLER: 'parentbased_always_on',
        // Exported often, and queued deep enough that no span of the run is dropped for room.
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_BSP_MAX_QUEUE_SIZE: '65536',
      },
      log,
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
    await otlp?.close();
  }, 60_000);

  it('delivers every acknowledged event, records each delivery once, and converges with no restart', async () => {
    const chaos = stack!;
    let report: ChaosScenarioReport | undefined;
    try {
      report = await runChaosScenario(chaos, {
        target: 'broker',
        kills: 2,
        ratePerSecond: 60,
        brokerDowntimeMs: 3_000,
        recoveryTimeoutMs: 40_000,
        convergenceTimeoutMs: 45_000,
        log,
      });
      log(describeChaosReport(report));
    } catch (error) {
      await keepServiceOutput(chaos, log);
      throw error;
    }
    const failures = auditFailures(report);
    if (failures.length > 0) await keepServiceOutput(chaos, log);
    expect(failures).toEqual([]);
    // Generous: a broker that comes back is followed by flowing work within a minute, not never.
    for (const fault of report.faults) expect(fault.recoveryMs).toBeLessThan(60_000);

    // The partner's view: GET /v1/deliveries lists each delivery exactly once.
    const expected = expectedDeliveryIds(chaos, report.stream.acknowledged);
    const listed = await pollUntil(
      async () => {
        const ids = (await listedDeliveryIds(chaos)).filter((id) => expected.has(id));
        return ids.length >= expected.size ? ids : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000, description: 'every delivery listed by GET /v1/deliveries' },
    );
    expect(listed.length).toBe(expected.size);
    expect(new Set(listed).size).toBe(expected.size);
    expect(new ArrivalLog(chaos).all().length).toBeGreaterThanOrEqual(expected.size);

    const traces = await auditTraces(otlp!.spans, expected, chaos.receiver.received);
    log(describeTraceAudit(traces));
    expect(traceAuditFailures(traces)).toEqual([]);
  }, 270_000);
});
