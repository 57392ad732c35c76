import { afterEach, describe, expect, it } from '@jest/globals';
import { availableParallelism } from 'node:os';
import { get, getJson, servedByOf } from './support/http.js';
import {
  childPids,
  isAlive,
  logLines,
  spawnServer,
  stopAll,
  waitForExitOf,
  waitForHealth,
  workersOf,
} from './support/processes.js';
import { waitFor } from './support/wait.js';

const WORKERS = availableParallelism();

describe('CLUSTER mode, as a real process', () => {
  afterEach(stopAll);

  it('the primary forks one worker per processor, and requests are served by several of them', async () => {
    const server = await spawnServer(['--mode', 'CLUSTER']);
    const workers = await workersOf(server.pid, WORKERS);
    // The primary names every worker's pid.
    const summary = await waitFor(
      () =>
        logLines(server.output()).find(
          (line) =>
            line.pid === server.pid && /worker\(s\) listening/.test(line.msg),
        ),
      { what: 'the primary to say its workers listen' },
    );
    expect(summary.msg).toContain(`all ${WORKERS} worker(s) listening`);
    for (const pid of workers) expect(summary.msg).toContain(String(pid));

    const seen = new Set<number>();
    await waitFor(
      async () => {
        const res = await get(server.port, '/api/info');
        expect(res.status).toBe(200);
        seen.add(servedByOf(res).pid);
        return seen.size === Math.min(WORKERS, 2) || undefined;
      },
      {
        timeoutMs: 10_000,
        intervalMs: 0,
        what: 'answers from several workers',
      },
    );
    for (const pid of seen) expect(workers).toContain(pid);
    expect(seen.has(server.pid)).toBe(false); // the primary serves no HTTP
  });

  it('--workers sets the number of workers, each reporting its role', async () => {
    const server = await spawnServer(['--mode=cluster', '--workers=3']);
    await workersOf(server.pid, 3);
    const res = await getJson<{ mode: string; role: string }>(
      server.port,
      '/api/info',
    );
    expect(res.json.mode).toBe('CLUSTER');
    expect(res.json.role).toMatch(/^cluster worker [1-3]$/);
  });

  it('a worker killed with SIGKILL is replaced', async () => {
    const server = await spawnServer(['--mode', 'CLUSTER', '--workers', '2']);
    const [victim, survivor] = await workersOf(server.pid, 2);
    process.kill(victim, 'SIGKILL');
    const replaced = await waitFor(
      () => {
        const pids = childPids(server.pid);
        return pids.length === 2 && !pids.includes(victim) && pids;
      },
      { what: 'a replacement worker' },
    );
    expect(replaced).toContain(survivor);
    expect(server.output()).toMatch(
      new RegExp(`pid ${victim}\\) died \\(signal SIGKILL\\)`),
    );
    await waitForHealth(server.port, { what: 'the cluster to serve' });
  });

  it('SIGTERM ends the primary and every worker, exit code 0', async () => {
    const server = await spawnServer(['--mode', 'CLUSTER']);
    const workers = await workersOf(server.pid, WORKERS);
    process.kill(server.pid, 'SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    await waitForExitOf(workers);
    expect(server.output()).toContain(
      'all workers stopped, exiting with code 0',
    );
  });

  it('SIGHUP replaces every worker one at a time and keeps serving', async () => {
    const server = await spawnServer(['--mode', 'CLUSTER', '--workers', '2']);
    const before = await workersOf(server.pid, 2);
    process.kill(server.pid, 'SIGHUP');
    await waitFor(() => server.output().includes('rolling restart complete'), {
      what: 'the rolling restart',
    });
    const after = await workersOf(server.pid, 2);
    expect(after.some((pid) => before.includes(pid))).toBe(false);
    for (const pid of before) expect(isAlive(pid)).toBe(false);
    expect((await get(server.port, '/health')).status).toBe(200);
  });

  // The crash loop (workers dying right after start: backoff, then exit 1) is
  // tested in test/chaos/cluster.chaos-spec.ts, which also reports its figures.
});
