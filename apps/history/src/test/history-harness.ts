import { type Admin, Kafka, logLevel } from 'kafkajs';
import { type DataSource } from 'typeorm';
import { type DeliveryEvent, deliveryEventContract, type DeliveryRequest } from '@skyhook/contracts';
import {
  consumerGroupIdOf,
  ContractProducer,
  kafkaEnvironmentSchema,
  kafkaSettingsFrom,
  type KafkaSettings,
  provisionTopics,
  topicNameOf,
} from '@skyhook/messaging';
import { createDataSource, runMigrations } from '@skyhook/persistence';
import {
  createTestDatabase,
  pollUntil,
  type ServiceProcess,
  startService,
  type TestDatabase,
  testKafkaEnvironment,
} from '@skyhook/testing';
import { attempted, deliveryRequest, skipped } from '@skyhook/testing';

/** What the `deliveries` row of a delivery must say once all its events are projected. */
export interface ExpectedDelivery {
  readonly status: string;
  readonly attemptCount: number;
}

/**
 * A mixed stream of delivery events, in the order the dispatcher would produce them: every
 * first event, then every second one, and so on (retries come later, in other batches). Per
 * ten deliveries: six delivered at once, two retried twice (one delivered, one failed), one
 * retried then dropped, one held without an attempt: 13 attempts and 2 skips.
 */
export function deliveryEventStream(
  deliveries: number,
  publishedAt: string,
  firstEventNumber = 0,
): {
  events: DeliveryEvent[];
  attempts: number;
  expected: Map<string, ExpectedDelivery>;
} {
  const perDelivery: DeliveryEvent[][] = [];
  for (let i = 0; i < deliveries; i += 1) {
    const request: DeliveryRequest = deliveryRequest(firstEventNumber + i, publishedAt, `sub_${i % 7}`);
    switch (i % 10) {
      case 6:
        perDelivery.push([
          attempted(request, 1, 'retry-scheduled'),
          attempted(request, 2, 'retry-scheduled'),
          attempted(request, 3, 'delivered'),
        ]);
        break;
      case 7:
        perDelivery.push([
          attempted(request, 1, 'retry-scheduled'),
          attempted(request, 2, 'retry-scheduled'),
          attempted(request, 3, 'failed'),
        ]);
        break;
      case 8:
        perDelivery.push([attempted(request, 1, 'retry-scheduled'), skipped(request, 2, 'dropped')]);
        break;
      case 9:
        perDelivery.push([skipped(request, 1, 'held')]);
        break;
      default:
        perDelivery.push([attempted(request, 1, 'delivered')]);
    }
  }
  const events: DeliveryEvent[] = [];
  for (let round = 0; round < 3; round += 1) {
    for (const own of perDelivery) {
      const event = own[round];
      if (event !== undefined) events.push(event);
    }
  }
  const expected = new Map<string, ExpectedDelivery>();
  for (const own of perDelivery) {
    const last = own[own.length - 1] as DeliveryEvent;
    const status =
      last.type === 'DeliveryAttempted'
        ? { delivered: 'delivered', 'retry-scheduled': 'retrying', failed: 'failed' }[last.result]
        : last.type === 'DeliverySkipped'
          ? last.disposition
          : 'waiting';
    // A skip or a wait names the attempt it did not make.
    const attemptCount = last.type === 'DeliveryAttempted' ? last.attemptNumber : last.attemptNumber - 1;
    expected.set(last.deliveryId, { status, attemptCount });
  }
  return { events, attempts: events.filter((event) => event.type === 'DeliveryAttempted').length, expected };
}

/**
 * Drives real history processes through their topic: delivery events are produced straight to
 * it, as the dispatcher would, and the tables are read back from the test's own database.
 */
export class HistoryHarness {
  private constructor(
    readonly environment: Record<string, string>,
    readonly settings: KafkaSettings,
    readonly database: TestDatabase,
    readonly dataSource: DataSource,
    private readonly admin: Admin,
    private readonly producer: ContractProducer,
  ) {}

  static async create(overrides: Record<string, string> = {}): Promise<HistoryHarness> {
    const database = await createTestDatabase('history');
    const environment = {
      ...testKafkaEnvironment(),
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      ...overrides,
    };
    const settings = kafkaSettingsFrom(kafkaEnvironmentSchema.parse(environment), 'history-test');
    const kafka = new Kafka({
      clientId: 'history-test',
      brokers: [...settings.brokers],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await provisionTopics(admin, settings, ['deliveryEvents', 'deliveryEventsDeadLetter']);
    const producer = new ContractProducer(kafka, settings);
    await producer.connect();
    const dataSource = await createDataSource(
      { url: database.url, poolSize: 2, ssl: false, connectTimeoutMs: 2_000 },
      'skyhook-history-test',
    ).initialize();
    await runMigrations(dataSource);
    return new HistoryHarness(environment, settings, database, dataSource, admin, producer);
  }

  startHistory(overrides: Record<string, string> = {}): Promise<ServiceProcess> {
    return startService('history', { ...this.environment, ...overrides });
  }

  /** Produces the events in order (one delivery's events stay in order: they share a key). */
  async produce(events: readonly DeliveryEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += 2_000) {
      await this.producer.send(deliveryEventContract, 'deliveryEvents', events.slice(start, start + 2_000));
    }
  }

  /** Produces a record as it is, contract or not (to feed the projector what a buggy producer might). */
  async produceRaw(key: string, value: string): Promise<void> {
    await this.producer.sendRaw('deliveryEvents', [{ key, value }]);
  }

  async count(table: 'deliveries' | 'delivery_attempts'): Promise<number> {
    const [row] = await this.dataSource.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM ${table}`,
    );
    return row?.count ?? 0;
  }

  async waitForCounts(deliveries: number, attempts: number, timeoutMs = 40_000): Promise<void> {
    await pollUntil(
      async () =>
        (await this.count('deliveries')) === deliveries &&
        (await this.count('delivery_attempts')) === attempts,
      {
        timeoutMs,
        intervalMs: 200,
        description: `${deliveries} deliveries and ${attempts} attempts in history`,
      },
    );
  }

  /** Every delivery row whose status or attempt count is not what its last event says (none, we hope). */
  async mismatchedDeliveries(expected: ReadonlyMap<string, ExpectedDelivery>): Promise<string[]> {
    const rows = await this.dataSource.query<
      { delivery_id: string; status: string; attempt_count: number }[]
    >('SELECT delivery_id, status, attempt_count FROM deliveries');
    const mismatched: string[] = [];
    for (const row of rows) {
      const want = expected.get(row.delivery_id);
      if (want?.status !== row.status || want.attemptCount !== row.attempt_count) {
        mismatched.push(
          `${row.delivery_id}: ${row.status}/${row.attempt_count}, expected ${JSON.stringify(want)}`,
        );
      }
    }
    return mismatched;
  }

  /** Resolves once the history group has committed every record of the topic. */
  async waitUntilCaughtUp(timeoutMs = 30_000): Promise<void> {
    const topic = topicNameOf(this.settings, 'deliveryEvents');
    const groupId = consumerGroupIdOf(this.settings, 'history');
    await pollUntil(
      async () => {
        const [ends, [committed]] = await Promise.all([
          this.admin.fetchTopicOffsets(topic),
          this.admin.fetchOffsets({ groupId, topics: [topic] }),
        ]);
        const done = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
        return ends.every((end) => done.get(end.partition) === end.high);
      },
      { timeoutMs, intervalMs: 200, description: 'history group committed to the end of the topic' },
    );
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
    await this.admin.disconnect();
    await this.dataSource.destroy();
    await this.database.drop();
  }
}

/** The sum of a metric's samples on the service's /metrics whose labels include `labels` (0 when none). */
export async function metricValue(
  service: ServiceProcess,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const body = await (await fetch(`${service.baseUrl}/metrics`)).text();
  let total = 0;
  for (const line of body.split('\n')) {
    const sample = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (sample?.[1] !== name) continue;
    const present = new Map([...(sample[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([label, value]) => present.get(label) === value)) {
      total += Number(sample[3]);
    }
  }
  return total;
}
