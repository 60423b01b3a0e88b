import { loadavg } from 'node:os';

/** The nearest-rank percentile `p` (0–100) of ascending `sorted`; NaN when it is empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

/** `value` with `digits` decimals, or a dash for a figure that could not be measured. */
export const fixed = (value: number, digits: number): string =>
  Number.isNaN(value) ? '–' : value.toFixed(digits);

/** `value` rounded, with thousands separators, or a dash. */
export const whole = (value: number): string =>
  Number.isNaN(value) ? '–' : Math.round(value).toLocaleString('en');

/** The machine's load averages (1, 5, 15 min), for a report to say how busy the machine was. */
export const loadAverage = (): string =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
