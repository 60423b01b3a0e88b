import { CHAOS_EVENT_TYPE } from './chaos-stack';

/** One event the stream published and the api acknowledged with a 2xx. */
export interface AcknowledgedEvent {
  readonly seq: number;
  readonly eventId: string;
  readonly idempotencyKey: string;
  /** `Date.now()` when the first request for it went out, and when the 2xx came. */
  readonly firstSentAt: number;
  readonly acknowledgedAt: number;
  readonly requests: number;
}

export interface EventStreamOptions {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly ratePerSecond: number;
  /** Requests open at once; while it is reached (an outage) the stream falls behind its rate. */
  readonly maxInFlight?: number;
  /** A request with no answer after this long is abandoned and sent again with the same key. */
  readonly requestTimeoutMs?: number;
  /** Stop starting events after this many; unbounded when absent (stop() ends the stream). */
  readonly maxEvents?: number;
}

export interface EventStreamResult {
  readonly acknowledged: readonly AcknowledgedEvent[];
  /** Events given up on: a 4xx other than 408/429, or still unanswered when the stream stopped. */
  readonly unacknowledged: readonly { seq: number; idempotencyKey: string; lastAnswer: string }[];
  /** Every answer by status (`timeout` and `network-error` for no answer), retries included. */
  readonly answers: Readonly<Record<string, number>>;
  /** Events started, acknowledged or not. */
  readonly events: number;
  readonly elapsedMs: number;
}

export interface EventStream {
  /** In every event's `data.run`: tells this stream's deliveries from any other's. */
  readonly runId: string;
  /** Acknowledged so far, in acknowledgement order. */
  readonly acknowledged: readonly AcknowledgedEvent[];
  /** Events started so far. */
  readonly started: number;
  /** Event id → acknowledgement, for events acknowledged so far. */
  acknowledgementOf(eventId: string): AcknowledgedEvent | undefined;
  /**
   * Starts no more events and waits (up to `drainTimeoutMs`, default 60 s) for those in flight to
   * be acknowledged, retrying them as a client would.
   */
  stop(drainTimeoutMs?: number): Promise<EventStreamResult>;
}

const RETRY_DELAY_MIN_MS = 100;
const RETRY_DELAY_MAX_MS = 1_000;

/**
 * Publishes events over `POST /v1/events` at a steady rate, as a careful client does: each with
 * its own `Idempotency-Key`, and every 5xx, 408, 429, timeout or refused connection retried with
 * the same key and the same body (after `Retry-After`, or a short doubling delay) until a 2xx.
 * The body carries no `occurredAt`, so a retry is exactly the request the client sent first.
 */
export function startEventStream(options: EventStreamOptions): EventStream {
  const maxInFlight = options.maxInFlight ?? 64;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const acknowledged: AcknowledgedEvent[] = [];
  const byEventId = new Map<string, AcknowledgedEvent>();
  const lastAnswers = new Map<number, string>();
  const answers: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const openKeys = new Map<number, string>();
  const refused: { seq: number; idempotencyKey: string; lastAnswer: string }[] = [];
  const startedAt = Date.now();
  let started = 0;
  let stopping = false;
  let abandon = false;
  let freed: (() => void) | undefined;

  const count = (answer: string): void => {
    answers[answer] = (answers[answer] ?? 0) + 1;
  };

  const publishOne = async (seq: number): Promise<void> => {
    const idempotencyKey = `chaos-${runId}-${seq}`;
    openKeys.set(seq, idempotencyKey);
    const body = JSON.stringify({
      type: CHAOS_EVENT_TYPE,
      data: { seq, run: runId, bookingId: `bk_${seq}` },
      scope: {},
    });
    const firstSentAt = Date.now();
    let delayMs = RETRY_DELAY_MIN_MS;
    for (let requests = 1; !abandon; requests += 1) {
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(`${options.apiUrl}/v1/events`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            'content-type': 'application/json',
            'idempotency-key': idempotencyKey,
          },
          body,
          signal: AbortSignal.timeout(requestTimeoutMs),
        });
        const text = await response.text();
        count(String(response.status));
        lastAnswers.set(seq, `${response.status} ${text.slice(0, 200)}`);
        if (response.ok) {
          const { id } = JSON.parse(text) as { id: string };
          const event: AcknowledgedEvent = {
            seq,
            eventId: id,
            idempotencyKey,
            firstSentAt,
            acknowledgedAt: Date.now(),
            requests,
          };
          acknowledged.push(event);
          byEventId.set(id, event);
          openKeys.delete(seq);
          return;
        }
        const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
        if (!retryable) {
          refused.push({ seq, idempotencyKey, lastAnswer: lastAnswers.get(seq) ?? '' });
          openKeys.delete(seq);
          return;
        }
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = retryAfter * 1_000;
      } catch (error) {
        const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
        count(timedOut ? 'timeout' : 'network-error');
        lastAnswers.set(seq, timedOut ? 'timeout' : `network error: ${describe(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, retryAfterMs ?? delayMs));
      delayMs = Math.min(delayMs * 2, RETRY_DELAY_MAX_MS);
    }
  };

  const pace = (async () => {
    const intervalMs = 1_000 / options.ratePerSecond;
    for (let seq = 0; !stopping && (options.maxEvents === undefined || seq < options.maxEvents); seq += 1) {
      const due = startedAt + seq * intervalMs;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      while (inFlight.size >= maxInFlight && !stopping) {
        await new Promise<void>((resolve) => (freed = resolve));
      }
      if (stopping) break;
      started += 1;
      const task: Promise<void> = publishOne(seq).finally(() => {
        inFlight.delete(task);
        freed?.();
      });
      inFlight.add(task);
    }
  })();

  return {
    runId,
    get acknowledged() {
      return acknowledged;
    },
    get started() {
      return started;
    },
    acknowledgementOf: (eventId) => byEventId.get(eventId),
    stop: async (drainTimeoutMs = 60_000) => {
      stopping = true;
      freed?.();
      await pace;
      const drained = Promise.all([...inFlight]);
      const timer = new Promise((resolve) => setTimeout(resolve, drainTimeoutMs).unref());
      await Promise.race([drained, timer]);
      abandon = true;
      const unacknowledged = [
        ...refused,
        ...[...openKeys].map(([seq, idempotencyKey]) => ({
          seq,
          idempotencyKey,
          lastAnswer: lastAnswers.get(seq) ?? 'no answer',
        })),
      ];
      return {
        acknowledged: acknowledged.slice(),
        unacknowledged,
        answers: { ...answers },
        events: started,
        elapsedMs: Date.now() - startedAt,
      };
    },
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
