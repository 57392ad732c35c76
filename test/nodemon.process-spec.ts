import { afterEach, describe, expect, it } from '@jest/globals';
import { appendFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/ports.js';
import {
  childPids,
  isAlive,
  MAIN,
  spawnTracked,
  stopAll,
  waitForExitOf,
  type Spawned,
  waitForHealth,
} from './support/processes.js';
import { BIN } from './support/tools.js';
import { getJson } from './support/http.js';
import { waitFor } from './support/wait.js';

const WORKERS = availableParallelism();

/**
 * nodemon runs package.json's `main` (or the script given) with node itself, no
 * shell between: its one child is the app's first process.
 */
function appRoot(nodemon: Spawned): number | false {
  const children = childPids(nodemon.pid);
  return children.length === 1 && children[0];
}

/** Every node process of the app under nodemon: the root and its workers. */
function appProcesses(root: number): number[] {
  return [root, ...childPids(root)];
}

/** The two ways people type it: the script named, or (package.json's `main`) only flags after `--`. */
const FORMS = {
  'nodemon dist/main.js --flag': (flags: string[]) => [
    'dist/main.js',
    ...flags,
  ],
  'nodemon -- --flag': (flags: string[]) => ['--', ...flags],
};
type Form = keyof typeof FORMS;

async function startNodemon(
  form: Form,
  args: string[],
): Promise<{ nodemon: Spawned; port: number; root: number }> {
  const port = await freePort();
  const nodemon = spawnTracked(
    join(BIN, 'nodemon'),
    FORMS[form]([`--port=${port}`, ...args]),
  );
  await waitForHealth(port, {
    timeoutMs: 20_000,
    what: 'the app under nodemon to serve',
  }).catch((error: Error) => {
    throw new Error(`${error.message}\n${nodemon.output()}`);
  });
  const root = await waitFor(() => appRoot(nodemon), {
    what: 'nodemon’s child',
  });
  return { nodemon, port, root };
}

describe.each(Object.keys(FORMS) as Form[])('%s (nodemon.json)', (form) => {
  afterEach(stopAll);

  it('FORK: one node process serves', async () => {
    const { root, port } = await startNodemon(form, ['--mode=FORK']);
    expect(appProcesses(root)).toEqual([root]);
    const info = await getJson<{ arguments: string[] }>(port, '/api/info');
    expect(info.json.arguments).toEqual([`--port=${port}`, '--mode=FORK']);
  });

  it('CLUSTER: the primary plus one worker per processor', async () => {
    const { root } = await startNodemon(form, ['--mode=CLUSTER']);
    const processes = await waitFor(
      () => appProcesses(root).length === 1 + WORKERS && appProcesses(root),
      {
        what: 'the workers',
      },
    );
    expect(processes).toHaveLength(1 + WORKERS);
  });

  it('a change in dist/ restarts the cluster and leaves no orphaned worker', async () => {
    const { nodemon, port, root } = await startNodemon(form, [
      '--mode=CLUSTER',
    ]);
    const before = await waitFor(
      () => appProcesses(root).length === 1 + WORKERS && appProcesses(root),
      {
        what: 'the first cluster',
      },
    );

    appendFileSync(
      MAIN,
      `\n// touched by the nodemon test at ${new Date().toISOString()}\n`,
    );

    await waitForExitOf(before, 20_000);
    const fresh = await waitFor(
      () => {
        const next = appRoot(nodemon);
        return (
          next !== false &&
          next !== root &&
          appProcesses(next).length === 1 + WORKERS &&
          next
        );
      },
      { timeoutMs: 20_000, what: 'the restarted cluster' },
    );
    await waitForHealth(port, { what: 'the restarted app to serve' });
    expect(nodemon.output()).toContain('[nodemon] restarting due to changes');
    expect(before.some(isAlive)).toBe(false);

    const last = appProcesses(fresh);
    expect((await nodemon.stop('SIGTERM')).signal ?? 'exited').toBeTruthy();
    await waitForExitOf(last);
  });
});
