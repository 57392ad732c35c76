// Process-level specs: the built server (dist/) and the real tools, started as child processes.
// One file at a time: they measure processes and timing on a 2-core machine.
import { esmPreset } from '../jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...esmPreset,
  rootDir: '.',
  testRegex: '\\.process-spec\\.ts$',
  maxWorkers: 1,
  globalSetup: '<rootDir>/jest-build-check.js',
  testTimeout: 60_000,
};
