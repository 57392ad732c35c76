import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { recordChaos } from '../support/chaos-report.js';
import { get } from '../support/http.js';
import { runLoad } from '../support/load.js';
import { AccessLog } from '../support/nginx-log.js';
import {
  startNginx,
  type RunningNginx,
  SINGLE_PORT,
  NODE_CLUSTER_PORT,
} from '../support/nginx.js';
import { processTree, sleep, waitForFreePorts } from '../support/proc-stats.js';
import {
  childPids,
  freePort,
  isAlive,
  MAIN,
  spawnTracked,
  startServer,
  stopAll,
  waitForExitOf,
} from '../support/processes.js';
import { waitFor, withTimeout } from '../support/wait.js';

// The ports nginx/randoms-to-node-cluster.conf names.
const WORKERS = 2;

let nginx: RunningNginx | undefined;

afterEach(async () => {
  await nginx?.stop();
  nginx = undefined;
  await stopAll();
});

async function workersOf(primaryPid: number, count = WORKERS) {
  return waitFor(
    () => {
      const pids = childPids(primaryPid);
      return pids.length === count && pids;
    },
    { timeoutMs: 20_000, what: `${count} workers under pid ${primaryPid}` },
  );
}

const sum = (body: string): number =>
  Object.values(JSON.parse(body) as Record<string, number>).reduce(
    (a, b) => a + b,
    0,
  );

describe('chaos, CLUSTER mode', () => {
  it('a worker SIGKILLed under load behind nginx/randoms-to-node-cluster.conf costs no request, and is replaced', async () => {
    await waitForFreePorts([SINGLE_PORT, NODE_CLUSTER_PORT]);
    await startServer(['--mode=FORK'], { port: SINGLE_PORT });
    const cluster = await startServer(
      ['--mode=CLUSTER', `--workers=${WORKERS}`],
      { port: NODE_CLUSTER_PORT },
    );
    const [victim, survivor] = await workersOf(cluster.pid);
    nginx = await startNginx('randoms-to-node-cluster.conf');
    const log = AccessLog.of(readFileSync(nginx.config, 'utf8'));

    // Requests of ~10 ms of CPU each keep both workers busy, so the victim dies with
    // requests on it (with 1,000,000 draws, ~1 ms since the faster draw, it often had none).
    const load = runLoad({
      port: nginx.port,
      path: '/api/randoms?cant=10000000',
      connections: 8,
      durationSec: 5,
    });
    await sleep(1_500);
    process.kill(victim, 'SIGKILL');
    const result = await load;

    // Both entries of the upstream are the same cluster: a retry shows as two.
    const retried = log.entries().filter((entry) => entry.upstreams.length > 1);
    const workers = await workersOf(cluster.pid);
    recordChaos({
      item: 2,
      name: `Worker death in CLUSTER behind nginx: 1 of ${WORKERS} workers of the 8081 cluster SIGKILLed mid-run (cant=10000000, 8 connections, 5 s)`,
      sent: result.sent,
      failed: result.failed,
      notes: `answers by worker ${JSON.stringify(result.servedBy)}; ${retried.length} request(s) retried by nginx on the second entry (same cluster); the primary forked a replacement`,
    });

    expect(result).toMatchObject({ failed: 0 });
    expect(result.sent).toBeGreaterThan(100);
    expect(isAlive(victim)).toBe(false);
    expect(workers).toContain(survivor);
    expect(workers).not.toContain(victim);
    expect(cluster.output()).toMatch(
      new RegExp(`pid ${victim}\\) died \\(signal SIGKILL\\)`),
    );
    // The requests that were on the victim: nginx tried them again (those the
    // load generator had not cut off at its stop answered 200, counted above).
    expect(retried.length).toBeGreaterThanOrEqual(1);
  });

  it('SIGHUP under load replaces every worker, one at a time, new listening before old drains, with no failed request', async () => {
    const cluster = await startServer([
      '--mode=CLUSTER',
      `--workers=${WORKERS}`,
    ]);
    const before = await workersOf(cluster.pid);

    const load = runLoad({
      port: cluster.port,
      path: '/api/randoms?cant=20000',
      connections: 8,
      durationSec: 7,
    });
    await sleep(1_000);
    process.kill(cluster.pid, 'SIGHUP');
    let restartedUnderLoad = false;
    void waitFor(() => cluster.output().includes('rolling restart complete'), {
      timeoutMs: 6_000,
      what: 'the rolling restart',
    }).then(
      () => (restartedUnderLoad = true),
      () => undefined,
    );
    const result = await load;

    const output = cluster.output();
    const replaced = [
      ...output.matchAll(/worker (\d+) replaced by worker (\d+)/g),
    ].map(([, old, fresh]) => ({ old: Number(old), fresh: Number(fresh) }));
    recordChaos({
      item: 3,
      name: `Rolling restart: SIGHUP to a CLUSTER primary (${WORKERS} workers) under load, straight to the cluster (cant=20000, 8 connections, 7 s)`,
      sent: result.sent,
      failed: result.failed,
      notes: `${replaced.length} worker(s) replaced one at a time; keep-alive connections moved off each draining worker by \`Connection: close\``,
    });

    expect(result).toMatchObject({ failed: 0 });
    expect(result.sent).toBeGreaterThan(200);
    expect(restartedUnderLoad).toBe(true);
    expect(replaced).toHaveLength(WORKERS);
    // Each new worker listened before its predecessor was asked to drain, and
    // the next replacement started only once the previous one was done.
    const lines = output.split('\n');
    const at = (pattern: RegExp) =>
      lines.findIndex((line) => pattern.test(line));
    let previousDone = -1;
    for (const { old, fresh } of replaced) {
      const oldPid = Number(
        new RegExp(`worker ${old} started with pid (\\d+)`).exec(output)?.[1],
      );
      const listening = at(
        new RegExp(`worker ${fresh} \\(pid \\d+\\) listening`),
      );
      const draining = at(
        new RegExp(`\\[Nest\\] ${oldPid} .*SIGTERM: draining`),
      );
      const done = at(new RegExp(`worker ${old} replaced by worker ${fresh}`));
      expect(listening).toBeGreaterThan(previousDone);
      expect(draining).toBeGreaterThan(listening);
      expect(done).toBeGreaterThan(draining);
      previousDone = done;
    }
    const after = await workersOf(cluster.pid);
    expect(after.some((pid) => before.includes(pid))).toBe(false);
    await waitForExitOf(before);
  });

  it('SIGTERM to the primary with cant=300000000 in flight: the answer completes with the right sum, then everything exits 0', async () => {
    const cluster = await startServer([
      '--mode=CLUSTER',
      `--workers=${WORKERS}`,
    ]);
    const tree = processTree(cluster.pid);
    expect(tree).toHaveLength(1 + WORKERS);
    let answered = false;
    const inFlight = get(cluster.port, '/api/randoms?cant=300000000', {
      timeoutMs: 30_000,
    }).finally(() => (answered = true));
    await sleep(300);
    const signalledInFlight = !answered;
    process.kill(cluster.pid, 'SIGTERM');
    const res = await inFlight;
    const exit = await withTimeout(
      cluster.exited,
      15_000,
      'the primary to exit',
    );
    await waitForExitOf(tree);
    const total = res.status === 200 ? sum(res.body) : 0;
    recordChaos({
      item: 4,
      name: 'Graceful shutdown: SIGTERM to a CLUSTER primary with a cant=300000000 request in flight',
      sent: 1,
      failed: res.status === 200 && total === 300_000_000 ? 0 : 1,
      notes: `answered ${res.status} with ${total} draws after ${(res.ms / 1000).toFixed(1)} s; primary exit ${JSON.stringify(exit)}; ${tree.filter(isAlive).length} of ${tree.length} processes left`,
    });

    expect(signalledInFlight).toBe(true);
    expect(res.status).toBe(200);
    expect(total).toBe(300_000_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tree.filter(isAlive)).toEqual([]);
  });

  it('workers that die right after starting make the primary back off, then exit 1 with a clear message', async () => {
    // The port is taken, so every worker fails to listen right after it starts.
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, resolve));
    try {
      const primary = spawnTracked(process.execPath, [
        MAIN,
        '--mode=CLUSTER',
        '--workers=1',
        `--port=${port}`,
      ]);
      const started = Date.now();
      const exit = await withTimeout(
        primary.exited,
        30_000,
        'the primary to give up',
      );
      const seconds = (Date.now() - started) / 1000;
      const output = primary.output();
      const forks = output.match(/started with pid/g)?.length ?? 0;
      const delays = [...output.matchAll(/respawning in (\d+) ms/g)].map(
        ([, ms]) => Number(ms),
      );
      recordChaos({
        item: 5,
        name: 'Crash loop: every worker dies right after start (its port is taken)',
        sent: 0,
        failed: exit.code === 1 ? 0 : 1,
        notes: `primary exited ${exit.code} after ${seconds.toFixed(1)} s and ${forks} forks, respawn delays ${delays.join(', ')} ms`,
      });

      expect(exit).toEqual({ code: 1, signal: null });
      expect(output).toMatch(
        /crash loop: 5 workers in a row died within \d+ ms of starting \(last: code 1\); giving up/,
      );
      expect(forks).toBe(5); // gives up, does not spin
      expect(delays).toEqual([250, 500, 1000, 2000]);
      expect(childPids(primary.pid)).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});
