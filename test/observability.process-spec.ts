import { afterEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get, getJson, metricSample, servedByOf } from './support/http.js';
import { runLoad } from './support/load.js';
import { freePort } from './support/ports.js';
import { cpuSeconds, processTree } from './support/proc-stats.js';
import {
  allWorkersListening,
  childPids,
  logLines,
  onStopAll,
  spawnServer,
  spawnTracked,
  stopAll,
  workersOf,
} from './support/processes.js';
import { sleep, waitFor } from './support/wait.js';

const PROMETHEUS =
  ['/usr/bin/prometheus', '/usr/sbin/prometheus'].find(
    (path) => spawnSync('test', ['-x', path]).status === 0,
  ) ?? 'prometheus';

const INFO_REQUESTS =
  'http_requests_total{method="GET",route="/api/info",status="200"}';

afterEach(stopAll);

describe('metrics across a cluster', () => {
  it('every /metrics answer is the sum over all workers, whichever worker gives it', async () => {
    const server = await spawnServer(['--mode=CLUSTER', '--workers=2']);
    const workers = await workersOf(server.pid, 2);
    const K = 60;
    const answeredBy = new Set<number>();
    for (let i = 0; i < K; i++) {
      // Fresh connections: the cluster's round robin spreads them over both workers.
      answeredBy.add(servedByOf(await get(server.port, '/api/info')).pid);
    }
    expect([...answeredBy].sort()).toEqual([...workers].sort());

    const scrapedBy = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const res = await get(server.port, '/metrics');
      expect(res.status).toBe(200);
      scrapedBy.add(servedByOf(res).pid);
      // The /metrics requests themselves land on /metrics, not /api/info.
      expect(metricSample(res.body, INFO_REQUESTS)).toBeGreaterThanOrEqual(K);
      expect(metricSample(res.body, 'cluster_workers')).toBe(2);
      expect(metricSample(res.body, 'cluster_worker_restarts_total')).toBe(0);
    }
    expect(scrapedBy.size).toBe(2);
  });

  it('`promtool check metrics` accepts what a CLUSTER serves', async () => {
    const server = await spawnServer(['--mode=CLUSTER', '--workers=2']);
    await get(server.port, '/api/randoms?cant=1000000');
    const res = await get(server.port, '/metrics');
    const check = spawnSync('promtool', ['check', 'metrics'], {
      input: res.body,
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.status).toBe(0);
  });

  it('a real Prometheus scraping a CLUSTER for 20 s measures the request rate it was sent, within 15%', async () => {
    const server = await spawnServer(['--mode=CLUSTER', '--workers=2']);
    const dir = mkdtempSync(join(tmpdir(), 'lbs-prometheus-'));
    chmodSync(dir, 0o755);
    onStopAll(() => rmSync(dir, { recursive: true, force: true }));
    const webPort = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: load-balanced-server',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${server.port}']`,
      ].join('\n'),
    );
    spawnTracked(PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
    ]);
    await waitFor(async () => (await get(webPort, '/-/ready')).status === 200, {
      timeoutMs: 30_000,
      what: 'Prometheus to be ready',
    });
    const RATE = 40;
    const load = runLoad({
      port: server.port,
      path: '/api/info',
      connections: 4,
      overallRate: RATE,
      durationSec: 22,
    });
    await sleep(20_000); // the measurement window, not a readiness wait
    const query = `sum(rate(${INFO_REQUESTS.replace('{', '{job="load-balanced-server",')}[15s]))`;
    const answer = await getJson<{
      data: { result: { value: [number, string] }[] };
    }>(webPort, `/api/v1/query?query=${encodeURIComponent(query)}`);
    const measured = Number(answer.json.data.result[0]?.value[1]);
    const result = await load;
    const sent = result.accepted / result.durationSec;

    expect(result.failed).toBe(0);
    expect(sent).toBeGreaterThan(RATE * 0.9);
    expect(measured).toBeGreaterThan(sent * 0.85);
    expect(measured).toBeLessThan(sent * 1.15);
  }, 90_000);
});

describe('request logs', () => {
  it('one JSON line per request, with method, route, status, duration, servedBy and the request id it echoed', async () => {
    const server = await spawnServer([]);
    const res = await get(server.port, '/api/randoms?cant=1000', {
      headers: { 'X-Request-Id': 'trace-42.a_b' },
    });
    expect(res.headers['x-request-id']).toBe('trace-42.a_b');
    const line = await waitFor(
      () =>
        logLines(server.output()).find((l) => l.requestId === 'trace-42.a_b'),
      { what: 'the request’s log line' },
    );
    expect(line).toMatchObject({
      level: 30,
      pid: server.pid,
      msg: 'request',
      method: 'GET',
      route: '/api/randoms',
      status: 200,
      servedBy: `${server.port}:${server.pid}`,
    });
    expect(line.durationMs).toEqual(expect.any(Number));
  });

  it('a hostile header value never reaches a log line raw', async () => {
    const server = await spawnServer([]);
    const hostile = '"},"level":60,"msg":"forged","x":{"';
    const res = await get(server.port, '/api/info', {
      headers: { 'X-Request-Id': hostile },
    });
    const id = String(res.headers['x-request-id']);
    expect(id).not.toBe(hostile);
    await waitFor(
      () => logLines(server.output()).some((l) => l.requestId === id),
      { what: 'the request’s log line' },
    );
    expect(server.output()).not.toContain('forged');
    // Every line is still one JSON object of the server's own.
    for (const line of server.output().trim().split('\n'))
      expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('believes X-Forwarded-For from the balancers TRUST_PROXY names, and no one else', async () => {
    const headers = { 'X-Forwarded-For': '203.0.113.7' };
    const trusting = await spawnServer([]); // loopback is trusted by default
    const believed = await get(trusting.port, '/api/info', { headers });
    const notTrusting = await spawnServer([], {
      env: { TRUST_PROXY: '10.213.0.1' },
    });
    const ignored = await get(notTrusting.port, '/api/info', { headers });
    const addressOf = async (server: typeof trusting, id: string) =>
      (
        await waitFor(
          () => logLines(server.output()).find((l) => l.requestId === id),
          { what: 'the request’s log line' },
        )
      ).remoteAddress;

    expect(
      await addressOf(trusting, String(believed.headers['x-request-id'])),
    ).toBe('203.0.113.7');
    expect(
      await addressOf(notTrusting, String(ignored.headers['x-request-id'])),
    ).toMatch(/127\.0\.0\.1$/);
  });

  it('a CLUSTER starts quietly: one line per worker and a summary from the primary, no module or route listing', async () => {
    const server = await spawnServer(['--mode=CLUSTER', '--workers=3']);
    const lines = await waitFor(
      () => {
        const all = logLines(server.output());
        return (
          all.some((l) => l.msg.startsWith('all 3 worker(s) listening')) && all
        );
      },
      { what: 'the primary’s summary' },
    );
    const startUp = lines.filter((l) => l.msg !== 'request');
    expect(startUp.map((l) => l.msg.replace(/\d+/g, 'N'))).toEqual([
      'worker N (pid N) listening on port N',
      'worker N (pid N) listening on port N',
      'worker N (pid N) listening on port N',
      'all N worker(s) listening (pids N, N, N); primary pid N: SIGHUP replaces them one by one, SIGTERM stops them',
    ]);
    expect(server.output()).not.toMatch(
      /RouterExplorer|InstanceLoader|Mapped \{/,
    );
  });
});

describe('readiness and the cluster on /info', () => {
  it('/readyz turns 503 with Retry-After once SIGTERM starts the drain, while a request is still in flight', async () => {
    const CANT = 2 ** 32 - 1;
    const server = await spawnServer([], {
      env: { RANDOMS_MAX_CANT: String(CANT) },
    });
    expect((await get(server.port, '/readyz')).status).toBe(200);
    const tree = processTree(server.pid);
    const booted = cpuSeconds(tree);
    const inFlight = get(server.port, `/api/randoms?cant=${CANT}`, {
      timeoutMs: 30_000,
    });
    await waitFor(() => cpuSeconds(tree) > booted + 0.1, {
      intervalMs: 10,
      what: 'the request to be computing',
    });
    process.kill(server.pid, 'SIGTERM');
    await waitFor(
      () =>
        logLines(server.output()).some((l) =>
          l.msg.startsWith('SIGTERM: draining'),
        ),
      { what: 'the drain to start' },
    );
    const ready = await get(server.port, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers['retry-after']).toBe('1');
    expect((await inFlight).status).toBe(200);
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  it('in CLUSTER, /api/info and /info show every worker and the primary, gathered through it', async () => {
    const server = await spawnServer(['--mode=CLUSTER', '--workers=2']);
    await allWorkersListening(server);
    const workers = await workersOf(server.pid, 2);
    for (let i = 0; i < 10; i++) await get(server.port, '/health');
    const { json } = await getJson<{
      cluster: {
        primaryPid: number;
        restarts: number;
        workers: {
          id: number;
          pid: number;
          uptimeSeconds: number;
          memoryRss: number;
          requestsServed: number;
        }[];
      };
    }>(server.port, '/api/info');
    expect(json.cluster.primaryPid).toBe(server.pid);
    expect(json.cluster.restarts).toBe(0);
    expect(json.cluster.workers.map((w) => w.pid).sort()).toEqual(
      [...workers].sort(),
    );
    for (const worker of json.cluster.workers) {
      expect(worker.memoryRss).toBeGreaterThan(10 * 1024 ** 2);
      expect(worker.uptimeSeconds).toBeGreaterThanOrEqual(0);
    }
    const served = json.cluster.workers.reduce(
      (sum, w) => sum + w.requestsServed,
      0,
    );
    expect(served).toBeGreaterThanOrEqual(10);

    const page = await get(server.port, '/info');
    for (const pid of workers) expect(page.body).toContain(`<td>${pid}</td>`);
    expect(page.body).toContain(`primary pid ${server.pid}`);

    // A worker dies and is replaced: the primary counts the restart.
    process.kill(workers[0], 'SIGKILL');
    await waitFor(
      () => {
        const now = childPids(server.pid);
        return now.length === 2 && !now.includes(workers[0]);
      },
      { what: 'the replacement' },
    );
    await waitFor(
      async () =>
        (
          await getJson<{ cluster?: { restarts: number; workers: unknown[] } }>(
            server.port,
            '/api/info',
          )
        ).json.cluster?.restarts === 1,
      { timeoutMs: 15_000, what: 'the restart to show' },
    );
  });
});
