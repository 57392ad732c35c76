import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { childPids, processTable, statFields } from './processes.js';

const CLOCK_TICKS = Number(
  execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(),
);
const PAGE_SIZE = Number(
  execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim(),
);

/** `pid` and every live process below it, from one read of the process table. */
export function processTree(pid: number, table = processTable()): number[] {
  return [
    pid,
    ...childPids(pid, table).flatMap((child) => processTree(child, table)),
  ];
}

/** User plus system CPU time of `pids`, in seconds: each figure covers all of a process's threads. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    // utime and stime are fields 14 and 15 of proc(5); fields[0] is field 3.
    if (fields) ticks += Number(fields[14 - 3]) + Number(fields[15 - 3]);
  }
  return ticks / CLOCK_TICKS;
}

/** Resident memory of `pids`, in bytes. */
export function rssBytes(pids: number[]): number {
  let pages = 0;
  for (const pid of pids) {
    try {
      pages += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    } catch {
      // exited meanwhile
    }
  }
  return pages * PAGE_SIZE;
}

/** Samples `sample()` every `intervalMs` until stopped; returns the largest value seen. */
export function watchMax(
  sample: () => number,
  intervalMs = 100,
): { stop(): number } {
  let max = sample();
  const timer = setInterval(() => (max = Math.max(max, sample())), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, sample());
    },
  };
}
