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

/** CPU time (ms) of every process with one command name, by pid: compare two with `cpuUsedBetween`. */
export type ProcessesCpuSnapshot = ReadonlyMap<number, number>;

export function processesCpuSnapshot(command: string): ProcessesCpuSnapshot {
  const snapshot = new Map<number, number>();
  for (const entry of listProcesses()) {
    if (entry.comm !== command) continue;
    const ticks = processTicks(entry.pid);
    if (!Number.isNaN(ticks)) snapshot.set(entry.pid, (ticks * 1_000) / CLOCK_TICKS_PER_SECOND);
  }
  return snapshot;
}

/**
 * CPU (ms) the processes used between two snapshots, pid by pid: a process that started meanwhile
 * counts whole, one that ended meanwhile drops out instead of making the sum go down (a summed
 * reading falls whenever a PostgreSQL backend exits).
 */
export function cpuUsedBetween(before: ProcessesCpuSnapshot, after: ProcessesCpuSnapshot): number {
  let used = 0;
  for (const [pid, cpuMs] of after) used += Math.max(0, cpuMs - (before.get(pid) ?? 0));
  return used;
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

export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
}

export function listProcesses(): ProcessEntry[] {
  const found: ProcessEntry[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      found.push({ pid: Number(entry), ppid, comm });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The Kafka broker when this process started it (a `java` descendant); undefined for containers or KAFKA_BROKERS. */
export function kafkaBrokerPid(): number | undefined {
  const processes = listProcesses();
  const ours = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const entry of processes) {
      if (ours.has(entry.ppid) && !ours.has(entry.pid)) {
        ours.add(entry.pid);
        grew = true;
      }
    }
  }
  return processes.find((entry) => ours.has(entry.pid) && entry.comm === 'java')?.pid;
}

/** The machine's CPU time so far, from the first line of /proc/stat: compare two readings. */
export interface MachineCpu {
  readonly busyTicks: number;
  readonly totalTicks: number;
}

export function machineCpu(): MachineCpu {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/) ?? [];
  const ticks = fields.map(Number);
  const totalTicks = ticks.reduce((sum, value) => sum + value, 0);
  // idle and iowait: the CPU had nothing to run.
  const idleTicks = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busyTicks: totalTicks - idleTicks, totalTicks };
}

/** The share of the machine's CPU (every core) that went unused between two readings, in %. */
export function machineIdlePercent(before: MachineCpu, after: MachineCpu): number {
  const total = after.totalTicks - before.totalTicks;
  if (total <= 0) return Number.NaN;
  return Math.round((100 * (total - (after.busyTicks - before.busyTicks))) / total);
}
