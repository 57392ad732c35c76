// The scale-out suite (test/*.lab-spec.ts): the built server on several hosts made of network
// namespaces (scripts/lab/lab.ts), nginx in front with the config nginx:hosts renders, under
// load, with hosts killed, cut off, redeployed and added. Root only. With REPORT=FILE
// (`npm run scale-out`) the figures of every test go to FILE as a table.
import { esmPreset } from '../jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...esmPreset,
  rootDir: '.',
  testRegex: '\\.lab-spec\\.ts$',
  maxWorkers: 1,
  testTimeout: 90_000,
  globalSetup: '<rootDir>/jest-report.setup.js',
  globalTeardown: '<rootDir>/jest-report.teardown.js',
  globals: {
    report: {
      title: 'Scale-out: several hosts behind nginx',
      command: 'npm run scale-out',
      intro: [
        'Each test runs on the lab of `npm run lab:up`: hosts made of Linux network namespaces on one bridge,',
        'each running the built server (a node cluster on 8081, and the single server on 8080 on the first),',
        'and nginx in the root namespace with the config `npm run nginx:hosts` renders for them. Load comes',
        'from 127.0.0.1 through nginx (autocannon); the per-client limit is tested from clients in',
        'namespaces of their own. **failed** is any non-2xx answer, connection error, timeout or request',
        'lost under the load generator; **p99** is over every request of the load phase.',
      ],
    },
  },
};
