import { createRequire } from 'node:module';
import {
  CHECK_PENDING_REQUESTS_INTERVAL_MS,
  installRequestQueueIdleFix,
  scheduleCheckWhileRequestsWait,
  type WaitingRequestQueue,
} from './request-queue-idle-fix';

interface QueueUnderTest extends WaitingRequestQueue {
  pending: unknown[];
  throttledUntil: number;
  inflight: Map<number, unknown>;
  push(request: PushedRequest): void;
  maybeThrottle(throttleTimeMs: number): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  destroy(): void;
}

interface PushedRequest {
  readonly entry: { correlationId: number; resolve: () => void; reject: () => void };
  readonly expectResponse: boolean;
  readonly sendRequest: () => void;
}

const silent = {
  debug: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  info: () => undefined,
};

function kafkajsRequestQueue(maxInFlightRequests = 1): QueueUnderTest {
  const RequestQueue = createRequire(__filename)('kafkajs/src/network/requestQueue') as new (
    options: object,
  ) => QueueUnderTest;
  return new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'broker:9092',
    logger: silent,
  });
}

function request(correlationId: number, sent: number[]): PushedRequest {
  return {
    entry: { correlationId, resolve: () => undefined, reject: () => undefined },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  };
}

describe("kafkajs' request queue, with the idle fix", () => {
  beforeAll(() => installRequestQueueIdleFix());
  afterEach(() => jest.useRealTimers());

  it('arms no timer once nothing waits: an idle connection does not wake its process', () => {
    jest.useFakeTimers();
    const queue = kafkajsRequestQueue();
    const sent: number[] = [];
    queue.push(request(1, sent));
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(sent).toEqual([1]);
    expect(queue.throttleCheckTimeoutId).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
    queue.destroy();
  });

  it('sends a request that waited for an in-flight slot as soon as the slot is free', () => {
    jest.useFakeTimers();
    const queue = kafkajsRequestQueue(1);
    const sent: number[] = [];
    queue.push(request(1, sent));
    queue.push(request(2, sent));
    expect(sent).toEqual([1]);
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(sent).toEqual([1, 2]);
    queue.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    jest.runOnlyPendingTimers();
    expect(jest.getTimerCount()).toBe(0);
    queue.destroy();
  });

  it('holds requests while the broker throttles the client and sends them when the throttle ends', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const queue = kafkajsRequestQueue(10);
    const sent: number[] = [];
    queue.maybeThrottle(500);
    queue.push(request(1, sent));
    queue.push(request(2, sent));
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(499);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([1, 2]);
    expect(queue.throttleCheckTimeoutId).toBeNull();
    queue.destroy();
  });
});

describe('scheduling a check of waiting requests', () => {
  function queueOf(pending: unknown[], throttledUntil = -1) {
    const queue = {
      pending,
      throttledUntil,
      throttleCheckTimeoutId: null as NodeJS.Timeout | null,
      checks: 0,
      checkPendingRequests: () => {
        queue.checks += 1;
      },
    };
    return queue;
  }

  afterEach(() => jest.useRealTimers());

  it('schedules nothing when nothing waits, throttled or not', () => {
    jest.useFakeTimers({ now: 5_000 });
    scheduleCheckWhileRequestsWait(queueOf([]), 5_000);
    scheduleCheckWhileRequestsWait(queueOf([], 9_000), 5_000);
    expect(jest.getTimerCount()).toBe(0);
  });

  it("checks at the throttle's end, or after kafkajs' interval when the throttle is over or marginal", () => {
    jest.useFakeTimers({ now: 5_000 });
    const throttled = queueOf(['waiting'], 5_300);
    scheduleCheckWhileRequestsWait(throttled, 5_000);
    jest.advanceTimersByTime(299);
    expect(throttled.checks).toBe(0);
    jest.advanceTimersByTime(1);
    expect(throttled.checks).toBe(1);
    expect(throttled.throttleCheckTimeoutId).toBeNull();

    const unthrottled = queueOf(['waiting'], 5_000);
    scheduleCheckWhileRequestsWait(unthrottled, 5_000);
    jest.advanceTimersByTime(CHECK_PENDING_REQUESTS_INTERVAL_MS - 1);
    expect(unthrottled.checks).toBe(0);
    jest.advanceTimersByTime(1);
    expect(unthrottled.checks).toBe(1);
  });

  it('never schedules a second check beside one already scheduled', () => {
    jest.useFakeTimers();
    const queue = queueOf(['waiting']);
    scheduleCheckWhileRequestsWait(queue);
    scheduleCheckWhileRequestsWait(queue);
    expect(jest.getTimerCount()).toBe(1);
  });
});
