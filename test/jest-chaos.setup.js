// Checks the build is current (jest-build-check.js); with CHAOS_REPORT set, names the file the
// chaos tests append their figures to (test/support/chaos-report.ts), which they inherit.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import checkBuild from './jest-build-check.js';

export default function setup() {
  checkBuild();
  if (!process.env.CHAOS_REPORT) return;
  const results = join(tmpdir(), `chaos-results-${process.pid}.jsonl`);
  writeFileSync(results, '');
  process.env.CHAOS_RESULTS = results;
  process.env.CHAOS_STARTED = String(Date.now());
}
