import { type ServiceLogger } from '@skyhook/observability';

/**
 * Broker answers that are transient on a cluster that is still coming up, although kafkajs does
 * not mark them retriable: it gives up on a group coordinator it cannot find (the offsets topic of
 * a fresh cluster is still being created) with a non-retriable error.
 */
const TRANSIENT_AT_STARTUP: ReadonlySet<string> = new Set(['KafkaJSGroupCoordinatorNotFound']);

/** Bugs, not broker weather: kafkajs itself never retries these. */
const PROGRAMMING_ERRORS: ReadonlySet<string> = new Set([
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'TypeError',
]);

/**
 * Whether a failed Kafka call may succeed if simply tried again: a broker not reachable yet, a
 * topic whose metadata has not reached every broker ("This server does not host this
 * topic-partition"), a leader or coordinator being elected. Not: bad credentials, a topic
 * configuration the cluster refuses, a replication factor larger than the cluster.
 *
 * The original cause decides, as it does for kafkajs' own consumer restarts: kafkajs wraps a
 * retriable error whose retries ran out in `KafkaJSNumberOfRetriesExceeded`, and a nested retry's
 * failure in `KafkaJSNonRetriableError`, both marked non-retriable whatever they carry.
 */
export function isRetriableKafkaError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 10; depth += 1) {
    if (typeof current !== 'object' || current === null) return false;
    const { name, retriable, cause, errors } = current as {
      name?: unknown;
      retriable?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof name === 'string' && PROGRAMMING_ERRORS.has(name)) return false;
    if (typeof name === 'string' && TRANSIENT_AT_STARTUP.has(name)) return true;
    // createTopics fails with one error per refused topic: transient only if every one is.
    if (name === 'KafkaJSAggregateError' && Array.isArray(errors)) {
      return errors.length > 0 && errors.every((each) => isRetriableKafkaError(each));
    }
    if (typeof cause === 'object' && cause !== null && cause !== current) {
      current = cause;
      continue;
    }
    return retriable === true;
  }
  return false;
}

/** A start-up step kept failing with retriable errors (or did not answer) for its whole budget. */
export class KafkaStartupTimeoutError extends Error {
  constructor(
    readonly step: string,
    readonly timeoutMs: number,
    readonly lastFailure: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${step}: ${lastFailure} (still failing after ${secondsOf(timeoutMs)} s of retries, KAFKA_STARTUP_TIMEOUT_MS)`,
      options,
    );
    this.name = 'KafkaStartupTimeoutError';
  }
}

export interface KafkaStartupRetryOptions {
  /** The step's budget: KAFKA_STARTUP_TIMEOUT_MS (`KafkaSettings.startupTimeoutMs`). */
  readonly timeoutMs: number;
  /** Gets one warning per failed round; without it the retries are silent (a CLI). */
  readonly logger?: ServiceLogger;
}

/**
 * How long to wait before the next round after `failures` failed ones: 250 ms, doubling, at most
 * 2 s. A cluster that comes up is used within 2 s; one that does not costs a log line every 2 s.
 */
export function startupRetryDelayMs(failures: number): number {
  return Math.min(250 * 2 ** failures, 2_000);
}

/**
 * Runs one Kafka step of a service's start-up (reach the brokers, provision topics, connect a
 * producer, subscribe a consumer) until it succeeds, retrying errors that are retriable
 * (`isRetriableKafkaError`) for at most `timeoutMs`, with one warning per failed round saying
 * what failed, that it is retried and how long is left. A cluster just created, or started
 * together with the services, answers such errors for a while; that must not stop a service.
 *
 * A non-retriable error is thrown as it is, at once: bad configuration fails fast. When the
 * budget is spent, or a round is still unanswered at its end, `KafkaStartupTimeoutError` names
 * the step and the last failure. `operation` must be safe to run again after a failure.
 */
export async function retryKafkaAtStartup<T>(
  step: string,
  operation: () => Promise<T>,
  options: KafkaStartupRetryOptions,
): Promise<T> {
  const giveUpAt = Date.now() + options.timeoutMs;
  let lastFailure: unknown;
  for (let failures = 0; ; failures += 1) {
    const round = await withinBudget(operation, giveUpAt - Date.now());
    if ('value' in round) return round.value;
    if ('expired' in round) {
      // A round cut short says less than the failure before it, when there was one.
      const why =
        lastFailure === undefined ? `no answer within ${options.timeoutMs} ms` : messageOf(lastFailure);
      throw new KafkaStartupTimeoutError(step, options.timeoutMs, why, { cause: lastFailure });
    }
    if (!isRetriableKafkaError(round.error)) throw round.error;
    lastFailure = round.error;
    const leftMs = giveUpAt - Date.now();
    const waitMs = startupRetryDelayMs(failures);
    if (leftMs <= waitMs) {
      throw new KafkaStartupTimeoutError(step, options.timeoutMs, messageOf(lastFailure), {
        cause: lastFailure,
      });
    }
    options.logger?.warn(
      { step, attempt: failures + 1, retryInMs: waitMs, leftMs, reason: messageOf(lastFailure) },
      `Kafka start-up: ${step} failed (${messageOf(lastFailure)}); retrying in ${durationOf(waitMs)}, ` +
        `giving up in ${durationOf(leftMs)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

type Round<T> = { value: T } | { error: unknown } | { expired: true };

/** The round, unless it outlasts what is left of the budget (a broker that accepts and never answers). */
async function withinBudget<T>(operation: () => Promise<T>, leftMs: number): Promise<Round<T>> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<Round<T>>((resolve) => {
    timer = setTimeout(() => resolve({ expired: true }), Math.max(0, leftMs));
  });
  try {
    return await Promise.race([
      operation().then(
        (value): Round<T> => ({ value }),
        (error: unknown): Round<T> => ({ error }),
      ),
      expiry,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

function secondsOf(ms: number): string {
  return (Math.max(0, ms) / 1_000).toFixed(1);
}

function durationOf(ms: number): string {
  return ms < 1_000 ? `${Math.max(0, Math.round(ms))} ms` : `${secondsOf(ms)} s`;
}
