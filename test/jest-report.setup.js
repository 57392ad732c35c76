// globalSetup of the suites that run the build and can write a report (chaos, scale-out):
// checks the build is current (jest-build-check.js); with REPORT=FILE set, names the file the
// tests append their figures to (test/support/report.ts), which the test processes inherit.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import checkBuild from './jest-build-check.js';

export default function setup() {
  checkBuild();
  if (!process.env.REPORT) return;
  const results = join(tmpdir(), `report-results-${process.pid}.jsonl`);
  writeFileSync(results, '');
  process.env.REPORT_RESULTS = results;
  process.env.REPORT_STARTED = String(Date.now());
}
