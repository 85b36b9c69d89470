import { readFileSync } from 'node:fs';

/** Linux's USER_HZ and page size on the platforms we run on (x86_64, arm64). */
const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

/**
 * CPU seconds (user + system) and resident bytes of a process, read from /proc/<pid>/stat: a
 * child's usage without asking it anything (metrics of the mediasoup workers, benchmarks).
 * Throws when the process is gone.
 */
export function processCpuAndMemory(pid: number): { cpuSeconds: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself contain spaces and parentheses.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { cpuSeconds: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS_PER_SECOND, rssBytes: Number(f[21]) * PAGE_BYTES };
}

/** CPU seconds (user + system) a process has used so far; throws when it is gone. */
export function processCpuSeconds(pid: number): number {
  return processCpuAndMemory(pid).cpuSeconds;
}
