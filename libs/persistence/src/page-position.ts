/**
 * Where a newest-first (or oldest-first) page ended: the sort instant of its last row and the
 * row's id. `at` keeps PostgreSQL's full microsecond precision (`2026-05-31T18:09:12.123456Z`):
 * a JavaScript Date would round it to milliseconds, and the next page would then repeat or skip
 * rows whose instants differ below the millisecond.
 */
export interface PagePosition {
  readonly at: string;
  readonly id: string;
}

const MICROSECOND_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** A UTC instant with six fractional digits that names a real calendar time. */
export function isMicrosecondInstant(value: string): boolean {
  if (!MICROSECOND_INSTANT.test(value)) return false;
  const milliseconds = `${value.slice(0, 23)}Z`;
  const parsed = new Date(milliseconds);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString() === milliseconds;
}

/**
 * The SQL expression that renders a timestamptz column as a {@link PagePosition} instant,
 * independent of the session's time zone and date style.
 */
export function microsecondInstantSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}
