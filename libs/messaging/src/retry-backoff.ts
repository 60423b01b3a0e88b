/**
 * How long to wait before trying again after `failures` failures in a row: 100 ms, doubling, at
 * most a second. A dependency that comes back (a broker, a database) is used within a second of
 * its return, whatever the outage's length, and a failing one is tried about once a second.
 */
export function retryBackoffMs(failures: number): number {
  return Math.min(100 * 2 ** failures, 1_000);
}
