/**
 * The records of one partition taken but not yet committed, in offset order. Records finish
 * in any order; the commit point only moves over a contiguous run of finished ones, so a
 * crash re-delivers everything unfinished (and maybe some finished work), never skips any.
 */
export class PartitionProgress {
  /** Offsets taken, oldest first, with whether each is done; the head is the oldest unfinished. */
  private readonly window: { offset: bigint; done: boolean; takenAt: number }[] = [];
  private head = 0;
  private readonly byOffset = new Map<bigint, { offset: bigint; done: boolean; takenAt: number }>();
  private highestTaken: bigint | undefined;
  private committable: bigint | undefined;
  private lastCommitted: bigint | undefined;

  /** Taken but not done. */
  get pending(): number {
    return this.byOffset.size;
  }

  /** Whether `offset` was already taken since this partition was assigned (a re-fetch after a rebalance). */
  hasTaken(offset: bigint): boolean {
    return this.highestTaken !== undefined && offset <= this.highestTaken;
  }

  /** When the oldest unfinished record was taken (ms since the epoch); undefined when none is. */
  get oldestPendingTakenAt(): number | undefined {
    return this.head < this.window.length ? this.window[this.head]?.takenAt : undefined;
  }

  take(offset: bigint, takenAt = Date.now()): void {
    const entry = { offset, done: false, takenAt };
    this.window.push(entry);
    this.byOffset.set(offset, entry);
    this.highestTaken = offset;
  }

  finish(offset: bigint): void {
    const entry = this.byOffset.get(offset);
    if (entry === undefined) return;
    entry.done = true;
    this.byOffset.delete(offset);
    while (this.head < this.window.length && this.window[this.head]?.done === true) {
      this.committable = this.window[this.head]?.offset;
      this.head += 1;
    }
    // Compact now and then instead of shifting on every finish.
    if (this.head > 1_024 && this.head * 2 > this.window.length) {
      this.window.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The offset to commit (last done + 1, Kafka's convention), if it moved since the last commit. */
  nextCommit(): string | undefined {
    if (this.committable === undefined || this.committable === this.lastCommitted) return undefined;
    return (this.committable + 1n).toString();
  }

  /** The offset after the finished prefix, committed or not: undefined until a record finishes. */
  finishedPosition(): string | undefined {
    return this.committable === undefined ? undefined : (this.committable + 1n).toString();
  }

  markCommitted(offset: string): void {
    this.lastCommitted = BigInt(offset) - 1n;
  }
}
