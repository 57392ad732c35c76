// With CHAOS_REPORT set, names the file the chaos tests append their figures to
// (test/support/chaos-report.ts); the test processes inherit the variable.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup() {
  if (!process.env.CHAOS_REPORT) return;
  const results = join(tmpdir(), `chaos-results-${process.pid}.jsonl`);
  writeFileSync(results, '');
  process.env.CHAOS_RESULTS = results;
  process.env.CHAOS_STARTED = String(Date.now());
}
