import { type ICustomPartitioner, Partitioners } from 'kafkajs';

/** Keys whose hashes are remembered; past this the memo starts again, so memory stays bounded. */
const MEMO_LIMIT = 100_000;

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`) in 32-bit integer arithmetic. kafkajs's
 * own emulates it with 64-bit `Long` objects, several per byte group, which made partitioning
 * a visible share of fan-out's CPU. Same input, same signed 32-bit result.
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k =
      (data[i] ?? 0) | ((data[i + 1] ?? 0) << 8) | ((data[i + 2] ?? 0) << 16) | ((data[i + 3] ?? 0) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= (data[whole + 2] ?? 0) << 16;
  if (rest >= 2) h ^= (data[whole + 1] ?? 0) << 8;
  if (rest >= 1) h = Math.imul(h ^ (data[whole] ?? 0), m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a keyed record among `partitions`, as `keyHashPartitioner` chooses it. */
export function partitionOfKey(key: Buffer | string, partitions: number): number {
  return (murmur2(typeof key === 'string' ? Buffer.from(key) : key) & 0x7fffffff) % partitions;
}

/**
 * The partitioner every Skyhook producer uses: for a keyed record, the partition kafkajs's
 * `DefaultPartitioner` (Java-compatible murmur2) would choose, so records of one key land
 * where any other Kafka client would put them, computed in 32-bit arithmetic with each key's
 * hash remembered (fan-out sends the same subscription ids again and again). Records with an
 * explicit partition keep it; keyless records go to kafkajs's own round robin.
 */
export const keyHashPartitioner: ICustomPartitioner = () => {
  const keyless = Partitioners.DefaultPartitioner();
  const hashes = new Map<string, number>();
  const positiveHashOf = (key: string): number => {
    let hash = hashes.get(key);
    if (hash === undefined) {
      if (hashes.size >= MEMO_LIMIT) hashes.clear();
      hash = murmur2(Buffer.from(key)) & 0x7fffffff;
      hashes.set(key, hash);
    }
    return hash;
  };
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const { key } = message;
    if (key === null || key === undefined) return keyless(args);
    const hash = typeof key === 'string' ? positiveHashOf(key) : murmur2(key) & 0x7fffffff;
    return hash % partitionMetadata.length;
  };
};
