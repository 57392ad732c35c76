// Chaos specs (test/chaos/*.chaos-spec.ts): the built server (dist/), the real nginx and PM2,
// under load from autocannon, with processes killed, restarted and flooded on purpose.
// One file at a time: they measure processes and timing on a 2-core machine, and the
// scenarios listen on the fixed ports of the shipped nginx files (8080-8086).
// With REPORT=FILE (`npm run chaos`) the figures of every test go to FILE as a table.
import { esmPreset } from '../jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...esmPreset,
  rootDir: '.',
  testRegex: '\\.chaos-spec\\.ts$',
  maxWorkers: 1,
  testTimeout: 60_000,
  globalSetup: '<rootDir>/jest-report.setup.js',
  globalTeardown: '<rootDir>/jest-report.teardown.js',
  globals: {
    report: {
      title: 'Resilience under chaos',
      command: 'npm run chaos',
      intro: [
        'Every test starts the real processes (`node dist/main.js`, nginx with the shipped config, PM2), drives them',
        'from 127.0.0.1 (autocannon for the load phases) and counts every request it sent: **failed** is any',
        'answer the scenario does not allow (non-2xx unless stated), any connection error or reset, any timeout,',
        'and any request whose connection was closed under it without an answer.',
      ],
    },
  },
};
