import { randomBytes } from 'node:crypto';
import { type PartitionerArgs, type PartitionMetadata, Partitioners } from 'kafkajs';
import { keyHashPartitioner, murmur2 } from './key-hash-partitioner';

function partitions(count: number): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));
}

function args(key: string | Buffer | null, count: number, partition?: number): PartitionerArgs {
  return {
    topic: 'skyhook.delivery-requests',
    partitionMetadata: partitions(count),
    message: { key, value: 'x', ...(partition === undefined ? {} : { partition }) },
  };
}

describe('murmur2', () => {
  it("gives the Java client's values for its own test vectors", () => {
    // From Apache Kafka's UtilsTest.testMurmur2.
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, expected] of vectors) expect(murmur2(Buffer.from(key))).toBe(expected);
  });
});

describe('keyHashPartitioner', () => {
  it("chooses the partition kafkajs's DefaultPartitioner chooses for every key", () => {
    const ours = keyHashPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys = [
      '',
      'sub_1',
      'sub_01JD3X9Q6Z8Y7W5V4T3S2R1P0N',
      'ünïcødé ✈ key',
      ...Array.from({ length: 2_000 }, (_, i) => randomBytes(1 + (i % 40)).toString('base64url')),
    ];
    for (const count of [1, 3, 12, 24, 100]) {
      for (const key of keys) {
        // Twice: the second answer comes from the memo.
        expect(ours(args(key, count))).toBe(theirs(args(key, count)));
        expect(ours(args(key, count))).toBe(theirs(args(key, count)));
      }
    }
  });

  it('hashes Buffer keys like their string form and keeps an explicit partition', () => {
    const ours = keyHashPartitioner();
    expect(ours(args(Buffer.from('sub_42'), 24))).toBe(ours(args('sub_42', 24)));
    expect(ours(args('sub_42', 24, 7))).toBe(7);
  });

  it('spreads keyless records over the partitions (round robin)', () => {
    const ours = keyHashPartitioner();
    const chosen = new Set(Array.from({ length: 12 }, () => ours(args(null, 12))));
    expect(chosen.size).toBe(12);
  });
});
