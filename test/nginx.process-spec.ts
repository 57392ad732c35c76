import { afterEach, describe, expect, it } from '@jest/globals';
import {
  get,
  metricSample,
  servedByOf,
  type HttpResult,
} from './support/http.js';
import { startNginx } from './support/nginx.js';
import {
  NODE_CLUSTER_PORT,
  SINGLE_PORT,
  UPSTREAM_PORTS,
} from './support/ports.js';
import {
  allWorkersListening,
  spawnServer,
  stopAll,
} from './support/processes.js';
import { waitFor } from './support/wait.js';

afterEach(stopAll);

async function inBatches(
  port: number,
  path: string,
  total: number,
  concurrency: number,
): Promise<HttpResult[]> {
  const results: HttpResult[] = [];
  for (let sent = 0; sent < total; sent += concurrency) {
    const batch = Array.from(
      { length: Math.min(concurrency, total - sent) },
      () => get(port, path),
    );
    results.push(...(await Promise.all(batch)));
  }
  return results;
}

describe('scenario 1: /api/randoms to the node cluster on 8081, the rest to 8080', () => {
  it('routes /info to the single server and /api/randoms to several 8081 workers', async () => {
    const single = await spawnServer(['--mode=FORK'], { port: SINGLE_PORT });
    // Every worker listening, or the first one up may take all the connections.
    await allWorkersListening(
      await spawnServer(['--mode=CLUSTER'], { port: NODE_CLUSTER_PORT }),
    );
    const nginx = await startNginx('randoms-to-node-cluster.conf');

    for (const path of ['/info', '/api/info', '/health']) {
      const res = await get(nginx.port, path);
      expect(res.status).toBe(200);
      expect(servedByOf(res)).toEqual({ port: SINGLE_PORT, pid: single.pid });
    }

    const randoms = await inBatches(
      nginx.port,
      '/api/randoms?cant=200000',
      60,
      6,
    );
    const pids = new Set<number>();
    for (const res of randoms) {
      expect(res.status).toBe(200);
      const by = servedByOf(res);
      expect(by.port).toBe(NODE_CLUSTER_PORT);
      pids.add(by.pid);
    }
    expect(pids.size).toBeGreaterThanOrEqual(2);
  });
});

describe('scenario 2: /api/randoms to the upstream of 8082-8085, the rest to 8080', () => {
  it('spreads 400 requests evenly over the four instances and sends the rest to 8080', async () => {
    const single = await spawnServer(['--mode=FORK'], { port: SINGLE_PORT });
    const instances = await Promise.all(
      UPSTREAM_PORTS.map((port) => spawnServer(['--mode=FORK'], { port })),
    );
    const nginx = await startNginx('randoms-to-upstream.conf');

    const info = await get(nginx.port, '/info');
    expect(info.status).toBe(200);
    expect(servedByOf(info)).toEqual({ port: SINGLE_PORT, pid: single.pid });

    const perPort = new Map<number, number>();
    for (const res of await inBatches(
      nginx.port,
      '/api/randoms?cant=1000',
      400,
      4,
    )) {
      expect(res.status).toBe(200);
      const { port, pid } = servedByOf(res);
      expect(instances.find((instance) => instance.port === port)?.pid).toBe(
        pid,
      );
      perPort.set(port, (perPort.get(port) ?? 0) + 1);
    }
    expect([...perPort.keys()].sort()).toEqual(UPSTREAM_PORTS);
    for (const port of UPSTREAM_PORTS) {
      expect(perPort.get(port)).toBeGreaterThanOrEqual(90);
      expect(perPort.get(port)).toBeLessThanOrEqual(110);
    }
  });

  it('a 503 from an instance whose queue is full is retried on another one: every client gets a 200', async () => {
    const CANT = 2 ** 32 - 1;
    const REJECTED = 'randoms_jobs_rejected_total';
    await spawnServer(['--mode=FORK'], { port: SINGLE_PORT });
    const [busyPort, ...otherPorts] = UPSTREAM_PORTS;
    // Its queue holds 1 ms of work: busy, it refuses whatever needs the pool.
    await spawnServer(['--mode=FORK'], {
      port: busyPort,
      env: { RANDOMS_MAX_CANT: String(CANT), RANDOMS_MAX_QUEUE_MS: '1' },
    });
    await Promise.all(
      otherPorts.map((port) => spawnServer(['--mode=FORK'], { port })),
    );
    const nginx = await startNginx('randoms-to-upstream.conf');
    const rejected = async (): Promise<number> =>
      metricSample((await get(busyPort, '/metrics')).body, REJECTED) ?? NaN;

    void get(busyPort, `/api/randoms?cant=${CANT}`, {
      timeoutMs: 60_000,
    }).catch(() => undefined);
    await waitFor(
      async () =>
        (await get(busyPort, '/api/randoms?cant=1000000')).status === 503,
      { intervalMs: 20, what: 'the busy instance to refuse' },
    );
    const before = await rejected();
    const results = await inBatches(
      nginx.port,
      '/api/randoms?cant=1000000',
      40,
      4,
    );
    expect(results.map((res) => res.status)).toEqual(Array(40).fill(200));
    // nginx did send it requests, which it refused, and nginx retried them.
    expect((await rejected()) - before).toBeGreaterThanOrEqual(1);
    expect(results.some((res) => servedByOf(res).port === busyPort)).toBe(
      false,
    );
  });

  it('hides the nginx version (server_tokens off)', async () => {
    await spawnServer(['--mode=FORK'], { port: SINGLE_PORT });
    const nginx = await startNginx('randoms-to-upstream.conf');
    const res = await get(nginx.port, '/api/info');
    expect(res.headers.server).toBe('nginx');
  });

  it.each(['/metrics', '/METRICS', '/metrics/', '/Metrics?x=1'])(
    'nginx answers %s itself with 404 in the app’s error shape: metrics never leave the machine through it',
    async (path) => {
      await spawnServer(['--mode=FORK'], { port: SINGLE_PORT });
      const nginx = await startNginx('randoms-to-upstream.conf');
      const res = await get(nginx.port, path);
      expect(res.status).toBe(404);
      expect(servedByOf(res).port).toBe(nginx.port); // nginx's own answer
      expect(JSON.parse(res.body)).toEqual({
        statusCode: 404,
        message: 'Cannot GET the requested path',
        error: 'Not Found',
      });
    },
  );
});

describe('X-Request-Id through nginx', () => {
  afterEach(stopAll);

  it('nginx passes the client’s own id on, and sets its $request_id when the client sent none', async () => {
    await spawnServer(['--mode=FORK'], { port: SINGLE_PORT });
    const nginx = await startNginx('randoms-to-upstream.conf');
    const own = await get(nginx.port, '/api/info', {
      headers: { 'X-Request-Id': 'client-7' },
    });
    expect(own.headers['x-request-id']).toBe('client-7');
    const none = await get(nginx.port, '/api/info');
    // nginx's $request_id: 32 hex digits, which the app keeps as a sane token.
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
  });
});
