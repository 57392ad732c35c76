import { appendFileSync } from 'node:fs';

export interface ReportEntry {
  /** The item of the issue the test covers, for ordering. */
  item: number;
  name: string;
  sent: number;
  failed: number;
  /** The 99th percentile latency of the requests, where the scenario promises one. */
  p99Ms?: number;
  notes: string;
}

/**
 * Keeps one test's figures for its suite's report (RESILIENCE.md, SCALE-OUT.md).
 * A no-op unless the run was started with REPORT=FILE (`npm run chaos`, `npm run
 * scale-out`): the suite's globalSetup then names a results file, and its
 * globalTeardown renders the table from it. Call it before the assertions, so a
 * failing test still shows its figures.
 */
export function recordFigures(entry: ReportEntry): void {
  const file = process.env.REPORT_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify(entry)}\n`);
}
