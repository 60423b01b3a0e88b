/**
 * Fan-out benchmark (`npm run bench:fanout`): one run, figures printed as JSON and a table.
 *  1. index memory per subscription: 10,000 subscriptions across 100 organisations;
 *  2. matching in process (no Kafka): events/s and matches/s through planFanout;
 *  3. the whole fanout service, Kafka in and out: 10,000 subscriptions / 100 organisations;
 *  4. the whole service, one event to 5,000 subscribers.
 * Kafka and PostgreSQL come from the same provisioning as the tests (KAFKA_BROKERS, containers,
 * or a local broker from Maven Central).
 */
import { join } from 'node:path';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import {
  type InboundEvent,
  inboundEventContract,
  organisationSnapshotContract,
  type SubscriptionEvent,
  subscriptionEventContract,
} from '@skyhook/contracts';
import { OrganisationDirectory, planFanout, SubscriptionIndex } from '@skyhook/fanout';
import {
  provisionInfrastructure,
  workspaceRoot,
  findFreeLoopbackPort,
  launchServiceProcess,
} from '@skyhook/local-infrastructure';
import {
  ContractProducer,
  kafkaEnvironmentSchema,
  kafkaSettingsFrom,
  type KafkaSettings,
  provisionTopics,
  topicNameOf,
} from '@skyhook/messaging';
import { randomBytes } from 'node:crypto';
import { benchServiceNodeOptions, processCpuMs } from './process-cpu';

const at = '2026-06-01T10:00:00.000Z';
const TYPES = [
  'booking.created',
  'booking.updated',
  'booking.cancelled',
  'invoice.paid',
  'mel.deferral.expiring',
];

function subscriptionCreated(id: string, organisationId: string, eventTypes: string[]): SubscriptionEvent {
  return {
    type: 'SubscriptionCreated',
    subscriptionId: id,
    organisationId,
    version: 1,
    occurredAt: at,
    fields: { url: `https://93.184.216.34/${id}`, description: '', eventTypes, scopeFilter: {}, policy: {} },
    secrets: [{ id: 'sec_1', encrypted: 'v1.bench', hint: 'whsec_…abcd', createdAt: at, retiresAt: null }],
    expiresAt: null,
  };
}

/** 100 organisations × 100 subscriptions; filters mixed so an event matches ~50 of its organisation's. */
function tenThousandSubscriptions(): SubscriptionEvent[] {
  const events: SubscriptionEvent[] = [];
  for (let o = 0; o < 100; o += 1) {
    for (let s = 0; s < 100; s += 1) {
      const filters = [['*'], ['booking.*'], ['booking.created'], ['invoice.paid', 'mel.*']][s % 4] ?? ['*'];
      events.push(subscriptionCreated(`sub_${o}_${s}`, `org_${o}`, filters));
    }
  }
  return events;
}

function inboundEvents(count: number, organisations: number): InboundEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `evt_${i}`,
    type: i % 2 === 0 ? 'booking.created' : 'booking.updated',
    organisationId: `org_${i % organisations}`,
    scope: {},
    occurredAt: at,
    data: { bookingId: `b-${i}`, seats: 2, centre: 'LGW' },
  }));
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

function measureIndexMemory(): { bytesPerSubscription: number } {
  const before = heapUsed();
  const index = new SubscriptionIndex();
  for (const event of tenThousandSubscriptions()) index.apply(event);
  const after = heapUsed();
  if (index.size !== 10_000) throw new Error('index incomplete');
  return { bytesPerSubscription: Math.round((after - before) / index.size) };
}

function measureMatchingInProcess(): { eventsPerSecond: number; matchesPerSecond: number } {
  const index = new SubscriptionIndex();
  const directory = new OrganisationDirectory();
  for (let o = 0; o < 100; o += 1)
    directory.apply({
      organisationId: `org_${o}`,
      eventTypes: TYPES,
      profile: 'standard-webhooks',
      defaultPolicy: {},
      updatedAt: at,
    });
  for (const event of tenThousandSubscriptions()) index.apply(event);
  const events = inboundEvents(20_000, 100);
  const started = performance.now();
  let matches = 0;
  for (const event of events) {
    const plan = planFanout(event, at, index, directory);
    if (plan.kind === 'deliver') matches += plan.requests.length;
  }
  const seconds = (performance.now() - started) / 1_000;
  return {
    eventsPerSecond: Math.round(events.length / seconds),
    matchesPerSecond: Math.round(matches / seconds),
  };
}

async function topicEnd(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, partition) => sum + Number(partition.high), 0);
}

async function measureService(
  brokers: string,
  scenario: {
    subscriptions: SubscriptionEvent[];
    organisations: number;
    events: InboundEvent[];
    expectedMatches: number;
  },
): Promise<{
  indexLoadMs: number;
  eventsPerSecond: number;
  matchesPerSecond: number;
  seconds: number;
  steadyMatchesPerSecond: number;
  serviceCpuMsPerThousandMatches: number;
}> {
  const environment = {
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC_PREFIX: `bench-${randomBytes(4).toString('hex')}.`,
    KAFKA_PARTITIONS_INBOUND_EVENTS: '12',
    KAFKA_PARTITIONS_DELIVERY_REQUESTS: '24',
    LOG_LEVEL: 'warn',
  };
  const settings: KafkaSettings = kafkaSettingsFrom(kafkaEnvironmentSchema.parse(environment), 'bench');
  const kafka = new Kafka({ clientId: 'bench', brokers: [...settings.brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await provisionTopics(admin, settings, [
    'inboundEvents',
    'inboundEventsDeadLetter',
    'subscriptionEvents',
    'organisationSnapshots',
    'deliveryRequests',
  ]);
  await admin.disconnect();
  const producer = new ContractProducer(kafka, settings);
  await producer.connect();
  const organisations = Array.from({ length: scenario.organisations }, (_, o) => ({
    organisationId: `org_${o}`,
    eventTypes: TYPES,
    profile: 'standard-webhooks',
    defaultPolicy: {},
    updatedAt: at,
  }));
  await producer.send(organisationSnapshotContract, 'organisationSnapshots', organisations);
  for (let start = 0; start < scenario.subscriptions.length; start += 1_000) {
    await producer.send(
      subscriptionEventContract,
      'subscriptionEvents',
      scenario.subscriptions.slice(start, start + 1_000),
    );
  }
  for (let start = 0; start < scenario.events.length; start += 1_000) {
    await producer.send(inboundEventContract, 'inboundEvents', scenario.events.slice(start, start + 1_000));
  }
  await producer.disconnect();

  const port = await findFreeLoopbackPort();
  const launched = Date.now();
  const fanout = launchServiceProcess(
    'fanout',
    { ...environment, PORT: String(port) },
    { stdio: ['ignore', 'ignore', 'inherit'], nodeOptions: benchServiceNodeOptions() },
  );
  // One admin connection for all polls: the benchmark should cost the two cores as little as it can.
  const progress = kafka.admin();
  await progress.connect();
  try {
    let readyAt = 0;
    // The first poll that saw requests: from there on the figure is pure throughput, without
    // the consumer group's join (a start-up cost that varies from run to run).
    let flowing: { at: number; produced: number; cpuMs: number } | undefined;
    const requestsTopic = topicNameOf(settings, 'deliveryRequests');
    for (;;) {
      if (readyAt === 0) {
        const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) readyAt = Date.now();
      }
      const produced = await topicEnd(progress, requestsTopic);
      if (flowing === undefined && produced > 0 && produced < scenario.expectedMatches) {
        flowing = { at: Date.now(), produced, cpuMs: processCpuMs(fanout.pid ?? 0) };
      }
      if (produced >= scenario.expectedMatches) {
        const finishedAt = Date.now();
        // Matching starts when the consumer joins, right after the index is loaded.
        const start = readyAt === 0 ? launched : readyAt;
        const seconds = (finishedAt - start) / 1_000;
        const steady = flowing ?? { at: start, produced: 0, cpuMs: Number.NaN };
        const steadyMatches = scenario.expectedMatches - steady.produced;
        // CPU is the steadier figure on a shared machine: wall time also counts the broker's and our share.
        const steadyCpuMs = processCpuMs(fanout.pid ?? 0) - steady.cpuMs;
        return {
          indexLoadMs: (readyAt === 0 ? finishedAt : readyAt) - launched,
          eventsPerSecond: Math.round(scenario.events.length / seconds),
          matchesPerSecond: Math.round(scenario.expectedMatches / seconds),
          seconds: Math.round(seconds * 100) / 100,
          steadyMatchesPerSecond: Math.round((steadyMatches * 1_000) / Math.max(1, finishedAt - steady.at)),
          serviceCpuMsPerThousandMatches: Math.round(((steadyCpuMs * 1_000) / steadyMatches) * 100) / 100,
        };
      }
      if (Date.now() - launched > 300_000)
        throw new Error(`only ${produced} of ${scenario.expectedMatches} requests after 300 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await progress.disconnect();
    fanout.kill('SIGTERM');
    await new Promise((resolve) => fanout.once('exit', resolve));
  }
}

async function main(): Promise<void> {
  const infrastructure = await provisionInfrastructure({
    stateDir: join(workspaceRoot(), 'tmp', 'bench-infrastructure'),
    log: (m) => process.stderr.write(`[bench] ${m}\n`),
  });
  try {
    const memory = measureIndexMemory();
    const inProcess = measureMatchingInProcess();
    // 8,000 events over 100 organisations; 50 of each organisation's 100 subscriptions match each event.
    const tenThousand = await measureService(infrastructure.kafkaBrokers, {
      subscriptions: tenThousandSubscriptions(),
      organisations: 100,
      events: inboundEvents(8_000, 100),
      expectedMatches: 8_000 * 50,
    });
    // 40 events, each to the same 5,000 subscribers.
    const fiveThousand = Array.from({ length: 5_000 }, (_, s) =>
      subscriptionCreated(`sub_big_${s}`, 'org_0', ['*']),
    );
    const wide = await measureService(infrastructure.kafkaBrokers, {
      subscriptions: fiveThousand,
      organisations: 1,
      events: inboundEvents(40, 1),
      expectedMatches: 40 * 5_000,
    });
    const results = {
      memory,
      inProcess,
      service10kSubscriptions: tenThousand,
      service5kSubscribersOneEvent: wide,
    };
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await infrastructure.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
