import { type Admin, type Kafka } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import { type TopicKey } from '@skyhook/contracts';
import { type ServiceLogger } from '@skyhook/observability';
import { type KafkaSettings, topicNameOf } from './kafka-config';

const gauges = new WeakMap<Registry, Gauge<'group' | 'topic'>>();

function lagGauge(registry: Registry): Gauge<'group' | 'topic'> {
  let gauge = gauges.get(registry);
  if (gauge === undefined) {
    gauge = new Gauge({
      name: 'skyhook_kafka_consumer_lag',
      help: 'Records on the topic not yet committed by the consumer group (sum over partitions).',
      labelNames: ['group', 'topic'],
      registers: [registry],
    });
    gauges.set(registry, gauge);
  }
  return gauge;
}

/** Measures a consumer group's lag every few seconds: log end offsets minus committed offsets. */
export class ConsumerLagMonitor {
  private readonly admin: Admin;
  private timer: NodeJS.Timeout | undefined;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly settings: KafkaSettings,
    private readonly groupId: string,
    private readonly topics: readonly TopicKey[],
    private readonly registry: Registry,
    private readonly logger: ServiceLogger,
    private readonly intervalMs = 5_000,
  ) {
    this.admin = kafka.admin();
  }

  start(): void {
    const tick = (): void => {
      this.measure()
        .catch((error: unknown) => this.logger.debug({ err: error }, 'consumer lag measurement failed'))
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.connected) await this.admin.disconnect();
  }

  async measure(): Promise<void> {
    if (!this.connected) {
      await this.admin.connect();
      this.connected = true;
    }
    const gauge = lagGauge(this.registry);
    for (const { topicKey, lag } of await measureConsumerLag(
      this.admin,
      this.settings,
      this.groupId,
      this.topics,
    )) {
      gauge.set({ group: this.groupId, topic: topicKey }, Number(lag));
    }
  }
}

export interface TopicLag {
  readonly topicKey: TopicKey;
  readonly topic: string;
  /** Sum over partitions; partitions without a committed offset count from the log start. */
  readonly committed: bigint;
  readonly end: bigint;
  readonly lag: bigint;
  /** False when the group has committed nothing on any partition of the topic. */
  readonly hasCommitted: boolean;
}

/** A group's lag per topic: log end offsets minus committed offsets, summed over partitions. */
export async function measureConsumerLag(
  admin: Admin,
  settings: Pick<KafkaSettings, 'topicPrefix'>,
  groupId: string,
  topics: readonly TopicKey[],
): Promise<TopicLag[]> {
  const measured: TopicLag[] = [];
  for (const topicKey of topics) {
    const topic = topicNameOf(settings, topicKey);
    const [ends, committedOffsets] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const committedByPartition = new Map(
      (committedOffsets[0]?.partitions ?? []).map((partition) => [
        partition.partition,
        BigInt(partition.offset),
      ]),
    );
    let committed = 0n;
    let end = 0n;
    let hasCommitted = false;
    for (const partitionEnd of ends) {
      const high = BigInt(partitionEnd.high);
      const done = committedByPartition.get(partitionEnd.partition) ?? -1n;
      // -1: nothing committed yet, so everything from the log start is still to do.
      const position = done < 0n ? BigInt(partitionEnd.low) : done;
      if (done >= 0n) hasCommitted = true;
      committed += position;
      end += high;
    }
    measured.push({ topicKey, topic, committed, end, lag: end - committed, hasCommitted });
  }
  return measured;
}
