import { setPriority } from 'node:os';
import { countRandoms } from './count.js';

export interface CountTask {
  n: number;
}

/**
 * Compute threads run a little below normal priority. On Linux the nice value
 * set from a thread applies to that thread only, so the event loop that
 * answers /api/info and /health is served first when every core is busy
 * drawing numbers; with idle cores nothing changes.
 */
const COMPUTE_NICE = 5;
try {
  setPriority(COMPUTE_NICE);
} catch {
  // Not allowed here (some sandboxes): run at normal priority.
}

/** Runs inside a piscina worker thread. */
export default function count({ n }: CountTask): Uint32Array {
  return countRandoms(n);
}
