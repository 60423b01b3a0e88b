import {
  KafkaJSAggregateError,
  KafkaJSConnectionError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import pino from 'pino';
import {
  isRetriableKafkaError,
  KafkaStartupTimeoutError,
  retryKafkaAtStartup,
  startupRetryDelayMs,
} from './kafka-startup-retry';

/** A broker's answer as kafkajs turns it into an error (its protocol error table gives `retriable`). */
function brokerAnswer(type: string, code: number, retriable: boolean, message: string): KafkaJSProtocolError {
  return new KafkaJSProtocolError(Object.assign(new Error(message), { type, code, retriable }));
}

const unknownTopic = (): KafkaJSProtocolError =>
  brokerAnswer('UNKNOWN_TOPIC_OR_PARTITION', 3, true, 'This server does not host this topic-partition');
const invalidReplicationFactor = (): KafkaJSProtocolError =>
  brokerAnswer('INVALID_REPLICATION_FACTOR', 38, false, 'Replication-factor is invalid');

/** kafkajs' message-only errors, whose declared constructors take no message although kafkajs passes one. */
function withMessage(type: new () => Error, message: string): Error {
  return new (type as unknown as new (message: string) => Error)(message);
}

/** How kafkajs' retrier gives up on a retriable error after its last try. */
function retriesExhausted(cause: Error): KafkaJSNumberOfRetriesExceeded {
  return new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 4_800 });
}

/** kafkajs' retrier wraps a nested retrier's failure this way (its types omit the `cause` option). */
function nestedRetryFailure(cause: Error): KafkaJSNonRetriableError {
  const Wrapper = KafkaJSNonRetriableError as unknown as new (e: Error, options: { cause: Error }) => Error;
  return new Wrapper(cause, { cause }) as KafkaJSNonRetriableError;
}

describe('isRetriableKafkaError', () => {
  it.each([
    ['a topic whose metadata has not reached this broker', unknownTopic()],
    [
      'a leader being elected',
      brokerAnswer('LEADER_NOT_AVAILABLE', 5, true, 'There is no leader for this topic-partition'),
    ],
    ['no controller yet', brokerAnswer('NOT_CONTROLLER', 41, true, 'This is not the correct controller')],
    [
      'a coordinator still loading',
      brokerAnswer('GROUP_LOAD_IN_PROGRESS', 14, true, "The coordinator is loading and hence can't process"),
    ],
    [
      'a refused connection',
      new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1'),
    ],
    ['kafkajs giving up its own retries of one', retriesExhausted(unknownTopic())],
    ['a nested retry giving up on one', nestedRetryFailure(retriesExhausted(unknownTopic()))],
    [
      'a group coordinator not found on a fresh cluster',
      withMessage(KafkaJSGroupCoordinatorNotFound, 'Failed to find group coordinator'),
    ],
    [
      'createTopics refused for transient reasons only',
      new KafkaJSAggregateError('refused', [unknownTopic()]),
    ],
  ])('retries %s', (_, error) => {
    expect(isRetriableKafkaError(error)).toBe(true);
  });

  it.each([
    ['a replication factor larger than the cluster', invalidReplicationFactor()],
    [
      'a topic configuration the cluster refuses',
      brokerAnswer('INVALID_CONFIG', 40, false, 'Configuration is invalid'),
    ],
    [
      'a topic the credentials may not touch',
      brokerAnswer('TOPIC_AUTHORIZATION_FAILED', 29, false, 'Not authorized to access topics'),
    ],
    ['bad credentials', withMessage(KafkaJSSASLAuthenticationError, 'SASL PLAIN authentication failed')],
    [
      'bad credentials behind a nested retry',
      nestedRetryFailure(withMessage(KafkaJSSASLAuthenticationError, 'SASL PLAIN authentication failed')),
    ],
    [
      'createTopics refused for one lasting reason among transient ones',
      new KafkaJSAggregateError('refused', [unknownTopic(), invalidReplicationFactor()]),
    ],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'leader')")],
    ['an error that is not Kafka’s', new Error('no handler is registered')],
    ['something that is not an error', 'ECONNREFUSED'],
  ])('does not retry %s', (_, error) => {
    expect(isRetriableKafkaError(error)).toBe(false);
  });
});

describe('startupRetryDelayMs', () => {
  it('waits 250 ms, doubling, and never more than 2 s between rounds', () => {
    expect([0, 1, 2, 3, 4, 30].map(startupRetryDelayMs)).toEqual([250, 500, 1_000, 2_000, 2_000, 2_000]);
  });
});

describe('retryKafkaAtStartup', () => {
  let lines: { msg: string; step?: string; leftMs?: number; level: number }[];
  let logger: pino.Logger;

  beforeEach(() => {
    jest.useFakeTimers();
    lines = [];
    logger = pino(
      { level: 'warn' },
      { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) },
    );
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('retries a retriable failure until the step succeeds, with one warning per failed round saying what, when and how long is left', async () => {
    let calls = 0;
    const step = retryKafkaAtStartup(
      'subscribing consumer group skyhook.fanout',
      () => {
        calls += 1;
        return calls <= 2 ? Promise.reject(retriesExhausted(unknownTopic())) : Promise.resolve('joined');
      },
      { timeoutMs: 60_000, logger },
    );
    await jest.advanceTimersByTimeAsync(250 + 500);
    await expect(step).resolves.toBe('joined');
    expect(calls).toBe(3);
    expect(lines.map((line) => line.msg)).toEqual([
      'Kafka start-up: subscribing consumer group skyhook.fanout failed (This server does not host this topic-partition); retrying in 250 ms, giving up in 60.0 s',
      'Kafka start-up: subscribing consumer group skyhook.fanout failed (This server does not host this topic-partition); retrying in 500 ms, giving up in 59.8 s',
    ]);
    expect(lines[0]).toMatchObject({
      level: 40,
      step: 'subscribing consumer group skyhook.fanout',
      leftMs: 60_000,
    });
  });

  it('fails at once, with the error as it came and no retry, when the failure is not retriable', async () => {
    let calls = 0;
    const refused = invalidReplicationFactor();
    const step = retryKafkaAtStartup(
      'provisioning topics',
      () => {
        calls += 1;
        return Promise.reject(refused);
      },
      { timeoutMs: 60_000, logger },
    );
    await expect(step).rejects.toBe(refused);
    expect(calls).toBe(1);
    expect(lines).toEqual([]);
  });

  it('gives up when the budget is spent, naming the step, the last failure and the setting', async () => {
    let calls = 0;
    const step = retryKafkaAtStartup(
      'connecting producer contract',
      () => {
        calls += 1;
        return Promise.reject(
          new KafkaJSConnectionError(`Connection error: connect ECONNREFUSED (try ${calls})`),
        );
      },
      { timeoutMs: 5_000, logger },
    );
    const failure = expect(step).rejects.toThrow(KafkaStartupTimeoutError);
    await jest.advanceTimersByTimeAsync(5_000);
    await failure;
    // Waits of 250, 500, 1,000 and 2,000 ms fit in 5 s; after the fifth round, 1.25 s are left,
    // less than the next wait.
    expect(calls).toBe(5);
    expect(lines).toHaveLength(4);
    await expect(step).rejects.toThrow(
      'connecting producer contract: Connection error: connect ECONNREFUSED (try 5) (still failing after 5.0 s of retries, KAFKA_STARTUP_TIMEOUT_MS)',
    );
  });

  it('gives up on a round that is still unanswered when the budget ends', async () => {
    const step = retryKafkaAtStartup('provisioning topics', () => new Promise<never>(() => undefined), {
      timeoutMs: 3_000,
      logger,
    });
    const failure = expect(step).rejects.toThrow(
      'provisioning topics: no answer within 3000 ms (still failing after 3.0 s of retries, KAFKA_STARTUP_TIMEOUT_MS)',
    );
    await jest.advanceTimersByTimeAsync(3_000);
    await failure;
  });

  it('names the failure before a round cut short by the end of the budget, not the silence', async () => {
    let calls = 0;
    const step = retryKafkaAtStartup(
      'reaching the brokers',
      () => {
        calls += 1;
        return calls === 1
          ? Promise.reject(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1'))
          : new Promise<never>(() => undefined);
      },
      { timeoutMs: 3_000, logger },
    );
    const failure = expect(step).rejects.toThrow(
      'reaching the brokers: Connection error: connect ECONNREFUSED 127.0.0.1:1 (still failing after 3.0 s of retries, KAFKA_STARTUP_TIMEOUT_MS)',
    );
    await jest.advanceTimersByTimeAsync(3_000);
    await failure;
    expect(calls).toBe(2);
  });

  it('leaves no timer behind once the step has succeeded', async () => {
    await expect(
      retryKafkaAtStartup('reaching the brokers', () => Promise.resolve(1), { timeoutMs: 60_000 }),
    ).resolves.toBe(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});
