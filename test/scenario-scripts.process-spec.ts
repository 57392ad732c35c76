import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { get, servedByOf } from './support/http.js';
import { freePort, SINGLE_PORT, UPSTREAM_PORTS } from './support/ports.js';
import { childEnv, ROOT, waitForExitOf } from './support/processes.js';
import { appOf, Pm2Sandbox } from './support/tools.js';
import { waitFor } from './support/wait.js';

function npmRun(script: string, env: NodeJS.ProcessEnv) {
  const result = spawnSync('npm', ['run', '--silent', script], {
    cwd: ROOT,
    env: childEnv(env),
    encoding: 'utf8',
    timeout: 90_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `npm run ${script} exited ${result.status}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

describe('one-command scenarios (npm run scenario:*)', () => {
  const pm2 = new Pm2Sandbox();
  afterAll(() => pm2.kill());

  it('scenario:upstream raises api-8080, api-8082..8085 and nginx; scenario:upstream:down ends them', async () => {
    const nginxPort = await freePort();
    const env = { PM2_HOME: pm2.home, NGINX_PORT: String(nginxPort) };
    try {
      npmRun('scenario:upstream', env);
      const apps = await waitFor(
        () => pm2.online().length === 5 && pm2.online(),
        {
          timeoutMs: 30_000,
          what: 'five PM2 apps online',
        },
      );
      expect(apps.map((app) => app.name).sort()).toEqual(
        [SINGLE_PORT, ...UPSTREAM_PORTS].map(appOf),
      );
      await waitFor(
        async () =>
          (await get(nginxPort, '/api/randoms?cant=10')).status === 200,
        {
          timeoutMs: 20_000,
          what: 'randoms through nginx',
        },
      );
      const ports = new Set<number>();
      for (let i = 0; i < 8; i++)
        ports.add(
          servedByOf(await get(nginxPort, '/api/randoms?cant=10')).port,
        );
      expect([...ports].sort()).toEqual(UPSTREAM_PORTS);
      expect(servedByOf(await get(nginxPort, '/info')).port).toBe(SINGLE_PORT);
    } finally {
      const pids = pm2
        .list()
        .map((app) => app.pid)
        .filter((pid) => pid > 0);
      npmRun('scenario:upstream:down', env);
      await waitForExitOf(pids);
    }
    await waitFor(
      () =>
        get(nginxPort, '/health', { timeoutMs: 1_000 }).then(
          () => false,
          () => true,
        ),
      { what: 'nginx to stop listening' },
    );
    expect(pm2.list()).toEqual([]);
  }, 120_000);
});
