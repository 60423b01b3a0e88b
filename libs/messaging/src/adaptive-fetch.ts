import { loadKafkajsClass } from './kafkajs-internals';

/**
 * How a consumer group's fetches batch while records flow. A fetch with kafkajs' `minBytes` of 1
 * is answered as soon as any record arrives, so at ordinary rates records travel one or two a
 * fetch, and every fetch is a request and a response to encode, write, read and decode on both
 * sides (`npm run bench:pipeline` found those requests most of what a delivery cost). A fixed
 * `minBytes` with a short wait batches them, but then an idle consumer asks again every short
 * wait, and the first record after a quiet spell waits out the whole wait for company.
 *
 * So the fetch adapts: after a fetch that brought records, the next one is held by the broker
 * until `minBytes` have gathered or `maxWaitMs` have passed (records are flowing: a few ms more
 * buys batches); after one that brought none, the next asks for any record at all and is held
 * for the consumer's own idle wait (nothing flows: the first record goes at once, and an idle
 * consumer asks rarely).
 */
export interface FetchBatching {
  /** Bytes a fetch waits to gather, over all the consumer's partitions, while records flow. */
  readonly minBytes: number;
  /** The longest a fetch waits for them while records flow: the latency batching may add. */
  readonly maxWaitMs: number;
}

/** The fetch settings for the next fetch of a group that batches, from what the last one brought. */
export function nextFetchSettings(
  batching: FetchBatching,
  idleWaitMs: number,
  lastFetchBroughtRecords: boolean,
): { readonly minBytes: number; readonly maxWaitMs: number } {
  return lastFetchBroughtRecords
    ? { minBytes: batching.minBytes, maxWaitMs: batching.maxWaitMs }
    : { minBytes: 1, maxWaitMs: idleWaitMs };
}

interface GroupBatching {
  readonly batching: FetchBatching;
  readonly idleWaitMs: number;
  lastFetchBroughtRecords: boolean;
}

/** By consumer group id: kafkajs creates its ConsumerGroup out of sight, so it is found by id. */
const batchingByGroup = new Map<string, GroupBatching>();
let installed = false;

/**
 * Makes the fetches of consumer group `groupId` in this process batch as `FetchBatching` says;
 * `idleWaitMs` is how long a fetch waits when nothing flows (the consumer's `maxWaitTimeInMs`).
 */
export function batchFetchesOf(groupId: string, batching: FetchBatching, idleWaitMs: number): void {
  installAdaptiveFetch();
  batchingByGroup.set(groupId, { batching, idleWaitMs, lastFetchBroughtRecords: false });
}

/** What the adaptive fetch touches of kafkajs' internal ConsumerGroup. */
export interface FetchingConsumerGroup {
  readonly groupId: string;
  minBytes: number;
  maxWaitTime: number;
}

interface FetchedBatch {
  isEmpty(): boolean;
}

interface KafkajsConsumerGroup extends FetchingConsumerGroup {
  fetch: (nodeId: number) => Promise<readonly FetchedBatch[]>;
}

/**
 * One fetch of `group` (`fetch`, kafkajs' own), with the settings its batching gives for what the
 * last fetch brought; groups that do not batch fetch as kafkajs would.
 */
export async function fetchAdapting<Batch extends FetchedBatch>(
  group: FetchingConsumerGroup,
  fetch: () => Promise<readonly Batch[]>,
): Promise<readonly Batch[]> {
  const batching = batchingByGroup.get(group.groupId);
  if (batching === undefined) return fetch();
  const next = nextFetchSettings(batching.batching, batching.idleWaitMs, batching.lastFetchBroughtRecords);
  group.minBytes = next.minBytes;
  group.maxWaitTime = next.maxWaitMs;
  const batches = await fetch();
  batching.lastFetchBroughtRecords = batches.some((batch) => !batch.isEmpty());
  return batches;
}

/**
 * kafkajs reads `minBytes` and `maxWaitTime` from its ConsumerGroup at every fetch but offers no
 * way to change them, so its `fetch` is wrapped, once per process, to set them first; the version
 * is pinned in package.json and this fails at start if the class stops looking as expected.
 */
function installAdaptiveFetch(): void {
  if (installed) return;
  const { prototype } = loadKafkajsClass<KafkajsConsumerGroup>(
    'kafkajs/src/consumer/consumerGroup',
    ['fetch'],
    'adaptive fetch',
  );
  const fetch = prototype.fetch;
  prototype.fetch = function (this: KafkajsConsumerGroup, nodeId: number) {
    return fetchAdapting(this, () => fetch.call(this, nodeId));
  };
  installed = true;
}
