import { afterEach, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { recordChaos } from '../support/chaos-report.js';
import { get } from '../support/http.js';
import { runLoad } from '../support/load.js';
import {
  cpuSeconds,
  processTree,
  rssBytes,
  watchMax,
} from '../support/proc-stats.js';
import { spawnServer, stopAll } from '../support/processes.js';
import { sleep } from '../support/wait.js';

const GiB = 1024 ** 3;

afterEach(stopAll);

describe('chaos, FORK mode', () => {
  it('40 concurrent cant=50000000 requests get only 200 or 503 + Retry-After, memory stays under 1 GiB, /api/info answers at once after', async () => {
    const server = await spawnServer(['--mode=FORK']);
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
    const server = await spawnServer(['--mode=FORK']);
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
