import { countRandoms } from './count.js';

export interface CountTask {
  n: number;
}

/** Runs inside a piscina worker thread. */
export default function count({ n }: CountTask): Uint32Array {
  return countRandoms(n);
}
