import { PartitionProgress } from './partition-progress';

describe('PartitionProgress', () => {
  it('commits only the contiguous finished prefix', () => {
    const progress = new PartitionProgress();
    for (const offset of [10n, 11n, 12n, 13n]) progress.take(offset);
    progress.finish(11n);
    progress.finish(13n);
    expect(progress.nextCommit()).toBeUndefined();
    progress.finish(10n);
    expect(progress.nextCommit()).toBe('12');
    progress.markCommitted('12');
    expect(progress.nextCommit()).toBeUndefined();
    progress.finish(12n);
    expect(progress.nextCommit()).toBe('14');
    expect(progress.pending).toBe(0);
  });

  it('counts pending work and recognises offsets already taken', () => {
    const progress = new PartitionProgress();
    progress.take(5n);
    progress.take(6n);
    expect(progress.pending).toBe(2);
    expect(progress.hasTaken(6n)).toBe(true);
    expect(progress.hasTaken(7n)).toBe(false);
    progress.finish(6n);
    progress.finish(6n);
    expect(progress.pending).toBe(1);
  });

  it('keeps working across window compaction', () => {
    const progress = new PartitionProgress();
    for (let offset = 0n; offset < 5_000n; offset += 1n) progress.take(offset);
    for (let offset = 4_999n; offset >= 0n; offset -= 1n) {
      progress.finish(offset);
      if (offset === 1n) expect(progress.nextCommit()).toBeUndefined();
    }
    expect(progress.nextCommit()).toBe('5000');
    for (let offset = 5_000n; offset < 7_000n; offset += 1n) {
      progress.take(offset);
      progress.finish(offset);
    }
    expect(progress.nextCommit()).toBe('7000');
  });
});
