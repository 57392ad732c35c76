import { afterAll, describe, expect, it } from '@jest/globals';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson } from './support/http.js';
import { freePort } from './support/ports.js';
import {
  isAlive,
  MAIN,
  waitForExitOf,
  waitForHealth,
  workersOf,
} from './support/processes.js';
import { runTool, runToolOrThrow } from './support/tools.js';
import { waitFor } from './support/wait.js';

const WORKERS = availableParallelism();
const FOREVER_ROOT = mkdtempSync(join(tmpdir(), 'lbs-forever-'));
const env = { FOREVER_ROOT };
// eslint-disable-next-line no-control-regex -- matching terminal escape codes is the point
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

interface ForeverEntry {
  uid: string;
  foreverPid: number;
  pid: number;
}

/** `forever list --plain`, parsed: one row per process, columns uid command script… forever pid id. */
function foreverList(): ForeverEntry[] {
  const out = runToolOrThrow('forever', ['list', '--plain'], env);
  return out
    .replace(ANSI_COLOUR, '') // forever colours the log level even with --plain
    .split('\n')
    .filter((line) => /^data:\s+\[\d+\]/.test(line))
    .map((line) => {
      const fields = line.split(/\s+/);
      const uid = fields[2];
      const numbers = fields.filter((field) => /^\d+$/.test(field)).map(Number);
      return { uid, foreverPid: numbers[0], pid: numbers[1] };
    });
}

/** `forever start` as COMMANDS.md writes it, then a bounded wait until the app serves. */
async function foreverStart(
  uid: string,
  flags: string[],
  serverArgs: string[],
  port: number,
): Promise<void> {
  runToolOrThrow(
    'forever',
    [
      'start',
      '-a',
      '--uid',
      uid,
      ...flags,
      '--killSignal',
      'SIGTERM',
      MAIN,
      ...serverArgs,
    ],
    env,
  );
  await waitForHealth(port, {
    timeoutMs: 20_000,
    what: 'the app under forever to serve',
  });
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('forever', () => {
  afterAll(() => {
    runTool('forever', ['stopall'], env);
    rmSync(FOREVER_ROOT, { recursive: true, force: true });
  });

  it('start, list by forever and by the OS, stop', async () => {
    const port = await freePort();
    const uid = `lbs-${port}`;
    await foreverStart(uid, [], [`--port=${port}`, '--mode=CLUSTER'], port);

    const entry = foreverList().find((row) => row.uid === uid);
    expect(entry).toBeDefined();
    const { foreverPid, pid } = entry!;
    // The OS agrees: forever's monitor is the parent of the primary, which has its workers.
    expect(isAlive(foreverPid)).toBe(true);
    expect(parentOf(pid)).toBe(foreverPid);
    const workers = await workersOf(pid, WORKERS);
    const info = await getJson<{ pid: number }>(port, '/api/info');
    expect(workers).toContain(info.json.pid);

    runToolOrThrow('forever', ['stop', uid], env);
    await waitForExitOf([foreverPid, pid, ...workers]);
    expect(foreverList().find((row) => row.uid === uid)).toBeUndefined();
  });

  it('watch mode (-w): a change in dist/ restarts the server', async () => {
    const port = await freePort();
    const uid = `lbs-watch-${port}`;
    await foreverStart(
      uid,
      ['-w', '--watchDirectory', 'dist', '--watchIgnore', '*.map'],
      [`--port=${port}`],
      port,
    );
    const before = foreverList().find((row) => row.uid === uid)!;

    appendFileSync(
      MAIN,
      `\n// touched by the forever watch test at ${new Date().toISOString()}\n`,
    );
    const after = await waitFor(
      () => {
        const row = foreverList().find((entry) => entry.uid === uid);
        return (
          row !== undefined && row.pid !== before.pid && isAlive(row.pid) && row
        );
      },
      { timeoutMs: 20_000, what: 'forever to restart the app' },
    );
    expect(after.foreverPid).toBe(before.foreverPid);
    await waitForExitOf([before.pid]);
    const info = await waitFor(
      async () => {
        const res = await getJson<{ pid: number }>(port, '/api/info', {
          timeoutMs: 1_000,
        });
        return res.json.pid === after.pid && res;
      },
      { timeoutMs: 20_000, what: 'the restarted app to serve' },
    );
    expect(info.status).toBe(200);

    runToolOrThrow('forever', ['stop', uid], env);
    await waitForExitOf([after.foreverPid, after.pid]);
  });
});
