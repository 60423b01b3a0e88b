import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ICustomPartitioner,
  type Kafka,
  type Message,
  type Producer,
  type ProducerBatch,
} from 'kafkajs';
import { type ServiceLogger } from '@skyhook/observability';
import { isRetriableKafkaError, retryKafkaAtStartup } from './kafka-startup-retry';
import { keyHashPartitioner } from './key-hash-partitioner';
import { type ProducerHealthBoard } from './producer-health';

/**
 * The broker refused the records themselves (too large, malformed): no retry and no other
 * producer can store them. The producer is fine; the caller decides what becomes of the records
 * (a dead-letter topic, smaller requests).
 */
export class KafkaRecordsRejectedError extends Error {
  constructor(
    /** Kafka's error name, e.g. `MESSAGE_TOO_LARGE`. */
    readonly brokerError: string,
    options: { cause: unknown },
  ) {
    super(`the broker refused the records: ${brokerError}`, options);
    this.name = 'KafkaRecordsRejectedError';
  }
}

/**
 * A send whose outcome is unknown: the records may or may not be stored (the broker may have
 * written them and died before answering). Sending them again may duplicate them, never lose them.
 */
export class KafkaSendFailedError extends Error {
  constructor(producer: string, options: { cause: unknown }) {
    super(`producer ${producer}: send failed, outcome unknown: ${messageOf(options.cause)}`, options);
    this.name = 'KafkaSendFailedError';
  }
}

/** Broker answers caused by the records' content: every retry would get the same answer. */
const RECORD_REJECTIONS: ReadonlySet<string> = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
  'CORRUPT_MESSAGE',
]);

/** How often a replaced producer tries to connect its successor while nothing is being sent. */
const RECOVERY_INTERVAL_MS = 500;

/**
 * How long a send is retried: enough for a partition's leadership to move (a killed broker is
 * fenced after `broker.session.timeout.ms`, a topic just created on a loaded machine gets its
 * leaders), short of a caller's patience (the api's PUBLISH_KAFKA_TIMEOUT_MS).
 */
export const SEND_RETRY_DEADLINE_MS = 7_500;
/**
 * Every hop of the pipeline retries its own sends, so each second between retries adds up to a
 * second per hop to the silence after a broker is lost (measured: 1–2 s of a 5–6 s silence after
 * the partitions had moved). A retry is one request (it fails at once while the broker is
 * refused, and kafkajs refreshes its metadata first), so asking four times a second costs little.
 */
const SEND_RETRY_DELAYS_MS = [50, 100, 200, 250];

/**
 * A kafkajs producer that is discarded after a send whose outcome is unknown, and replaced by a
 * fresh one. This contains two known kafkajs failures (tulios/kafkajs#598 and its relatives):
 *
 * - kafkajs' idempotent producer rolls a partition's sequence number back when a request fails
 *   without an answer, and the next request reuses those numbers for *other* records. If the
 *   broker had stored the first request before it died, it answers the second "duplicate" and
 *   stores nothing: silent loss. So the producer is not idempotent (no sequence numbers at all):
 *   an unanswered request sent again can be duplicated, never de-duplicated against other
 *   records. Duplicates are absorbed downstream (delivery ids, history's keys).
 * - After a broker restart an idempotent producer could answer OUT_OF_ORDER_SEQUENCE_NUMBER on
 *   every send for ever. Whatever state a kafkajs producer is left in, a failed send ends it: the
 *   next send goes through a new producer, with new connections and fresh metadata.
 *
 * - kafkajs' own retry of a send loses records when a partition's leadership moves to a broker
 *   that already answered the same send (every graceful broker restart in a cluster): it keeps
 *   the answers per broker, recomputes the leaders from refreshed metadata, and sends only to the
 *   brokers that have not answered, so the moved partition's records are never sent again and
 *   the send resolves (sendMessages.js in kafkajs 2.2.4; 13–34 webhooks missing from history per
 *   rolling restart, ADR 0020). So kafkajs does not retry (`retries: 0`): a retriable failure
 *   (leadership moved, a connection lost) is retried here as new kafkajs sends, one per partition
 *   of what failed, at least four times a second for up to `SEND_RETRY_DEADLINE_MS`. Records that
 *   were stored before are stored again — a duplicate, never a loss; a partition whose broker is
 *   alive is stored again once, not on every retry until a lost broker's partitions have moved.
 *
 * One request in flight keeps a partition's records in send order, retries included. Past the
 * retry deadline the send fails to the caller, who retries the work (a consumer) or answers 503
 * (the api). Until a successor is connected the producer reports itself not ready on `health`.
 */
export class ReplaceableProducer {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private recoveryTimer: NodeJS.Timeout | undefined;
  private healthy = false;
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    /** Names the producer in readiness, metrics and logs; fixed in code (bounded labels). */
    private readonly name: string,
    private readonly observers: {
      readonly health?: ProducerHealthBoard;
      readonly logger?: ServiceLogger;
    } = {},
    /** How long a retriable send failure is retried before the producer is replaced. */
    private readonly sendRetryDeadlineMs = SEND_RETRY_DEADLINE_MS,
  ) {}

  /**
   * Connects the first producer, retrying retriable failures (a cluster still coming up) for up
   * to `startupTimeoutMs`; past that, or on a failure no retry can mend, it fails, and the
   * service's start-up with it.
   */
  async connect(startupTimeoutMs: number): Promise<void> {
    this.closed = false;
    await retryKafkaAtStartup(`connecting producer ${this.name}`, () => this.connected(), {
      timeoutMs: startupTimeoutMs,
      logger: this.observers.logger,
    });
    this.markReady();
  }

  async disconnect(): Promise<void> {
    this.closed = true;
    clearTimeout(this.recoveryTimer);
    this.recoveryTimer = undefined;
    const producer = this.producer ?? (await this.connecting?.catch(() => undefined));
    this.producer = undefined;
    await producer?.disconnect();
  }

  /**
   * Resolves once every record is acknowledged by all in-sync replicas. Rejects with
   * `KafkaRecordsRejectedError` when the broker refuses the records themselves, or with
   * `KafkaSendFailedError` when the outcome is unknown (the producer is then replaced).
   */
  async sendBatch(batch: ProducerBatch): Promise<void> {
    let producer: Producer;
    try {
      producer = this.producer ?? (await this.connected());
    } catch (error) {
      this.markFailing(error);
      throw new KafkaSendFailedError(this.name, { cause: error });
    }
    const startedAt = Date.now();
    const giveUpAt = startedAt + this.sendRetryDeadlineMs;
    let unsent: ProducerBatch[] = [batch];
    for (let attempt = 0; ; attempt += 1) {
      const { failed, error } = await sendParts(producer, unsent);
      if (failed.length === 0) {
        if (attempt > 0) {
          // How long a leadership move held this producer's sends: what a broker restart costs a hop.
          this.observers.logger?.warn(
            { producer: this.name, retries: attempt, heldMs: Date.now() - startedAt },
            'Kafka send went through after retries',
          );
        }
        break;
      }
      const rejection = recordRejectionOf(error);
      if (rejection !== undefined) throw new KafkaRecordsRejectedError(rejection, { cause: error });
      const delayMs = SEND_RETRY_DELAYS_MS[Math.min(attempt, SEND_RETRY_DELAYS_MS.length - 1)]!;
      if (this.closed || !isRetriableKafkaError(error) || Date.now() + delayMs > giveUpAt) {
        this.replace(producer, error);
        throw new KafkaSendFailedError(this.name, { cause: error });
      }
      // kafkajs refreshed its metadata before failing. What failed goes again as one send per
      // partition, so a partition whose broker stored it is sent once more at most instead of on
      // every retry while another broker is down.
      unsent = failed.flatMap(splitByPartition);
      await sleep(delayMs);
    }
    if (!this.healthy) this.markReady();
  }

  private connected(): Promise<Producer> {
    if (this.producer !== undefined) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const candidate = createProducer(this.kafka);
      try {
        await candidate.connect();
      } catch (error) {
        await candidate.disconnect().catch(() => undefined);
        throw error;
      }
      if (this.closed) {
        await candidate.disconnect().catch(() => undefined);
        throw new Error(`producer ${this.name} is closed`);
      }
      this.producer = candidate;
      return candidate;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Ends `producer` (unless a concurrent failure already did) and lets a successor connect. */
  private replace(producer: Producer, error: unknown): void {
    if (this.producer === producer) {
      this.producer = undefined;
      this.observers.health?.replaced(this.name);
      this.observers.logger?.warn(
        { err: error, producer: this.name },
        'Kafka send failed with an unknown outcome; the producer is replaced',
      );
      // Its requests' outcomes are unknown either way; its connections must not outlive it.
      producer.disconnect().catch(() => undefined);
    }
    this.markFailing(error);
  }

  private markFailing(error: unknown): void {
    if (this.closed) return;
    this.healthy = false;
    this.observers.health?.notReady(this.name, messageOf(error));
    this.scheduleRecovery();
  }

  private markReady(): void {
    this.healthy = true;
    this.observers.health?.ready(this.name);
  }

  /** A replaced producer is reconnected in the background, so readiness recovers without traffic. */
  private scheduleRecovery(): void {
    if (this.closed || this.recoveryTimer !== undefined) return;
    this.recoveryTimer = setTimeout(() => {
      this.recoveryTimer = undefined;
      if (this.closed || this.healthy) return;
      this.connected().then(
        () => {
          if (this.closed) return;
          this.markReady();
          this.observers.logger?.info({ producer: this.name }, 'Kafka producer reconnected');
        },
        () => this.scheduleRecovery(),
      );
    }, RECOVERY_INTERVAL_MS);
    this.recoveryTimer.unref();
  }
}

/**
 * Sends each part as its own kafkajs send, all at once, and says which failed and the first
 * error. The usual case, one part that goes through, allocates nothing more than the send.
 */
async function sendParts(
  producer: Producer,
  parts: readonly ProducerBatch[],
): Promise<{ readonly failed: ProducerBatch[]; readonly error: unknown }> {
  if (parts.length === 1) {
    const [only] = parts as [ProducerBatch];
    try {
      await producer.sendBatch({ acks: -1, ...only });
      return { failed: [], error: undefined };
    } catch (error) {
      return { failed: [only], error };
    }
  }
  const outcomes = await Promise.allSettled(parts.map((part) => producer.sendBatch({ acks: -1, ...part })));
  const failed = parts.filter((_, index) => outcomes[index]?.status === 'rejected');
  const firstFailure = outcomes.find((outcome) => outcome.status === 'rejected');
  return { failed, error: firstFailure?.reason as unknown };
}

/**
 * The partition each record was last given by a producer's partitioner: a send that failed is
 * sent again partition by partition (`splitByPartition`). Keyed by the caller's record objects,
 * which kafkajs hands to the partitioner as they are; gone with them.
 */
const partitionChosen = new WeakMap<Message, number>();

/** `keyHashPartitioner`, remembering each record's partition in `partitionChosen`. */
const rememberingPartitioner: ICustomPartitioner = () => {
  const choose = keyHashPartitioner();
  return (args) => {
    const partition = choose(args);
    partitionChosen.set(args.message, partition);
    return partition;
  };
};

/**
 * A failed send as one send per partition its records were given (in their order), so that the
 * next retry of each is independent: a send spanning several brokers fails whole when one broker
 * is lost, although the others may have stored their part. Records never given a partition (the
 * send failed before partitioning) stay together.
 */
export function splitByPartition(batch: ProducerBatch): ProducerBatch[] {
  const parts: ProducerBatch[] = [];
  for (const { topic, messages } of batch.topicMessages ?? []) {
    const byPartition = new Map<number | undefined, Message[]>();
    for (const message of messages) {
      const partition = partitionChosen.get(message);
      const group = byPartition.get(partition);
      if (group === undefined) byPartition.set(partition, [message]);
      else group.push(message);
    }
    for (const group of byPartition.values()) {
      parts.push({ ...batch, topicMessages: [{ topic, messages: group }] });
    }
  }
  return parts;
}

/**
 * Not idempotent (see `ReplaceableProducer`), one request in flight (send order kept through
 * retries), bounded retries so that a send fails to its caller within seconds.
 */
function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: false,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: rememberingPartitioner,
    // No retry of kafkajs' own: it can drop records (see ReplaceableProducer); sendBatch retries.
    retry: { retries: 0 },
  });
}

/**
 * The broker's error name when it refused the records for their content, found along the
 * causes: kafkajs names the broker's answer `type` on its protocol errors and wraps them (a
 * retry wrapper's `originalError`, an error's `cause`); a `KafkaRecordsRejectedError` names it
 * `brokerError`. The first name found decides.
 */
export function recordRejectionOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const { type, brokerError, originalError, cause } = current as {
      type?: unknown;
      brokerError?: unknown;
      originalError?: unknown;
      cause?: unknown;
    };
    const named = typeof brokerError === 'string' ? brokerError : typeof type === 'string' ? type : undefined;
    if (named !== undefined) return RECORD_REJECTIONS.has(named) ? named : undefined;
    current = originalError ?? cause;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
