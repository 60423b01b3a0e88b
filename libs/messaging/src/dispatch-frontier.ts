/*
 * A consumer whose work has effects outside Kafka (the dispatcher's webhooks) cannot tell, after
 * a crash, whether a re-delivered record's work was done already: its offset was not committed,
 * but its effect may have happened. The dispatch frontier says where that can be the case. It
 * is the highest offset of a partition whose effect may have started, kept in the metadata of
 * the group's committed offset (ADR 0018): recorded before any record beyond it is dispatched,
 * carried by every commit after that. A new owner reads it with the committed offset; a record
 * at or below it may have been handled by an earlier owner, one above it was not.
 */

/** Format of the metadata, so a later one can be told apart (and read as no frontier here). */
const FRONTIER_FORMAT = 1;
const OFFSET_TEXT = /^\d{1,19}$/;

/** The committed offset's metadata recording `frontier`, e.g. `{"v":1,"frontier":"1234"}`. */
export function encodeDispatchFrontier(frontier: bigint): string {
  return `{"v":${FRONTIER_FORMAT},"frontier":"${frontier}"}`;
}

/**
 * The frontier a committed offset's metadata records; undefined when it records none (empty, as
 * committed by a consumer without a frontier, or in a format this version does not know).
 */
export function decodeDispatchFrontier(metadata: string | null | undefined): bigint | undefined {
  if (metadata === null || metadata === undefined || metadata === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { v, frontier } = parsed as { v?: unknown; frontier?: unknown };
  if (v !== FRONTIER_FORMAT || typeof frontier !== 'string' || !OFFSET_TEXT.test(frontier)) return undefined;
  return BigInt(frontier);
}

/**
 * How far ahead of the dispatches waiting for it a frontier commit records: as many records again
 * as the partition took over this long. So at a steady rate a dispatch rarely waits for a commit
 * (the next one is made in the background once half the lead is used), one commit covers a few
 * seconds of records instead of each round of dispatches, and a group coordinator moving (a broker
 * leaving: about a second of NOT_COORDINATOR and "loading") holds no dispatch back while the lead
 * lasts. The price: after a crash, the records within the lead are marked as possibly sent before,
 * though they were not (ADR 0018's mark may say "maybe" more often, never less).
 */
export const FRONTIER_LEAD_MS = 5_000;
/** The taken offsets are sampled this often for the lead's rate. */
const TAKEN_SAMPLE_MS = 250;

/**
 * One assigned partition's frontier as its consumer knows it: what it inherited from the owners
 * before it (whose work on records up to there is unknown) and what the group coordinator has
 * acknowledged for it since. A record may be dispatched only at or below the acknowledged frontier.
 */
export class PartitionFrontier {
  private inherited: bigint | undefined;
  private recorded: bigint | undefined;
  /** The committed offset as the partition was assigned; undefined when the group had none. */
  private assignedPosition: bigint | undefined;
  private highestTaken: bigint | undefined;
  /** The highest offset taken, sampled over the last lead window: the partition's recent rate. */
  private takenSamples: { readonly at: number; readonly highest: bigint }[] = [];
  /** A dispatch at or beyond this offset starts the next frontier commit ahead of need. */
  private renewFrom: bigint | undefined;

  constructor(
    committed: { readonly offset: bigint | undefined; readonly frontier: bigint | undefined },
    /** 0: record exactly what the dispatches ask for, no lead. */
    private readonly leadMs = FRONTIER_LEAD_MS,
  ) {
    this.inherited = committed.frontier;
    this.recorded = committed.frontier;
    this.assignedPosition = committed.offset;
  }

  /** An earlier owner may have handled the record at `offset` without its offset being committed. */
  possiblyHandledBefore(offset: bigint): boolean {
    return this.inherited !== undefined && offset <= this.inherited;
  }

  /** The record at `offset` may be dispatched: the recorded frontier covers it. */
  covers(offset: bigint): boolean {
    return this.recorded !== undefined && offset <= this.recorded;
  }

  /**
   * The coordinator acknowledged a commit recording `frontier`, asked for by dispatches up to
   * `wantedUpTo` (default: the frontier itself, no lead).
   */
  markRecorded(frontier: bigint, wantedUpTo: bigint = frontier): void {
    if (this.recorded === undefined || frontier > this.recorded) {
      this.recorded = frontier;
      this.renewFrom = frontier > wantedUpTo ? wantedUpTo + (frontier - wantedUpTo + 1n) / 2n : undefined;
    }
  }

  /** The record at `offset` is covered, but past the middle of the lead: record the next frontier now. */
  wantsRenewal(offset: bigint): boolean {
    return this.renewFrom !== undefined && offset >= this.renewFrom;
  }

  /**
   * The frontier to record for dispatches up to `upTo`: every record taken so far, and as many
   * again as were taken over the last lead (`FRONTIER_LEAD_MS` by default); `upTo` with no lead.
   */
  frontierAhead(upTo: bigint, now = Date.now()): bigint {
    if (this.leadMs === 0) return upTo;
    const highest = this.highestTaken !== undefined && this.highestTaken > upTo ? this.highestTaken : upTo;
    const since = this.takenSamples.find((sample) => sample.at >= now - this.leadMs) ?? this.takenSamples[0];
    const recent =
      since === undefined || this.highestTaken === undefined ? 0n : this.highestTaken - since.highest;
    return highest + (recent > 0n ? recent : 0n);
  }

  /** What every regular commit carries, so that none of them erases the frontier. */
  metadata(): string | null {
    return this.recorded === undefined ? null : encodeDispatchFrontier(this.recorded);
  }

  /**
   * The offset a commit that only raises the frontier carries, when this consumer has finished
   * no record yet: the group's committed offset as the partition was assigned, or, when the
   * group had none, the first record this consumer took.
   */
  get position(): bigint | undefined {
    return this.assignedPosition;
  }

  /** A record was taken. */
  noteTaken(offset: bigint, now = Date.now()): void {
    this.assignedPosition ??= offset;
    if (this.leadMs === 0 || (this.highestTaken !== undefined && offset <= this.highestTaken)) return;
    this.highestTaken = offset;
    const last = this.takenSamples[this.takenSamples.length - 1];
    if (last === undefined || now - last.at >= TAKEN_SAMPLE_MS) {
      this.takenSamples.push({ at: now, highest: offset });
      while ((this.takenSamples[0]?.at ?? now) < now - this.leadMs - TAKEN_SAMPLE_MS)
        this.takenSamples.shift();
    }
  }

  /**
   * The partition is assigned again in a later rebalance while this consumer kept it: a frontier
   * above the one it recorded means another owner worked on the partition in between (this
   * member was out of the group for a while), and the records up to that one are inherited too.
   */
  reassigned(committedFrontier: bigint | undefined): void {
    if (
      committedFrontier === undefined ||
      (this.recorded !== undefined && committedFrontier <= this.recorded)
    ) {
      return;
    }
    this.inherited = committedFrontier;
    this.recorded = committedFrontier;
  }
}
