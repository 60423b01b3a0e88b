import { retryBackoffMs } from './retry-backoff';

describe('retryBackoffMs', () => {
  it('doubles from 100 ms and never waits more than a second, however long the failures go on', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map(retryBackoffMs)).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });
});
