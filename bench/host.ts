// What the benchmarks read about processes and the machine from /proc (Linux):
// CPU time, resident memory, and how busy the whole host was meanwhile.
import { readFileSync } from 'node:fs';

/** USER_HZ, the unit of /proc's CPU times, is 100 on Linux. */
const TICKS_PER_SECOND = 100;

export interface MachineCpu {
  busyMs: number;
  stealMs: number;
  totalMs: number;
}

/** All CPUs' busy, stolen and total time from /proc/stat, or its change since `before`; undefined off Linux. */
export function machineCpuMs(before?: MachineCpu): MachineCpu | undefined {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const ms = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND;
    const now = {
      busyMs: ms(user + nice + system + irq + softirq),
      stealMs: ms(steal),
      totalMs: ms(user + nice + system + idle + iowait + irq + softirq + steal),
    };
    return before
      ? {
          busyMs: now.busyMs - before.busyMs,
          stealMs: now.stealMs - before.stealMs,
          totalMs: now.totalMs - before.totalMs,
        }
      : now;
  } catch {
    return undefined;
  }
}

/** User + system CPU time of a process; NaN when it cannot be read (gone, or not Linux). */
export function processCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND; // utime, stime
  } catch {
    return Number.NaN;
  }
}

/** A process's resident memory in MiB (VmRSS); NaN when it cannot be read. */
export function residentMb(pid: number | undefined): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? Number.NaN : Number(kb) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** The parent of a process; undefined when it cannot be read. */
export function parentPid(pid: number): number | undefined {
  try {
    const ppid = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return ppid === undefined ? undefined : Number(ppid);
  } catch {
    return undefined;
  }
}

/** The 1-minute load average. */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}
