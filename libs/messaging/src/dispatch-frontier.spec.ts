import { decodeDispatchFrontier, encodeDispatchFrontier, PartitionFrontier } from './dispatch-frontier';

describe('dispatch frontier metadata', () => {
  it('reads back the frontier it wrote, up to the largest offset Kafka has', () => {
    for (const frontier of [0n, 41n, 9_223_372_036_854_775_807n]) {
      expect(decodeDispatchFrontier(encodeDispatchFrontier(frontier))).toBe(frontier);
    }
    expect(encodeDispatchFrontier(1234n)).toBe('{"v":1,"frontier":"1234"}');
  });

  it('reads no frontier from metadata a consumer without one commits, or in a format it does not know', () => {
    for (const metadata of [
      null,
      undefined,
      '',
      'not json',
      '"1234"',
      '{"frontier":"12"}',
      '{"v":2,"frontier":"12"}',
      '{"v":1,"frontier":12}',
      '{"v":1,"frontier":"-1"}',
      '{"v":1,"frontier":"99999999999999999999"}',
    ]) {
      expect(decodeDispatchFrontier(metadata)).toBeUndefined();
    }
  });
});

describe('PartitionFrontier', () => {
  it('marks the records at or below the frontier it inherited, and none above', () => {
    const frontier = new PartitionFrontier({ offset: 10n, frontier: 14n });
    expect([10n, 14n].map((offset) => frontier.possiblyHandledBefore(offset))).toEqual([true, true]);
    expect(frontier.possiblyHandledBefore(15n)).toBe(false);
  });

  it('marks nothing where the group recorded no frontier, and needs one recorded before any record is taken', () => {
    const frontier = new PartitionFrontier({ offset: 10n, frontier: undefined });
    expect(frontier.possiblyHandledBefore(10n)).toBe(false);
    expect(frontier.covers(10n)).toBe(false);
    expect(frontier.metadata()).toBeNull();
    frontier.markRecorded(19n);
    expect(frontier.covers(19n)).toBe(true);
    expect(frontier.covers(20n)).toBe(false);
    // What it records itself is not inherited: its own records are not marked.
    expect(frontier.possiblyHandledBefore(10n)).toBe(false);
    expect(frontier.metadata()).toBe(encodeDispatchFrontier(19n));
  });

  it('covers the inherited records without recording them again, and never lowers a recorded frontier', () => {
    const frontier = new PartitionFrontier({ offset: 10n, frontier: 14n });
    expect(frontier.covers(14n)).toBe(true);
    frontier.markRecorded(20n);
    frontier.markRecorded(16n);
    expect(frontier.metadata()).toBe(encodeDispatchFrontier(20n));
  });

  it('commits a frontier alone at the committed offset, or at the first record taken when the group had none', () => {
    const committed = new PartitionFrontier({ offset: 10n, frontier: undefined });
    committed.noteTaken(12n);
    expect(committed.position).toBe(10n);
    const fresh = new PartitionFrontier({ offset: undefined, frontier: undefined });
    expect(fresh.position).toBeUndefined();
    fresh.noteTaken(12n);
    fresh.noteTaken(30n);
    expect(fresh.position).toBe(12n);
  });

  it('inherits a higher frontier found at a later assignment (another owner worked on the partition meanwhile)', () => {
    const frontier = new PartitionFrontier({ offset: 0n, frontier: undefined });
    frontier.markRecorded(9n);
    frontier.reassigned(9n);
    expect(frontier.possiblyHandledBefore(5n)).toBe(false);
    frontier.reassigned(undefined);
    expect(frontier.possiblyHandledBefore(5n)).toBe(false);
    frontier.reassigned(15n);
    expect(frontier.possiblyHandledBefore(15n)).toBe(true);
    expect(frontier.covers(15n)).toBe(true);
  });
});

describe('PartitionFrontier: recording ahead of the dispatches', () => {
  it('records the records taken and as many again as were taken over the lead window', () => {
    const frontier = new PartitionFrontier({ offset: 0n, frontier: undefined }, 2_000);
    const start = 1_000_000;
    // 10 records a second for 3 s: 20 over the last 2 s.
    for (let offset = 0; offset < 30; offset += 1) frontier.noteTaken(BigInt(offset), start + offset * 100);
    const now = start + 2_900;
    expect(frontier.frontierAhead(25n, now)).toBe(29n + 20n);
    // Nothing taken recently: no lead beyond what was taken.
    const idle = new PartitionFrontier({ offset: 0n, frontier: undefined }, 2_000);
    idle.noteTaken(5n, start);
    expect(idle.frontierAhead(5n, start + 10_000)).toBe(5n);
    // No lead: exactly what the dispatches ask for.
    const exact = new PartitionFrontier({ offset: 0n, frontier: undefined }, 0);
    exact.noteTaken(9n, start);
    expect(exact.frontierAhead(5n, start)).toBe(5n);
  });

  it('asks for the next frontier once a dispatch is past the middle of the lead', () => {
    const frontier = new PartitionFrontier({ offset: 0n, frontier: undefined });
    frontier.markRecorded(40n, 20n);
    expect(frontier.covers(40n)).toBe(true);
    expect(frontier.wantsRenewal(29n)).toBe(false);
    expect(frontier.wantsRenewal(30n)).toBe(true);
    // Recorded without a lead: never ahead of need.
    const exact = new PartitionFrontier({ offset: 0n, frontier: undefined });
    exact.markRecorded(40n);
    expect(exact.wantsRenewal(40n)).toBe(false);
  });
});
