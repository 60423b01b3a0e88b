import { loadKafkajsClass } from './kafkajs-internals';

/**
 * kafkajs (2.2.4, its last release) keeps, per broker connection, a queue of requests waiting
 * for an in-flight slot or for client-side throttling to end. After every check of that queue it
 * arms a timer for the next check, whether or not anything waits, with a delay of
 * `throttledUntil - now`: negative when nothing is throttled, which Node runs after 1 ms. So every
 * open connection wakes its process about a thousand times a second for nothing, for as long as
 * it is open (kafkajs #1556 and #1704; Node 24 warns `TimeoutNegativeWarning`, #1751). Measured
 * with `npm run bench:pipeline`, it was most of each service's CPU at rest (bench/RESULTS.md).
 *
 * Fixed here: a check is scheduled only while requests wait, at the end of the throttle or after
 * kafkajs' own 10 ms when the wait is for an in-flight slot (a slot freed by an answer checks the
 * queue at once anyway). Nothing that waits is left without a scheduled check: a request that
 * cannot be sent at once is queued by `push`, which schedules one, and each check re-schedules
 * while requests remain.
 *
 * kafkajs exposes no hook for this, so the method is replaced on its internal RequestQueue class,
 * once per process; the version is pinned in package.json and a test fails if the class stops
 * looking as expected.
 */
export function installRequestQueueIdleFix(): void {
  if (installed) return;
  loadRequestQueueClass().prototype.scheduleCheckPendingRequests = function (this: WaitingRequestQueue) {
    scheduleCheckWhileRequestsWait(this);
  };
  installed = true;
}

/** kafkajs' interval between checks while requests wait for an in-flight slot. */
export const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

let installed = false;

/** What the fix touches of kafkajs' internal RequestQueue. */
export interface WaitingRequestQueue {
  readonly pending: readonly unknown[];
  /** Until when (ms since the epoch) the broker asked this client not to send; -1 when never. */
  readonly throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}

interface KafkajsRequestQueue extends WaitingRequestQueue {
  scheduleCheckPendingRequests(): void;
}

function loadRequestQueueClass(): { readonly prototype: KafkajsRequestQueue } {
  return loadKafkajsClass<KafkajsRequestQueue>(
    'kafkajs/src/network/requestQueue',
    ['scheduleCheckPendingRequests', 'checkPendingRequests'],
    'request-queue idle fix',
  );
}

/** Schedules the queue's next check if requests wait and none is scheduled; nothing otherwise. */
export function scheduleCheckWhileRequestsWait(queue: WaitingRequestQueue, now = Date.now()): void {
  if (queue.throttleCheckTimeoutId !== null || queue.pending.length === 0) return;
  const untilUnthrottled = queue.throttledUntil - now;
  const delayMs = untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS;
  queue.throttleCheckTimeoutId = setTimeout(() => {
    queue.throttleCheckTimeoutId = null;
    queue.checkPendingRequests();
  }, delayMs);
}
