import { setTimeout as sleep } from 'node:timers/promises';
import { type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { installCoordinatorFailover } from '../coordinator-failover';
import { installFetchFailover } from '../fetch-failover';

const PARTITIONS = 6;
/** One record to each partition this often: enough to see a partition stall, little load. */
const PRODUCE_INTERVAL_MS = 50;

/**
 * A consumer group of one member on the cluster, with Skyhook's kafkajs containment installed,
 * fed one record per partition every 50 ms: what a broker leaving does to a consumer, counted
 * without the services in between — every consumption, every group join after the first, every
 * crash. Offsets are not committed (a commit waits for a lost coordinator by design), so what it
 * sees is fetching alone. (No partition flows while a killed broker is still in its ISR: with
 * replication 3 on three brokers each partition has a replica there, and neither an acks=all
 * write nor the high watermark moves until the controller fences it — ADR 0020.)
 */
export class ConsumerProbe {
  /** When each record was consumed. */
  readonly consumedAt: number[] = [];
  private joins = 0;
  private crashes = 0;
  private running = true;
  private producing: Promise<void> | undefined;

  private constructor(
    private readonly consumer: Consumer,
    private readonly producer: Producer,
  ) {}

  static async start(bootstrapServers: string, topic: string): Promise<ConsumerProbe> {
    installCoordinatorFailover();
    installFetchFailover();
    const kafka = new Kafka({
      clientId: 'consumer-probe',
      brokers: bootstrapServers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: PARTITIONS,
            replicationFactor: 3,
            configEntries: [{ name: 'min.insync.replicas', value: '2' }],
          },
        ],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    const consumer = kafka.consumer({
      groupId: `${topic}.probe`,
      sessionTimeout: 6_000,
      heartbeatInterval: 500,
    });
    const probe = new ConsumerProbe(consumer, producer);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      probe.joins += 1;
    });
    consumer.on(consumer.events.CRASH, () => {
      probe.crashes += 1;
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachMessage: () => {
        probe.consumedAt.push(Date.now());
        return Promise.resolve();
      },
    });
    probe.producing = probe.produce(topic);
    return probe;
  }

  /** Group joins after the first: each a rebalance, in which the member consumed nothing. */
  get rejoins(): number {
    return Math.max(0, this.joins - 1);
  }

  /** Consumer crashes (kafkajs restarts a crashed consumer, which re-joins as a new member). */
  get crashed(): number {
    return this.crashes;
  }

  consumedBetween(from: number, until: number): number {
    return this.consumedAt.filter((at) => at >= from && at < until).length;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.producing;
    await this.consumer.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
  }

  /** One record per partition per round; a send to a partition without a leader just fails. */
  private async produce(topic: string): Promise<void> {
    while (this.running) {
      for (let partition = 0; partition < PARTITIONS; partition += 1) {
        void this.producer
          .send({ topic, messages: [{ partition, value: String(Date.now()) }] })
          .catch(() => undefined);
      }
      await sleep(PRODUCE_INTERVAL_MS);
    }
  }
}
