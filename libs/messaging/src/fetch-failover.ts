import { setTimeout as sleep } from 'node:timers/promises';
import { loadKafkajsClass } from './kafkajs-internals';

/**
 * kafkajs (2.2.4, its last release) runs one fetcher per broker, but lets one broker's trouble
 * stop them all, so a broker leaving stalls every partition of every consumer, not only those it
 * led (bench/RESULTS.md, "Cluster"; ADR 0020):
 *
 * - A fetch from a broker that cannot be reached (killed: connection refused, or no answer) is
 *   thrown out of its fetcher; the fetch manager then stops every fetcher and the runner starts
 *   them again after a growing back-off (300 ms, 600 ms, …), and after its retries crashes the
 *   consumer, which re-joins the group as a new member: a rebalance.
 * - A fetch answered "not the leader" (leadership moved: every broker restart, graceful or not)
 *   makes the member re-join its group (`joinAndSync`). When the member is the group's leader that
 *   rebalances the whole group, and every member stops consuming until all have re-joined.
 *
 * The Java consumer does neither: it refreshes its metadata and fetches each partition from its
 * new leader. So here the fetch of the broker in trouble answers "no records" and refreshes the
 * metadata, after a short pause when the broker cannot be reached; its fetcher asks again, the
 * others go on. Once metadata no longer lists the broker (the controller fenced it), kafkajs
 * re-creates its fetchers for the brokers that remain, and a partition that moved is fetched
 * from its new leader at the offset it had reached: nothing is skipped, nothing re-joins.
 * A topic that disappeared (`UNKNOWN_TOPIC_OR_PARTITION`) and every other error keep kafkajs'
 * own handling.
 *
 * kafkajs exposes no hook for this, so `recoverFromFetch` is wrapped on its internal ConsumerGroup
 * class, once per process; the version is pinned in package.json and a test fails if the class
 * stops looking as expected.
 */
export function installFetchFailover(): void {
  if (installed) return;
  const prototype = loadConsumerGroupClass().prototype;
  const recoverFromFetch = prototype.recoverFromFetch;
  prototype.recoverFromFetch = function (this: FetchingGroup, error: unknown) {
    return recoverFromFetchFailure(this, error, () => recoverFromFetch.call(this, error));
  };
  installed = true;
}

/**
 * How long the fetcher of a broker that cannot be reached waits before it asks again: a refused
 * connection fails at once, and asking in a tight loop would only burn CPU until the broker is
 * fenced (`broker.session.timeout.ms`) or back.
 */
export const UNREACHABLE_BROKER_PAUSE_MS = 250;

let installed = false;

/** Fetch answers that mean "ask the partition's new leader", not "the group changed". */
const LEADERSHIP_MOVED: ReadonlySet<string> = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
]);

const BROKER_UNREACHABLE: ReadonlySet<string> = new Set([
  'KafkaJSConnectionError',
  'KafkaJSRequestTimeoutError',
]);

/** What the failover touches of kafkajs' internal ConsumerGroup. */
export interface FetchingGroup {
  readonly cluster: { refreshMetadata(): Promise<void> };
}

interface KafkajsConsumerGroup extends FetchingGroup {
  recoverFromFetch: (error: unknown) => Promise<void>;
}

function loadConsumerGroupClass(): { readonly prototype: KafkajsConsumerGroup } {
  return loadKafkajsClass<KafkajsConsumerGroup>(
    'kafkajs/src/consumer/consumerGroup',
    ['recoverFromFetch'],
    'fetch failover',
  );
}

/** Which of its own failures a fetch survives by asking again, rather than kafkajs' handling. */
export function fetchFailureKind(error: unknown): 'leadership-moved' | 'broker-unreachable' | undefined {
  const { type, name } = (error ?? {}) as { type?: unknown; name?: unknown };
  if (typeof type === 'string' && LEADERSHIP_MOVED.has(type)) return 'leadership-moved';
  if (typeof name === 'string' && BROKER_UNREACHABLE.has(name)) return 'broker-unreachable';
  return undefined;
}

/**
 * Recovers from a failed fetch of one broker without stopping the other fetchers or re-joining
 * the group: the fetch then answers no records and its fetcher asks again. Anything else goes to
 * kafkajs' own recovery (`otherwise`).
 */
export async function recoverFromFetchFailure(
  group: FetchingGroup,
  error: unknown,
  otherwise: () => Promise<void>,
  pauseMs = UNREACHABLE_BROKER_PAUSE_MS,
): Promise<void> {
  const kind = fetchFailureKind(error);
  if (kind === undefined) return otherwise();
  if (kind === 'broker-unreachable') await sleep(pauseMs);
  try {
    await group.cluster.refreshMetadata();
  } catch {
    // No broker answered either: the next fetch finds out again, after its own pause.
  }
}
