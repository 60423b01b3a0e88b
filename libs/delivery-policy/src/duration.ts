/** Policy durations are milliseconds; these keep schedules readable (`minutes(30)`, not `1800000`). */
export const seconds = (count: number): number => count * 1_000;
export const minutes = (count: number): number => count * 60_000;
export const hours = (count: number): number => count * 3_600_000;
export const days = (count: number): number => count * 86_400_000;
