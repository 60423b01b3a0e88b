import { batchFetchesOf, fetchAdapting, nextFetchSettings } from './adaptive-fetch';

const batching = { minBytes: 65_536, maxWaitMs: 10 };
const batch = (records: number) => ({ isEmpty: () => records === 0 });

describe('the adaptive fetch', () => {
  it('batches while records flow, and asks for any record with the idle wait once they stop', () => {
    expect(nextFetchSettings(batching, 200, true)).toEqual({ minBytes: 65_536, maxWaitMs: 10 });
    expect(nextFetchSettings(batching, 200, false)).toEqual({ minBytes: 1, maxWaitMs: 200 });
  });

  it("sets a batching group's fetch settings before each fetch from what the fetch before brought", async () => {
    batchFetchesOf('adaptive-fetch-spec', batching, 500);
    const group = { groupId: 'adaptive-fetch-spec', minBytes: 1, maxWaitTime: 500 };
    const seen: string[] = [];
    const fetchBringing = (records: number) => () => {
      seen.push(`${group.minBytes}/${group.maxWaitTime}`);
      return Promise.resolve([batch(0), batch(records)]);
    };
    await fetchAdapting(group, fetchBringing(3)); // quiet so far: the first record goes at once
    await fetchAdapting(group, fetchBringing(0)); // records flowed: batch
    await fetchAdapting(group, fetchBringing(1)); // nothing came: idle again
    await fetchAdapting(group, fetchBringing(0));
    expect(seen).toEqual(['1/500', '65536/10', '1/500', '65536/10']);
  });

  it("leaves a group that does not batch to kafkajs' own settings", async () => {
    const group = { groupId: 'adaptive-fetch-spec-unbatched', minBytes: 1, maxWaitTime: 200 };
    await fetchAdapting(group, () => Promise.resolve([batch(5)]));
    await fetchAdapting(group, () => Promise.resolve([batch(5)]));
    expect(group).toEqual({ groupId: 'adaptive-fetch-spec-unbatched', minBytes: 1, maxWaitTime: 200 });
  });
});
