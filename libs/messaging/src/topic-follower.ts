import { randomBytes } from 'node:crypto';
import { type Consumer, type Kafka } from 'kafkajs';
import {
  ContractViolationError,
  decodeMessage,
  type DecodableContract,
  MESSAGE_HEADERS,
  type TopicKey,
} from '@skyhook/contracts';
import { type ServiceLogger } from '@skyhook/observability';
import { type KafkaSettings, topicNameOf } from './kafka-config';
import { retryKafkaAtStartup } from './kafka-startup-retry';

export interface TopicFollowerOptions<TValue> {
  /** Names the follower in logs and in its (throw-away) consumer group. */
  readonly name: string;
  readonly topicKey: TopicKey;
  readonly contract: DecodableContract<TValue>;
  /** Folds one record into in-memory state; must be idempotent (records may repeat). */
  readonly apply: (value: TValue) => void;
}

/**
 * Reads a whole topic, every partition, from the beginning, then keeps following it: how a
 * service rebuilds in-memory state (a subscription index) from the log. Each instance uses a
 * consumer group of its own, so every instance sees every partition; offsets are never
 * committed because the state lives only in memory.
 */
export class TopicFollower<TValue> {
  private readonly consumer: Consumer;
  private readonly groupId: string;
  private caughtUpAt: number | undefined;
  private applied = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: KafkaSettings,
    private readonly options: TopicFollowerOptions<TValue>,
    private readonly logger: ServiceLogger,
  ) {
    this.groupId = `${settings.topicPrefix}skyhook.${options.name}-${randomBytes(6).toString('hex')}`;
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      // The broker answers as soon as a record arrives, so this only spaces the fetches of a
      // quiet topic (these change rarely) and bounds how long `stop` waits for the one in flight:
      // at 200 ms the followers were a third of every fetch an idle deployment made.
      maxWaitTimeInMs: 1_000,
      allowAutoTopicCreation: false,
    });
  }

  get caughtUp(): boolean {
    return this.caughtUpAt !== undefined;
  }

  get recordsApplied(): number {
    return this.applied;
  }

  /** Resolves once everything that was on the topic when it was called has been applied. */
  async start(): Promise<void> {
    const topic = topicNameOf(this.settings, this.options.topicKey);
    const retrying = { timeoutMs: this.settings.startupTimeoutMs, logger: this.logger };
    // A topic created moments ago (by this very service at start-up, or another one) may be
    // unknown to some brokers until its metadata has spread: retried, as long as start-up allows.
    const ends = await retryKafkaAtStartup(
      `reading the end offsets of ${topic}`,
      () => endOffsetsOf(this.kafka, topic),
      retrying,
    );
    const behind = new Set([...ends].filter(([, high]) => high > 0n).map(([partition]) => partition));
    const started = Date.now();
    let markCaughtUp: () => void = () => undefined;
    let failCatchUp: (error: Error) => void = () => undefined;
    const caughtUp = new Promise<void>((resolve, reject) => {
      failCatchUp = reject;
      markCaughtUp = () => {
        if (this.caughtUpAt !== undefined) return;
        this.caughtUpAt = Date.now();
        this.logger.info(
          { follower: this.options.name, records: this.applied, ms: this.caughtUpAt - started },
          'caught up with the log',
        );
        resolve();
      };
    });
    // Awaited below, after the consumer has started: a crash while it starts is not unhandled.
    caughtUp.catch(() => undefined);
    if (behind.size === 0) markCaughtUp();
    // A consumer kafkajs gives up on would never catch up: start-up fails instead of hanging.
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) failCatchUp(payload.error);
    });

    await retryKafkaAtStartup(
      `subscribing follower ${this.options.name} to ${topic}`,
      async () => {
        await this.consumer.connect();
        await this.consumer.subscribe({ topic, fromBeginning: true });
      },
      retrying,
    );
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          this.applyRecord(
            message.value,
            message.headers?.[MESSAGE_HEADERS.schema]?.toString(),
            batch.partition,
            message.offset,
          );
        }
        const last = batch.lastOffset();
        if (behind.has(batch.partition) && BigInt(last) >= (ends.get(batch.partition) ?? 0n) - 1n) {
          behind.delete(batch.partition);
          if (behind.size === 0) markCaughtUp();
        }
        return Promise.resolve();
      },
    });
    await caughtUp;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.deleteGroups([this.groupId]);
    } catch {
      // A group the broker has already forgotten is fine.
    } finally {
      await admin.disconnect();
    }
  }

  private applyRecord(
    value: Buffer | null,
    schemaHeader: string | undefined,
    partition: number,
    offset: string,
  ): void {
    try {
      this.options.apply(decodeMessage(this.options.contract, value, schemaHeader));
      this.applied += 1;
    } catch (error) {
      if (!(error instanceof ContractViolationError)) throw error;
      this.logger.error(
        { follower: this.options.name, partition, offset, code: error.code, details: error.details },
        `skipped a record that breaks its contract: ${error.message}`,
      );
    }
  }
}

/** Each partition's end offset, read through an admin client of its own. */
async function endOffsetsOf(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
