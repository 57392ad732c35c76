// Chaos specs (test/chaos/*.chaos-spec.ts): the built server (dist/), the real nginx and PM2,
// under load from autocannon, with processes killed, restarted and flooded on purpose.
// One file at a time: they measure processes and timing on a 2-core machine, and the
// scenarios listen on the fixed ports of the shipped nginx files (8080-8086).
// With CHAOS_REPORT=FILE (`npm run chaos`) the figures of every test go to FILE as a table.
import { esmPreset } from '../jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...esmPreset,
  rootDir: '.',
  testRegex: '\\.chaos-spec\\.ts$',
  maxWorkers: 1,
  testTimeout: 60_000,
  globalSetup: '<rootDir>/jest-chaos.setup.js',
  globalTeardown: '<rootDir>/jest-chaos.teardown.js',
};
