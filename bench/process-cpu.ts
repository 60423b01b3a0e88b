import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: utime and stime in /proc/<pid>/stat are in 1/100 s on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user + system) a process has used so far, in ms; NaN once it has gone. */
export function processCpuMs(pid: number): number {
  if (pid === process.pid) {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1_000;
  }
  return (processTicks(pid) * 1_000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU time (user + system) used so far by every process whose command name is `command`
 * (e.g. all of PostgreSQL's backends and helpers), in ms: compare two readings.
 */
export function processesCpuMs(command: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== command) continue;
      const ticks = processTicks(Number(entry));
      if (!Number.isNaN(ticks)) total += ticks;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return (total * 1_000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Node options that make a service write a V8 CPU profile into `BENCH_CPU_PROFILE_DIR` when it
 * stops; none when that is unset.
 */
export function profilingNodeOptions(): string[] {
  const directory = process.env['BENCH_CPU_PROFILE_DIR'];
  return directory ? ['--cpu-prof', `--cpu-prof-dir=${directory}`] : [];
}

/**
 * Node options for the services under test: the profiling ones, plus any in
 * `BENCH_SERVICE_NODE_OPTIONS` (space-separated), to compare runtime settings in one run.
 */
export function benchServiceNodeOptions(): string[] {
  const extra = (process.env['BENCH_SERVICE_NODE_OPTIONS'] ?? '')
    .split(' ')
    .filter((option) => option !== '');
  return [...profilingNodeOptions(), ...extra];
}
