/** How often the finishing pace is re-estimated. */
const SAMPLE_MS = 500;

/**
 * How much unfinished work a consumer holds over all its partitions: what it finishes in
 * `horizonMs` at its recent pace, never less than `floor`. Records beyond it stay in Kafka
 * instead of waiting in memory, where, once the process itself is the bottleneck, they would only
 * age (past the dispatcher's queue-wait bound they are parked, which costs more work still) and
 * cost memory and garbage collection (bench/RESULTS.md, "Past saturation").
 *
 * The pace follows what finishes, so the budget grows with a burst the process keeps up with and
 * shrinks to the floor when it is quiet. Over the budget a partition may still take records up
 * to its even share, so one partition's slow work (a stalled endpoint's records) pauses that
 * partition, not the others.
 */
export class PendingBudget {
  private finished = 0;
  private sampledAt: number;
  private pacePerSecond = 0;

  constructor(
    private readonly horizonMs: number,
    private readonly floor: number,
    now = Date.now(),
  ) {
    this.sampledAt = now;
  }

  noteFinished(): void {
    this.finished += 1;
  }

  /** Records that may be unfinished at once, over all partitions. */
  limit(now = Date.now()): number {
    const elapsed = now - this.sampledAt;
    if (elapsed >= SAMPLE_MS) {
      const pace = (this.finished * 1_000) / elapsed;
      // Smoothed over about a second; a quiet spell of several seconds brings it to the floor.
      this.pacePerSecond = elapsed > 4 * SAMPLE_MS ? pace : (this.pacePerSecond + pace) / 2;
      this.finished = 0;
      this.sampledAt = now;
    }
    return Math.max(this.floor, Math.ceil((this.pacePerSecond * this.horizonMs) / 1_000));
  }

  /**
   * Whether a partition holding `partitionPending` unfinished records may take another while
   * `totalPending` are unfinished over `partitions` partitions.
   */
  admits(partitionPending: number, totalPending: number, partitions: number, now = Date.now()): boolean {
    const limit = this.limit(now);
    return totalPending < limit || partitionPending < evenShare(limit, partitions);
  }

  /**
   * Whether a partition paused by the budget may take records again: with room to spare, so
   * that it does not pause again at the next record.
   */
  readmits(partitionPending: number, totalPending: number, partitions: number, now = Date.now()): boolean {
    const limit = this.limit(now);
    return totalPending <= 0.75 * limit || partitionPending <= evenShare(limit, partitions) / 2;
  }
}

function evenShare(limit: number, partitions: number): number {
  return Math.max(1, Math.floor(limit / Math.max(1, partitions)));
}
