import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:net';
import { recordFigures } from '../support/report.js';
import { freshConnectionLoad, runLoad } from '../support/load.js';
import { AccessLog } from '../support/nginx-log.js';
import { startNginx } from '../support/nginx.js';
import {
  freePort,
  NODE_CLUSTER_PORT,
  SINGLE_PORT,
  waitForFreePorts,
} from '../support/ports.js';
import {
  allWorkersListening,
  childPids,
  isAlive,
  type LogLine,
  logLines,
  MAIN,
  spawnServer,
  spawnTracked,
  stopAll,
  waitForExitOf,
  workersOf,
} from '../support/processes.js';
import { sleep, waitFor, withTimeout } from '../support/wait.js';

const WORKERS = 2;

afterEach(stopAll);

describe('chaos, CLUSTER mode', () => {
  it('a worker SIGKILLed under load behind nginx/randoms-to-node-cluster.conf costs no request, and is replaced', async () => {
    await waitForFreePorts([SINGLE_PORT, NODE_CLUSTER_PORT]);
    await spawnServer(['--mode=FORK'], { port: SINGLE_PORT });
    const cluster = await spawnServer(
      ['--mode=CLUSTER', `--workers=${WORKERS}`],
      { port: NODE_CLUSTER_PORT },
    );
    // Both listening, or the first one up may take every connection of the load.
    await allWorkersListening(cluster);
    const [victim, survivor] = await workersOf(cluster.pid, WORKERS);
    const nginx = await startNginx('randoms-to-node-cluster.conf');
    const log = AccessLog.of(nginx.config);

    // Requests of ~10 ms of CPU each keep both workers busy, so the victim dies with
    // requests on it (with 1,000,000 draws, ~1 ms since the faster draw, it often had none).
    // The load runs until the replacement has served for a second.
    const load = runLoad({
      port: nginx.port,
      path: '/api/randoms?cant=10000000',
      connections: 8,
      durationSec: 30,
    });
    await sleep(1_500);
    process.kill(victim, 'SIGKILL');
    const workers = await waitFor(
      () => {
        const pids = childPids(cluster.pid);
        return pids.length === WORKERS && !pids.includes(victim) && pids;
      },
      { timeoutMs: 20_000, what: 'a replacement worker' },
    );
    const replacement = workers.find((pid) => pid !== survivor)!;
    await waitFor(
      () => cluster.output().includes(`(pid ${replacement}) listening`),
      { timeoutMs: 20_000, what: 'the replacement to listen' },
    );
    await sleep(1_000);
    load.stop();
    const result = await load;

    // Both entries of the upstream are the same cluster: a retry shows as two.
    const retried = log.entries().filter((entry) => entry.upstreams.length > 1);
    recordFigures({
      item: 2,
      name: `Worker death in CLUSTER behind nginx: 1 of ${WORKERS} workers of the ${NODE_CLUSTER_PORT} cluster SIGKILLed mid-run (cant=10000000, 8 connections, ${result.durationSec.toFixed(1)} s)`,
      sent: result.sent,
      failed: result.failed,
      notes: `answers by worker ${JSON.stringify(result.byInstance)}; ${retried.length} request(s) retried by nginx on the second entry (same cluster); the primary forked a replacement`,
    });

    expect(result).toMatchObject({ failed: 0 });
    expect(isAlive(victim)).toBe(false);
    expect(workers).toContain(survivor);
    // The victim was serving when it died.
    expect(result.byInstance[`${NODE_CLUSTER_PORT}:${victim}`]).toBeGreaterThan(
      0,
    );
    expect(cluster.output()).toMatch(
      new RegExp(`pid ${victim}\\) died \\(signal SIGKILL\\)`),
    );
    // The requests that were on the victim: nginx tried them again (those the
    // load generator had not cut off at its stop answered 200, counted above).
    expect(retried.length).toBeGreaterThanOrEqual(1);
  });

  it('SIGHUP under load replaces every worker, one at a time, new listening before old drains, with no failed request', async () => {
    // At debug, the primary also says which pid each worker started with.
    const cluster = await spawnServer(
      ['--mode=CLUSTER', `--workers=${WORKERS}`],
      { env: { LOG_LEVEL: 'debug' } },
    );
    const before = await workersOf(cluster.pid, WORKERS);

    // The load runs from a second before the signal to a second after the restart.
    const load = runLoad({
      port: cluster.port,
      path: '/api/randoms?cant=20000',
      connections: 8,
      durationSec: 60,
    });
    await sleep(1_000);
    process.kill(cluster.pid, 'SIGHUP');
    const restarted = waitFor(
      () => cluster.output().includes('rolling restart complete'),
      { timeoutMs: 30_000, what: 'the rolling restart' },
    );
    // Beside the keep-alive load, clients that connect anew for each request:
    // every connection is handed to a worker, the retiring ones included.
    const fresh = freshConnectionLoad({
      port: cluster.port,
      path: '/api/randoms?cant=1000',
      loops: 2,
      until: restarted.catch(() => undefined),
    });
    await restarted.finally(() => sleep(1_000).then(() => load.stop()));
    const result = await load;
    const { sent: freshSent, failures: freshFailures } = await fresh;

    const output = cluster.output();
    const replaced = [
      ...output.matchAll(/worker (\d+) replaced by worker (\d+)/g),
    ].map(([, old, fresh]) => ({ old: Number(old), fresh: Number(fresh) }));
    recordFigures({
      item: 3,
      name: `Rolling restart: SIGHUP to a CLUSTER primary (${WORKERS} workers) under load, straight to the cluster (cant=20000, 8 connections, ${result.durationSec.toFixed(1)} s)`,
      sent: result.sent + freshSent,
      failed: result.failed + freshFailures.length,
      notes: `${replaced.length} worker(s) replaced one at a time; keep-alive connections moved off each draining worker by \`Connection: close\`; ${freshSent} of the requests each on a fresh connection`,
    });

    expect(result).toMatchObject({ failed: 0 });
    expect(freshFailures).toEqual([]);
    expect(freshSent).toBeGreaterThan(100);
    expect(result.sent).toBeGreaterThan(200);
    expect(replaced).toHaveLength(WORKERS);
    // Each new worker listened before its predecessor was asked to drain, and
    // the next replacement started only once the previous one was done.
    const lines = logLines(output);
    const at = (test: (line: LogLine) => boolean) => lines.findIndex(test);
    let previousDone = -1;
    for (const { old, fresh } of replaced) {
      const oldPid = Number(
        new RegExp(`worker ${old} started with pid (\\d+)`).exec(output)?.[1],
      );
      const listening = at(
        (line) =>
          line.msg.startsWith(`worker ${fresh} (pid `) &&
          line.msg.includes('listening'),
      );
      const draining = at(
        (line) =>
          line.pid === oldPid && line.msg.startsWith('SIGTERM: draining'),
      );
      const done = at(
        (line) => line.msg === `worker ${old} replaced by worker ${fresh}`,
      );
      expect(listening).toBeGreaterThan(previousDone);
      expect(draining).toBeGreaterThan(listening);
      expect(done).toBeGreaterThan(draining);
      previousDone = done;
    }
    const after = await workersOf(cluster.pid, WORKERS);
    expect(after.some((pid) => before.includes(pid))).toBe(false);
    await waitForExitOf(before);
  });

  it('workers that die right after starting make the primary back off, then exit 1 with a clear message', async () => {
    // The port is taken, so every worker fails to listen right after it starts.
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, resolve));
    try {
      const primary = spawnTracked(
        process.execPath,
        [MAIN, '--mode=CLUSTER', '--workers=1', `--port=${port}`],
        { env: { LOG_LEVEL: 'debug' } }, // every fork logged
      );
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
      recordFigures({
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
