import { type Message } from 'kafkajs';
import { maxMessageBytesOf, type TopicKey } from '@skyhook/contracts';
import { partitionOfKey } from './key-hash-partitioner';
import { recordRejectionOf } from './replaceable-producer';

/**
 * A record batch's fixed part (length, epoch, CRC, attributes, offsets, times, producer id and
 * epoch, sequence, record count) in the v2 format every supported broker speaks.
 */
export const RECORD_BATCH_OVERHEAD_BYTES = 61;

/**
 * A whole produce request is bounded too, well under the broker's `socket.request.max.bytes`
 * (100 MiB), which a broker enforces by closing the connection: a client would see a network
 * error and resend the same request for ever. kafkajs also builds each request in memory.
 */
export const MAX_PRODUCE_REQUEST_BYTES = 16 * 1_024 * 1_024;

export interface ProduceBounds {
  /** Bytes of one partition's record batch in one request: the topic's `max.message.bytes`. */
  readonly maxBatchBytes: number;
  readonly maxRequestBytes: number;
  readonly maxRecords: number;
}

export interface SplitProduce<T> {
  /** To be sent one after another, in this order: each partition's records keep their order. */
  readonly requests: T[][];
  /** Records larger on their own than a batch may be: no send can succeed, dead-letter them. */
  readonly oversized: T[];
}

/** The bounds for a topic's requests, from the size limit its topic is provisioned with. */
export function produceBoundsOf(topicKey: TopicKey, maxRecords: number): ProduceBounds {
  return {
    maxBatchBytes: maxMessageBytesOf(topicKey),
    maxRequestBytes: MAX_PRODUCE_REQUEST_BYTES,
    maxRecords,
  };
}

/**
 * An upper bound of what one record occupies in a v2 record batch: its key, value and headers,
 * plus the varints around them (length, attributes, timestamp and offset deltas, lengths and a
 * header count, at most 5 or 10 bytes each). Uncompressed, as Skyhook produces.
 */
export function recordBytesOf(message: Pick<Message, 'key' | 'value' | 'headers'>): number {
  let bytes = 36 + byteLengthOf(message.key) + byteLengthOf(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += 10 + Buffer.byteLength(name);
    const values = Array.isArray(value) ? value : [value];
    for (const single of values) bytes += byteLengthOf(single);
  }
  return bytes;
}

/**
 * Cuts `items` into consecutive produce requests such that in each one no partition's batch
 * exceeds `maxBatchBytes` (a broker answers MESSAGE_TOO_LARGE for the whole batch otherwise,
 * and no retry of the same request can succeed), the request stays under `maxRequestBytes`
 * and `maxRecords`. A record too large to go in any batch is set apart. Items for several
 * topics name their partition with the topic (`partitionOf`) and their topic's limit
 * (`maxBatchBytesOf`).
 */
export function splitForProduce<T>(
  items: readonly T[],
  bytesOf: (item: T) => number,
  partitionOf: (item: T) => number | string,
  bounds: ProduceBounds,
  maxBatchBytesOf: (item: T) => number = () => bounds.maxBatchBytes,
): SplitProduce<T> {
  const requests: T[][] = [];
  const oversized: T[] = [];
  let current: T[] = [];
  let currentBytes = 0;
  let batchBytes = new Map<number | string, number>();
  for (const item of items) {
    const bytes = bytesOf(item);
    const maxBatchBytes = maxBatchBytesOf(item);
    if (bytes + RECORD_BATCH_OVERHEAD_BYTES > maxBatchBytes) {
      oversized.push(item);
      continue;
    }
    const partition = partitionOf(item);
    const inBatch = batchBytes.get(partition) ?? RECORD_BATCH_OVERHEAD_BYTES;
    if (
      current.length > 0 &&
      (inBatch + bytes > maxBatchBytes ||
        currentBytes + bytes > bounds.maxRequestBytes ||
        current.length >= bounds.maxRecords)
    ) {
      requests.push(current);
      current = [];
      currentBytes = 0;
      batchBytes = new Map();
    }
    current.push(item);
    currentBytes += bytes;
    batchBytes.set(partition, (batchBytes.get(partition) ?? RECORD_BATCH_OVERHEAD_BYTES) + bytes);
  }
  if (current.length > 0) requests.push(current);
  return { requests, oversized };
}

/**
 * The partition a keyed record will go to under Skyhook's partitioner, given the topic's
 * partition count; keyless records are counted as one partition, the most a round robin could
 * put together.
 */
export function expectedPartitionOf(message: Pick<Message, 'key' | 'partition'>, partitions: number): number {
  if (message.partition !== undefined && message.partition !== null) return message.partition;
  if (message.key === null || message.key === undefined) return -1;
  return partitionOfKey(message.key, partitions);
}

/**
 * A broker's answer that the batch (MESSAGE_TOO_LARGE) or the request (RECORD_LIST_TOO_LARGE)
 * is over its size limit: sending the same records again can never succeed.
 */
export function isRecordTooLarge(error: unknown): boolean {
  return TOO_LARGE.has(recordRejectionOf(error));
}

/**
 * Sends `items` with `send`; when the broker answers that they are too large (the estimate of
 * the split was off, e.g. the topic was provisioned with a smaller limit than the contracts
 * say, or has more partitions), sends each half on its own, down to single records. Resolves
 * with the records that are too large alone. Halves that were written before a later half
 * failed may be written again by a retry of the caller: a duplicate, never a loss.
 */
export async function sendHalvingWhenTooLarge<T>(
  items: readonly T[],
  send: (items: readonly T[]) => Promise<void>,
): Promise<T[]> {
  if (items.length === 0) return [];
  try {
    await send(items);
    return [];
  } catch (error) {
    if (!isRecordTooLarge(error)) throw error;
    if (items.length === 1) return [...items];
    const middle = Math.ceil(items.length / 2);
    const first = await sendHalvingWhenTooLarge(items.slice(0, middle), send);
    const second = await sendHalvingWhenTooLarge(items.slice(middle), send);
    return [...first, ...second];
  }
}

const TOO_LARGE: ReadonlySet<string | undefined> = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

function byteLengthOf(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}
