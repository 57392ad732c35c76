import { appendFileSync } from 'node:fs';

export interface ChaosEntry {
  /** The item of the resilience issue the test covers (1-9), for ordering. */
  item: number;
  name: string;
  sent: number;
  failed: number;
  notes: string;
}

/**
 * Keeps one test's figures for RESILIENCE.md. A no-op unless the run was
 * started with CHAOS_REPORT (`npm run chaos`): the suite's globalSetup then
 * names a results file, and its globalTeardown renders the table from it.
 * Call it before the assertions, so a failing test still shows its figures.
 */
export function recordChaos(entry: ChaosEntry): void {
  const file = process.env.CHAOS_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify(entry)}\n`);
}
