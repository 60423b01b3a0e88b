import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { SERVICE_NAMES } from '@skyhook/local-infrastructure';
import { testPostgresAdminUrl } from '../test-infrastructure-env';
import {
  auditFailures,
  type ChaosScenarioOptions,
  type ChaosScenarioReport,
  runChaosScenario,
} from './chaos-scenario';
import { type ChaosStack, startChaosStack } from './chaos-stack';
import { describeChaosReport, keepServiceOutput } from './chaos-report';

const RATE_PER_SECOND = 40;
const SUBSCRIPTIONS = 2;
/** About a second of traffic (the commit cadence), with room for a loaded CI machine. */
const DUPLICATES_BOUND = 2 * RATE_PER_SECOND * SUBSCRIPTIONS;
/** The client's publish, fan-out's produce, the dispatcher's send. */
const RESENDING_HOPS = 3;

/**
 * At least once, and not much more. A broker that leaves holds every path through it until its
 * partitions have moved (the receiver's longest silence); publishes unanswered meanwhile are
 * answered 503 and sent again by the client, and sends with an unknown outcome are sent again,
 * so each delivery offered while the pipeline was held may repeat (measured in CI: 0 to 197
 * after one kill -9, 0 to 87 in a rolling restart). A service instance's kill repeats at most the
 * work since its last commit.
 */
function duplicatesAllowed(report: ChaosScenarioReport, kills: number): number {
  const brokerFault = report.target === 'broker' || report.target === 'rolling-restart';
  const heldDeliveries = brokerFault
    ? Math.ceil((RATE_PER_SECOND * SUBSCRIPTIONS * report.longestSilenceMs) / 1_000)
    : 0;
  return DUPLICATES_BOUND * kills + heldDeliveries;
}

/**
 * The production shape, tried the hard way: three KRaft brokers (every topic replicated three
 * times, two in sync to write), two fan-out and two dispatcher instances, the api and history,
 * all real processes. Every service starts together against a cluster whose topics do not exist
 * yet; then, under a steady stream of events, every broker is restarted in turn (SIGTERM, as a
 * rolling upgrade does), one broker is SIGKILLed, and one instance of each service is SIGKILLed.
 * After each: every acknowledged event delivered, duplicates the same delivery with the same body
 * and few, every request in history, and no process restarted but the ones killed.
 */
describe('a three-broker cluster with two instances of fan-out and dispatcher', () => {
  let stack: ChaosStack | undefined;
  const log = (line: string): void => {
    process.stdout.write(`[cluster] ${line}\n`);
  };

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  it('starts every service together against a cluster whose topics do not exist yet', async () => {
    stack = await startChaosStack({
      postgresAdminUrl: testPostgresAdminUrl(),
      label: 'cluster',
      subscriptions: SUBSCRIPTIONS,
      kafka: 'cluster',
      instances: { fanout: 2, dispatcher: 2 },
      log,
    });
    expect(stack.kafka.nodes).toHaveLength(3);
    expect(stack.instancesOf('dispatcher')).toBe(2);

    // Every topic the services provisioned: on all three brokers, two replicas to acknowledge.
    const admin = new Kafka({
      brokers: stack.kafka.bootstrapServers.split(','),
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith('chaos-'));
      expect(topics.length).toBeGreaterThan(5);
      const metadata = await admin.fetchTopicMetadata({ topics });
      for (const partition of metadata.topics.flatMap((topic) => topic.partitions)) {
        expect(partition.replicas).toHaveLength(3);
      }
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['min.insync.replicas'],
        })),
      });
      for (const resource of configs.resources) {
        expect(resource.configEntries[0]?.configValue).toBe('2');
      }
    } finally {
      await admin.disconnect();
    }
  }, 240_000);

  const survives = async (target: ChaosScenarioOptions['target'], kills: number): Promise<void> => {
    const chaos = stack!;
    const report = await runChaosScenario(chaos, {
      target,
      kills,
      ratePerSecond: RATE_PER_SECOND,
      steadyMs: 2_000,
      brokerDowntimeMs: 3_000,
      recoveryTimeoutMs: 40_000,
      convergenceTimeoutMs: 60_000,
      log,
    });
    log(describeChaosReport(report));
    const failures = auditFailures(report);
    if (failures.length > 0) await keepServiceOutput(chaos, log);
    expect(failures).toEqual([]);
    expect(report.audit.duplicates).toBeLessThanOrEqual(duplicatesAllowed(report, kills));
    // Three hops may each send a delivery again after a fault — the client's publish answered
    // 503, fan-out's produce and the dispatcher's send with unknown outcomes (CI saw 3 copies of
    // one delivery after one kill -9) — but none keeps repeating it.
    const faultsSuffered = report.faults.length;
    expect(report.audit.mostCopies).toBeLessThanOrEqual(1 + RESENDING_HOPS * faultsSuffered);
  };

  it('loses nothing while every broker is restarted in turn', () => survives('rolling-restart', 1), 300_000);

  it('loses nothing when a broker is SIGKILLed and comes back', () => survives('broker', 1), 180_000);

  it.each(SERVICE_NAMES)(
    'loses nothing when an instance of %s is SIGKILLed and started again',
    (name) => survives(name, 1),
    180_000,
  );
});
