// End-to-end specs: the real AppModule in-process (*.e2e-spec.ts).
import { esmPreset } from '../jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...esmPreset,
  rootDir: '.',
  testRegex: '\\.e2e-spec\\.ts$',
  globalSetup: '<rootDir>/jest-build-check.js',
  testTimeout: 30_000,
};
