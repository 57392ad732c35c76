import { afterEach, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { recordChaos } from '../support/chaos-report.js';
import { get } from '../support/http.js';
import { runLoad } from '../support/load.js';
import {
  cpuSeconds,
  processTree,
  rssBytes,
  sleep,
  watchMax,
} from '../support/proc-stats.js';
import {
  isAlive,
  startServer,
  stopAll,
  waitForExitOf,
} from '../support/processes.js';
import { withTimeout } from '../support/wait.js';

const GiB = 1024 ** 3;

afterEach(stopAll);

describe('chaos, FORK mode', () => {
  it('SIGTERM with cant=300000000 in flight: the answer completes with the right sum, then the process exits 0', async () => {
    const server = await startServer(['--mode=FORK']);
    const tree = processTree(server.pid);
    let answered = false;
    const inFlight = get(server.port, '/api/randoms?cant=300000000', {
      timeoutMs: 30_000,
    }).finally(() => (answered = true));
    await sleep(300);
    const signalledInFlight = !answered;
    process.kill(server.pid, 'SIGTERM');
    const res = await inFlight;
    const exit = await withTimeout(server.exited, 15_000, 'the server to exit');
    await waitForExitOf(tree);
    const total =
      res.status === 200
        ? Object.values(JSON.parse(res.body) as Record<string, number>).reduce(
            (a, b) => a + b,
            0,
          )
        : 0;
    recordChaos({
      item: 4,
      name: 'Graceful shutdown: SIGTERM to a FORK server with a cant=300000000 request in flight',
      sent: 1,
      failed: res.status === 200 && total === 300_000_000 ? 0 : 1,
      notes: `answered ${res.status} with ${total} draws after ${(res.ms / 1000).toFixed(1)} s; exit ${JSON.stringify(exit)}; ${tree.filter(isAlive).length} process(es) left`,
    });

    expect(signalledInFlight).toBe(true);
    expect(res.status).toBe(200);
    expect(total).toBe(300_000_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tree.filter(isAlive)).toEqual([]);
  });

  it('40 concurrent cant=50000000 requests get only 200 or 503 + Retry-After, memory stays under 1 GiB, /api/info answers at once after', async () => {
    const server = await startServer(['--mode=FORK']);
    const memory = watchMax(() => rssBytes(processTree(server.pid)));
    const result = await runLoad({
      port: server.port,
      path: '/api/randoms?cant=50000000',
      connections: 40,
      amount: 40,
      timeoutSec: 60,
      accept: (status, headers) =>
        status === 200 ||
        (status === 503 && /^\d+$/.test(headers['retry-after'] ?? '')),
    });
    const maxRss = memory.stop();
    const info = await get(server.port, '/api/info');
    recordChaos({
      item: 6,
      name: 'Overload: 40 concurrent cant=50000000 requests to one FORK server',
      sent: result.sent,
      failed: result.failed,
      notes: `answers ${JSON.stringify(result.statuses)} (503s with Retry-After); peak RSS ${(maxRss / 1024 ** 2).toFixed(0)} MiB; /api/info right after in ${info.ms.toFixed(0)} ms`,
    });

    expect(result).toMatchObject({ sent: 40, failed: 0 });
    expect(result.statuses[200]).toBeGreaterThanOrEqual(1);
    expect(result.statuses[503]).toBeGreaterThanOrEqual(1);
    expect(maxRss).toBeLessThan(GiB);
    expect(info.status).toBe(200);
    expect(info.ms).toBeLessThan(200);
  });

  it('a client that asks for cant=1000000000 and leaves after 0.4 s leaves the server idle', async () => {
    const server = await startServer(['--mode=FORK']);
    const tree = processTree(server.pid);
    const before = cpuSeconds(tree);
    const req = request({
      host: '127.0.0.1',
      port: server.port,
      path: '/api/randoms?cant=1000000000',
      agent: false,
    });
    req.on('error', () => undefined); // destroyed on purpose
    req.end();
    await sleep(400);
    req.destroy();
    const atDisconnect = cpuSeconds(tree);
    await sleep(2_000);
    const after = cpuSeconds(processTree(server.pid));
    const working = atDisconnect - before;
    const idle = after - atDisconnect;
    const health = await get(server.port, '/health');
    recordChaos({
      item: 7,
      name: 'Cancelled work: cant=1000000000, client gone after 0.4 s',
      sent: 1,
      failed: idle < 0.5 ? 0 : 1,
      notes: `${working.toFixed(2)} CPU-s used while the client waited, ${idle.toFixed(2)} CPU-s in the 2 s after it left (utime+stime of the server, all threads)`,
    });

    expect(working).toBeGreaterThan(0.1); // the work had started
    expect(idle).toBeLessThan(0.5);
    expect(health.status).toBe(200);
  });
});
