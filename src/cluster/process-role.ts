import cluster from 'node:cluster';
import type { Mode } from '../config/app-options.js';

/** FORK unless this process is a cluster worker, ours or PM2's. */
export function effectiveMode(): Mode {
  return cluster.isWorker ? 'CLUSTER' : 'FORK';
}

export function describeRole(): string {
  return cluster.isWorker ? `cluster worker ${cluster.worker?.id}` : 'single';
}
