import { Client } from 'pg';
import { deliveryIdOf } from '@skyhook/contracts';
import { pollUntil } from '../poll-until';
import { type ReceivedWebhook } from '../webhook-receiver';
import { apiRequest, CHAOS_EVENT_TYPE, type ChaosStack } from './chaos-stack';
import { type AcknowledgedEvent } from './event-stream';

/** What reached the receiver and the history, against what the api acknowledged. */
export interface DeliveryAudit {
  /** Acknowledged events × subscriptions: the deliveries that must reach the receiver. */
  readonly expected: number;
  /** Expected deliveries that arrived at least once. */
  readonly received: number;
  readonly lost: number;
  /** Arrivals beyond the first of an expected delivery. */
  readonly duplicates: number;
  /** The most arrivals of any one delivery (1 when nothing arrived twice). */
  readonly mostCopies: number;
  /** Delivery ids that arrived more than once with bodies that differ. */
  readonly duplicatesWithAnotherBody: readonly string[];
  /** The first such delivery's two bodies, to see what differs. */
  readonly anotherBodyExample?: { readonly first: string; readonly other: string };
  /** Arrivals for no acknowledged event (e.g. an event published although its answer was an error). */
  readonly unacknowledgedArrivals: number;
  /** Stream events (by sequence number) that arrived under more than one event id. */
  readonly eventsUnderTwoIds: number;
  readonly history: HistoryAudit;
}

export interface HistoryAudit {
  /** Received deliveries with no row in the history. */
  readonly missing: number;
  /** Received deliveries with more than one row (e.g. copies in two day partitions). */
  readonly doubled: number;
  /** Received deliveries whose row does not say `delivered`. */
  readonly notDelivered: number;
  /** Requests the receiver got that no attempt row accounts for (a repeat hidden by the first). */
  readonly requestsNotInHistory: number;
  /**
   * Of those, the ones whose delivery has no attempt marked as sent after a dispatch whose
   * outcome is unknown (ADR 0018): hidden from the partner's log without a word.
   */
  readonly requestsHidden: number;
  /** A few delivery ids that are missing or short of requests, to follow through the topics. */
  readonly examples: readonly string[];
}

interface Arrival {
  /** The event stream the event came from (`EventStream.runId`). */
  readonly run: string | undefined;
  readonly deliveryId: string;
  readonly eventId: string;
  readonly seq: number | undefined;
  readonly body: string;
  readonly receivedAt: number;
}

/** How long the audit waits, once deliveries converged, for history to record every request. */
const ATTEMPTS_SETTLE_MS = 10_000;

/** Reads the receiver's requests once each, however often it is asked. */
export class ArrivalLog {
  private readonly arrivals: Arrival[] = [];
  private read = 0;

  constructor(private readonly stack: ChaosStack) {}

  /** Every chaos-event request so far (probes left out), in arrival order. */
  all(): readonly Arrival[] {
    const received = this.stack.receiver.received;
    for (; this.read < received.length; this.read += 1) {
      const arrival = arrivalOf(received[this.read]!);
      if (arrival !== undefined) this.arrivals.push(arrival);
    }
    return this.arrivals;
  }
}

function arrivalOf(request: ReceivedWebhook): Arrival | undefined {
  const body = request.rawBody.toString();
  let payload: { id?: unknown; type?: unknown; data?: { seq?: unknown; run?: unknown } };
  try {
    payload = JSON.parse(body) as typeof payload;
  } catch {
    return undefined;
  }
  if (payload.type !== CHAOS_EVENT_TYPE) return undefined;
  return {
    run: typeof payload.data?.run === 'string' ? payload.data.run : undefined,
    deliveryId: request.headers['webhook-id'] ?? '',
    eventId: typeof payload.id === 'string' ? payload.id : '',
    seq: typeof payload.data?.seq === 'number' ? payload.data.seq : undefined,
    body,
    receivedAt: request.receivedAt,
  };
}

export function expectedDeliveryIds(
  stack: ChaosStack,
  acknowledged: readonly AcknowledgedEvent[],
): Set<string> {
  const ids = new Set<string>();
  for (const event of acknowledged) {
    for (const subscription of stack.subscriptions) {
      ids.add(deliveryIdOf(stack.organisationId, event.eventId, subscription.id));
    }
  }
  return ids;
}

interface HistoryRows {
  /** Rows per delivery id, and whether every one of them says delivered. */
  readonly deliveries: Map<string, { rows: number; delivered: boolean }>;
  readonly attempts: Map<string, { count: number; marked: boolean }>;
}

async function readHistory(stack: ChaosStack): Promise<HistoryRows> {
  const client = new Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    const deliveries = new Map<string, { rows: number; delivered: boolean }>();
    const deliveryRows = await client.query<{ delivery_id: string; status: string }>(
      'SELECT delivery_id, status FROM deliveries WHERE organisation_id = $1 AND event_type = $2',
      [stack.organisationId, CHAOS_EVENT_TYPE],
    );
    for (const row of deliveryRows.rows) {
      const seen = deliveries.get(row.delivery_id);
      deliveries.set(row.delivery_id, {
        rows: (seen?.rows ?? 0) + 1,
        delivered: (seen?.delivered ?? true) && row.status === 'delivered',
      });
    }
    const attemptRows = await client.query<{ delivery_id: string; attempts: number; marked: boolean }>(
      `SELECT delivery_id, count(*)::int AS attempts, bool_or(after_unknown_outcome) AS marked
       FROM delivery_attempts WHERE organisation_id = $1 GROUP BY delivery_id`,
      [stack.organisationId],
    );
    const attempts = new Map(
      attemptRows.rows.map((row) => [row.delivery_id, { count: row.attempts, marked: row.marked }]),
    );
    return { deliveries, attempts };
  } finally {
    await client.end();
  }
}

/** Audits one event stream's deliveries (`run`), whatever else the receiver got. */
export async function auditDeliveries(
  stack: ChaosStack,
  arrivals: ArrivalLog,
  run: string,
  acknowledged: readonly AcknowledgedEvent[],
): Promise<DeliveryAudit> {
  const expected = expectedDeliveryIds(stack, acknowledged);
  const bodies = new Map<string, string>();
  const copies = new Map<string, number>();
  const anotherBody = new Set<string>();
  let anotherBodyExample: DeliveryAudit['anotherBodyExample'];
  const eventIdsBySeq = new Map<number, Set<string>>();
  let unacknowledgedArrivals = 0;
  for (const arrival of arrivals.all()) {
    if (arrival.run !== run) continue;
    if (arrival.seq !== undefined) {
      const ids = eventIdsBySeq.get(arrival.seq) ?? new Set<string>();
      ids.add(arrival.eventId);
      eventIdsBySeq.set(arrival.seq, ids);
    }
    if (!expected.has(arrival.deliveryId)) {
      unacknowledgedArrivals += 1;
      continue;
    }
    copies.set(arrival.deliveryId, (copies.get(arrival.deliveryId) ?? 0) + 1);
    const first = bodies.get(arrival.deliveryId);
    if (first === undefined) bodies.set(arrival.deliveryId, arrival.body);
    else if (first !== arrival.body) {
      anotherBody.add(arrival.deliveryId);
      anotherBodyExample ??= { first, other: arrival.body };
    }
  }
  let duplicates = 0;
  let mostCopies = 0;
  for (const count of copies.values()) {
    duplicates += count - 1;
    mostCopies = Math.max(mostCopies, count);
  }

  const history = await readHistory(stack);
  let missing = 0;
  let doubled = 0;
  let notDelivered = 0;
  let requestsNotInHistory = 0;
  let requestsHidden = 0;
  const examples: string[] = [];
  for (const [deliveryId, count] of copies) {
    const row = history.deliveries.get(deliveryId);
    if (row === undefined) missing += 1;
    else {
      if (row.rows > 1) doubled += 1;
      if (!row.delivered) notDelivered += 1;
    }
    const attempts = history.attempts.get(deliveryId);
    const unrecorded = Math.max(0, count - (attempts?.count ?? 0));
    requestsNotInHistory += unrecorded;
    if (attempts?.marked !== true) requestsHidden += unrecorded;
    if ((row === undefined || unrecorded > 0) && examples.length < 5) examples.push(deliveryId);
  }

  return {
    expected: expected.size,
    received: copies.size,
    lost: expected.size - copies.size,
    duplicates,
    mostCopies,
    duplicatesWithAnotherBody: [...anotherBody],
    anotherBodyExample,
    unacknowledgedArrivals,
    eventsUnderTwoIds: [...eventIdsBySeq.values()].filter((ids) => ids.size > 1).length,
    history: { missing, doubled, notDelivered, requestsNotInHistory, requestsHidden, examples },
  };
}

/**
 * Waits until every expected delivery has reached the receiver and the history says
 * `delivered` for each; resolves with how long that took, or undefined at the deadline.
 */
export async function waitForConvergence(
  stack: ChaosStack,
  arrivals: ArrivalLog,
  acknowledged: readonly AcknowledgedEvent[],
  timeoutMs: number,
): Promise<number | undefined> {
  const started = Date.now();
  const expected = expectedDeliveryIds(stack, acknowledged);
  const outstanding = new Set(expected);
  const client = new Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    await pollUntil(
      async () => {
        for (const arrival of arrivals.all()) outstanding.delete(arrival.deliveryId);
        if (outstanding.size > 0) return false;
        // This stream's deliveries only: the organisation's earlier streams are in the table too.
        const { rows } = await client.query<{ delivered: number }>(
          `SELECT count(DISTINCT delivery_id)::int AS delivered FROM deliveries
           WHERE organisation_id = $1 AND event_type = $2 AND status = 'delivered' AND delivery_id = ANY($3)`,
          [stack.organisationId, CHAOS_EVENT_TYPE, [...expected]],
        );
        return (rows[0]?.delivered ?? 0) >= expected.size;
      },
      { timeoutMs, intervalMs: 500, description: 'deliveries and history converged' },
    );
    const convergedAfterMs = Date.now() - started;
    // A repeated request's attempt event may still be on its way once every delivery reads
    // delivered: give history a moment to account for every request the receiver got before the
    // audit counts them (a request that is never recorded stays counted as not in history).
    const requests = arrivals.all().filter((arrival) => expected.has(arrival.deliveryId)).length;
    await pollUntil(
      async () => {
        const { rows } = await client.query<{ attempts: number }>(
          `SELECT count(*)::int AS attempts FROM delivery_attempts
           WHERE organisation_id = $1 AND delivery_id = ANY($2)`,
          [stack.organisationId, [...expected]],
        );
        return (rows[0]?.attempts ?? 0) >= requests;
      },
      { timeoutMs: ATTEMPTS_SETTLE_MS, intervalMs: 500, description: 'every request recorded' },
    ).catch(() => undefined);
    return convergedAfterMs;
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}

/** The first time (`Date.now()`) the history was written after `since`, polled until `timeoutMs`. */
export async function firstHistoryWriteAfter(
  stack: ChaosStack,
  since: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const client = new Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    return await pollUntil(
      async () => {
        const { rows } = await client.query<{ first: Date | null }>(
          `SELECT min(updated_at) AS first FROM deliveries
           WHERE organisation_id = $1 AND updated_at > to_timestamp($2::double precision / 1000)`,
          [stack.organisationId, since],
        );
        return rows[0]?.first?.getTime() ?? undefined;
      },
      { timeoutMs, intervalMs: 100, description: 'a history write' },
    );
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}

/**
 * The first arrival, after `restartedAt`, of a delivery whose event was acknowledged after
 * `killedAt`: work that could only flow once whatever was killed was back. (An event whose answer
 * came just after the kill may have been delivered before the restart; it does not count.)
 */
export async function firstArrivalOfWorkAfter(
  arrivals: ArrivalLog,
  acknowledgementOf: (eventId: string) => AcknowledgedEvent | undefined,
  killedAt: number,
  restartedAt: number,
  timeoutMs: number,
): Promise<number | undefined> {
  let from = arrivals.all().findIndex((arrival) => arrival.receivedAt >= restartedAt);
  if (from < 0) from = arrivals.all().length;
  try {
    return await pollUntil(
      () => {
        // Scanned again each time: a webhook can arrive before the api's answer reaches the client.
        let first: number | undefined;
        const all = arrivals.all();
        for (let i = from; i < all.length; i += 1) {
          const arrival = all[i]!;
          const acknowledged = acknowledgementOf(arrival.eventId);
          if (acknowledged !== undefined && acknowledged.acknowledgedAt > killedAt) {
            first = Math.min(first ?? arrival.receivedAt, arrival.receivedAt);
          }
        }
        return first;
      },
      { timeoutMs, intervalMs: 50, description: 'a delivery of work acknowledged after the fault' },
    );
  } catch {
    return undefined;
  }
}

/** Every delivery of the organisation as `GET /v1/deliveries` lists them, page by page. */
export async function listedDeliveryIds(stack: ChaosStack): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page = await apiRequest(
      stack.apiUrl,
      stack.apiKey,
      'GET',
      `/v1/deliveries?limit=200&eventType=${CHAOS_EVENT_TYPE}${query}`,
    );
    if (page.status !== 200) throw new Error(`GET /v1/deliveries answered ${page.status}`);
    for (const delivery of page.body['data'] as { id: string }[]) ids.push(delivery.id);
    cursor = page.body['nextCursor'] as string | null;
  } while (cursor !== null);
  return ids;
}
