import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { appendFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { getJson, servedByOf } from './support/http.js';
import {
  freePort,
  NODE_CLUSTER_PORT,
  PM2_CLUSTER_PORT,
  SINGLE_PORT,
  UPSTREAM_PORTS,
} from './support/ports.js';
import {
  childPids,
  isAlive,
  MAIN,
  spawnTracked,
  waitForExitOf,
  waitForHealth,
  workersOf,
} from './support/processes.js';
import {
  appOf,
  BIN,
  PM2_CLUSTER_APP,
  Pm2Sandbox,
  runTool,
} from './support/tools.js';
import { waitFor } from './support/wait.js';
import { freshConnectionLoad } from './support/load.js';
import { join } from 'node:path';

const WORKERS = availableParallelism();
const SCENARIO_1 = [SINGLE_PORT, NODE_CLUSTER_PORT].map(appOf);
const SCENARIO_2 = [SINGLE_PORT, ...UPSTREAM_PORTS].map(appOf);

interface Info {
  pid: number;
  mode: string;
  role: string;
}

describe('PM2', () => {
  const pm2 = new Pm2Sandbox();

  afterEach(() => {
    runTool('pm2', ['delete', 'all'], { PM2_HOME: pm2.home });
  });
  afterAll(() => pm2.kill());

  async function online(names: string[]) {
    return waitFor(
      () => {
        const apps = pm2.online().filter((app) => names.includes(app.name));
        return apps.length === names.length && apps;
      },
      { timeoutMs: 30_000, what: `PM2 apps ${names.join(', ')} online` },
    );
  }

  it('ecosystem, scenario 1: api-8080 is one process, api-8081 the app’s own cluster; stop ends both', async () => {
    pm2.run(['start', 'ecosystem.config.cjs', '--only', SCENARIO_1.join(',')]);
    const apps = await online(SCENARIO_1);
    const single = apps.find((app) => app.name === appOf(SINGLE_PORT))!;
    const primary = apps.find((app) => app.name === appOf(NODE_CLUSTER_PORT))!;
    expect(single.pm2_env.exec_mode).toBe('fork_mode');
    expect(primary.pm2_env.exec_mode).toBe('fork_mode');

    // What PM2 lists is what the OS runs.
    expect(isAlive(single.pid)).toBe(true);
    expect(childPids(single.pid)).toEqual([]);
    const workers = await workersOf(primary.pid, WORKERS);

    await waitForHealth(SINGLE_PORT);
    await waitForHealth(NODE_CLUSTER_PORT);
    const front = await getJson<Info>(SINGLE_PORT, '/api/info');
    expect(front.json).toMatchObject({
      pid: single.pid,
      mode: 'FORK',
      role: 'single',
    });
    const clustered = await getJson<Info>(NODE_CLUSTER_PORT, '/api/info');
    expect(workers).toContain(servedByOf(clustered).pid);
    expect(clustered.json.mode).toBe('CLUSTER');

    pm2.run(['stop', ...SCENARIO_1]);
    await waitForExitOf([single.pid, primary.pid, ...workers]);
    expect(pm2.list().map((app) => app.pm2_env.status)).toEqual([
      'stopped',
      'stopped',
    ]);
  });

  it('ecosystem, scenario 2: the single server and the four upstream instances each run as one process', async () => {
    pm2.run(['start', 'ecosystem.config.cjs', '--only', SCENARIO_2.join(',')]);
    const apps = await online(SCENARIO_2);
    for (const port of [SINGLE_PORT, ...UPSTREAM_PORTS]) {
      const app = apps.find((one) => one.name === appOf(port))!;
      await waitForHealth(port);
      const res = await getJson<Info>(port, '/api/info');
      expect(servedByOf(res)).toEqual({ port, pid: app.pid });
      expect(childPids(app.pid)).toEqual([]);
    }
  });

  describe('cluster mode (pm2 start dist/main.js -i max)', () => {
    it('runs one instance per processor, each a plain server that never nests a cluster', async () => {
      const port = await freePort();
      pm2.run([
        'start',
        MAIN,
        '-i',
        'max',
        '--name',
        'pm2-cluster',
        '--',
        `--port=${port}`,
        '--mode=CLUSTER',
      ]);
      const apps = await online(Array(WORKERS).fill('pm2-cluster'));
      expect(
        apps.every((app) => app.pm2_env.exec_mode === 'cluster_mode'),
      ).toBe(true);
      for (const app of apps) expect(childPids(app.pid)).toEqual([]);

      const pids = new Set<number>();
      await waitFor(
        async () => {
          const res = await getJson<Info>(port, '/api/info');
          expect(res.json.role).toMatch(/^cluster worker \d+$/);
          pids.add(res.json.pid);
          return pids.size === WORKERS;
        },
        { intervalMs: 0, what: 'answers from every PM2 instance' },
      );
      expect([...pids].sort()).toEqual(apps.map((app) => app.pid).sort());
    });

    it('pm2 reload replaces every instance and drops no request', async () => {
      const port = await freePort();
      pm2.run([
        'start',
        MAIN,
        '-i',
        String(Math.max(2, WORKERS)),
        '--name',
        'pm2-reload',
        '--wait-ready',
        '--listen-timeout',
        '10000',
        '--kill-timeout',
        '12000',
        '--',
        `--port=${port}`,
      ]);
      const before = (
        await online(Array(Math.max(2, WORKERS)).fill('pm2-reload'))
      ).map((app) => app.pid);
      await waitForHealth(port, { what: 'the app to serve' });

      const reload = spawnTracked(join(BIN, 'pm2'), ['reload', 'pm2-reload'], {
        env: { PM2_HOME: pm2.home },
      });
      const { sent, failures } = await freshConnectionLoad({
        port,
        path: '/api/randoms?cant=10000',
        loops: 2,
        until: reload.exited,
      });
      expect((await reload.exited).code).toBe(0);
      expect(failures).toEqual([]);
      expect(sent).toBeGreaterThan(10);
      const after = pm2.online('pm2-reload').map((app) => app.pid);
      expect(after).toHaveLength(before.length);
      expect(after.some((pid) => before.includes(pid))).toBe(false);
      await waitForExitOf(before);
    }, 90_000);
  });

  it('watch mode (ecosystem, PM2_WATCH=1): a change in dist/ restarts every instance', async () => {
    runTool(
      'pm2',
      ['start', 'ecosystem.config.cjs', '--only', PM2_CLUSTER_APP],
      {
        PM2_HOME: pm2.home,
        PM2_WATCH: '1',
      },
    );
    const before = await online(Array(WORKERS).fill(PM2_CLUSTER_APP));
    expect(before.length).toBe(WORKERS);
    await waitForHealth(PM2_CLUSTER_PORT);

    appendFileSync(
      MAIN,
      `\n// touched by the PM2 watch test at ${new Date().toISOString()}\n`,
    );
    const after = await waitFor(
      () => {
        const apps = pm2.online(PM2_CLUSTER_APP);
        return (
          apps.length === WORKERS &&
          apps.every((app) => !before.some((old) => old.pid === app.pid)) &&
          apps
        );
      },
      { timeoutMs: 30_000, what: 'every instance to restart after the change' },
    );
    expect(after.every((app) => app.pm2_env.restart_time >= 1)).toBe(true);
    await waitForHealth(PM2_CLUSTER_PORT, {
      what: `${PM2_CLUSTER_APP} to serve again`,
    });
  });
});
