import { afterEach, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { recordFigures } from '../support/report.js';
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
/** The largest cant the server can be configured for: seconds of both threads' time. */
const CANT_OF_SECONDS = 2 ** 32 - 1;

afterEach(stopAll);

describe('chaos, FORK mode', () => {
  it('40 concurrent cant=1000000000 (far more than RANDOMS_MAX_QUEUE_MS of work): the queue takes what fits, the rest get 503 with Retry-After spread over the wait, memory stays under 1 GiB', async () => {
    const server = await spawnServer(['--mode=FORK']);
    const memory = watchMax(() => rssBytes(processTree(server.pid)));
    const retryAfter: number[] = [];
    const result = await runLoad({
      port: server.port,
      path: '/api/randoms?cant=1000000000',
      connections: 40,
      amount: 40,
      timeoutSec: 60,
      accept: (status, headers) => {
        if (status !== 503) return status === 200;
        retryAfter.push(Number(headers['retry-after']));
        return /^[1-9]\d*$/.test(headers['retry-after'] ?? '');
      },
    });
    const maxRss = memory.stop();
    const info = await get(server.port, '/api/info');
    retryAfter.sort((a, b) => a - b);
    recordFigures({
      item: 6,
      name: 'Overload: 40 concurrent cant=1000000000 requests to one FORK server (RANDOMS_MAX_QUEUE_MS 3000)',
      sent: result.sent,
      failed: result.failed,
      notes: `answers ${JSON.stringify(result.statuses)}; Retry-After from ${retryAfter[0]} to ${retryAfter.at(-1)} s; peak RSS ${(maxRss / 1024 ** 2).toFixed(0)} MiB; /api/info right after in ${info.ms.toFixed(0)} ms`,
    });

    expect(result).toMatchObject({ sent: 40, failed: 0 });
    expect(result.statuses[200]).toBeGreaterThanOrEqual(2);
    expect(result.statuses[503]).toBeGreaterThanOrEqual(10);
    // Told in turn: the later refused come back later, not all at once.
    expect(retryAfter.at(-1)).toBeGreaterThan(retryAfter[0] + 2);
    expect(maxRss).toBeLessThan(GiB);
    expect(info.status).toBe(200);
    expect(info.ms).toBeLessThan(200);
  });

  it('a client that asks for seconds of draws and leaves after 0.4 s leaves the server idle', async () => {
    const server = await spawnServer(['--mode=FORK'], {
      env: { RANDOMS_MAX_CANT: String(CANT_OF_SECONDS) },
    });
    const tree = processTree(server.pid);
    const before = cpuSeconds(tree);
    const req = request({
      host: '127.0.0.1',
      port: server.port,
      path: `/api/randoms?cant=${CANT_OF_SECONDS}`,
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
    recordFigures({
      item: 7,
      name: `Cancelled work: cant=${CANT_OF_SECONDS}, client gone after 0.4 s`,
      sent: 1,
      failed: idle < 0.5 ? 0 : 1,
      notes: `${working.toFixed(2)} CPU-s used while the client waited, ${idle.toFixed(2)} CPU-s in the 2 s after it left (utime+stime of the server, all threads)`,
    });

    expect(working).toBeGreaterThan(0.1); // the work had started
    expect(idle).toBeLessThan(0.5);
    expect(health.status).toBe(200);
  });
});
