import cluster from 'node:cluster';
import type { AppOptions } from '../config/app-options.js';
import { runPrimary } from './primary.js';

/**
 * Decides how this process runs. A CLUSTER primary only supervises workers;
 * everything else (FORK, a worker of ours, a worker of PM2's `-i`) serves HTTP,
 * so a process that is already a cluster worker never forks a cluster of its own.
 */
export async function runProcess(
  options: AppOptions,
  entry: string,
  startServer: () => Promise<void>,
): Promise<void> {
  if (options.mode === 'CLUSTER' && cluster.isPrimary) {
    runPrimary({
      count: options.workers,
      graceMs: options.graceMs,
      exec: entry,
      args: [...options.args],
    });
    return;
  }
  await startServer();
}
