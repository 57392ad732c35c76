import { afterAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { recordChaos } from '../support/chaos-report.js';
import { get } from '../support/http.js';
import { runLoad } from '../support/load.js';
import { sleep, waitForFreePorts } from '../support/proc-stats.js';
import { spawnTracked, stopAll, waitForExitOf } from '../support/processes.js';
import { BIN, Pm2Sandbox } from '../support/tools.js';
import { waitFor, withTimeout } from '../support/wait.js';

// ecosystem.config.cjs: PM2's own cluster mode, one instance per processor, on 8086.
const APP = 'api-pm2-cluster';
const PORT = 8086;

describe('chaos, PM2 cluster mode (ecosystem.config.cjs)', () => {
  const pm2 = new Pm2Sandbox();

  afterAll(async () => {
    await stopAll();
    pm2.kill();
  });

  it('`pm2 reload` under load replaces every instance with no failed request', async () => {
    await waitForFreePorts([PORT]);
    pm2.run(['start', 'ecosystem.config.cjs', '--only', APP]);
    const before = await waitFor(
      () => {
        const apps = pm2.online(APP);
        return apps.length >= 2 && apps.map((app) => app.pid);
      },
      { timeoutMs: 30_000, what: `${APP} online` },
    );
    await waitFor(async () => (await get(PORT, '/health')).status === 200, {
      what: `${PORT} to serve`,
    });

    let loadEndedAt = Infinity;
    const load = runLoad({
      port: PORT,
      path: '/api/randoms?cant=20000',
      connections: 8,
      durationSec: 9,
    }).finally(() => (loadEndedAt = Date.now()));
    await sleep(1_000);
    const reload = spawnTracked(join(BIN, 'pm2'), ['reload', APP], {
      env: { PM2_HOME: pm2.home },
    });
    const reloaded = await withTimeout(
      reload.exited,
      30_000,
      '`pm2 reload` to finish',
    );
    const reloadedAt = Date.now();
    const result = await load;
    const after = pm2.online(APP).map((app) => app.pid);
    recordChaos({
      item: 3,
      name: `Rolling restart: \`pm2 reload ${APP}\` (PM2 cluster mode, ${before.length} instances) under load (cant=20000, 8 connections, 9 s)`,
      sent: result.sent,
      failed: result.failed,
      notes: `pm2 reload exited ${reloaded.code}; ${after.filter((pid) => !before.includes(pid)).length} of ${before.length} instances replaced; answers by instance ${JSON.stringify(result.servedBy)}`,
    });

    expect(reloaded.code).toBe(0);
    expect(result).toMatchObject({ failed: 0 });
    expect(result.sent).toBeGreaterThan(200);
    expect(reloadedAt).toBeLessThan(loadEndedAt); // the whole reload ran under load
    expect(after).toHaveLength(before.length);
    expect(after.some((pid) => before.includes(pid))).toBe(false);
    await waitForExitOf(before);
  }, 90_000);
});
