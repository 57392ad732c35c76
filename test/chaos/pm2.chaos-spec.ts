import { afterAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { recordFigures } from '../support/report.js';
import { runLoad } from '../support/load.js';
import { PM2_CLUSTER_PORT, waitForFreePorts } from '../support/ports.js';
import {
  spawnTracked,
  stopAll,
  waitForExitOf,
  waitForHealth,
} from '../support/processes.js';
import { BIN, PM2_CLUSTER_APP as APP, Pm2Sandbox } from '../support/tools.js';
import { sleep, waitFor, withTimeout } from '../support/wait.js';

// ecosystem.config.cjs: PM2's own cluster mode, one instance per processor.
const PORT = PM2_CLUSTER_PORT;

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
    await waitForHealth(PORT);

    // The load runs from a second before the reload to a second after it.
    const load = runLoad({
      port: PORT,
      path: '/api/randoms?cant=20000',
      connections: 8,
      durationSec: 60,
    });
    await sleep(1_000);
    const reload = spawnTracked(join(BIN, 'pm2'), ['reload', APP], {
      env: { PM2_HOME: pm2.home },
    });
    const reloaded = await withTimeout(
      reload.exited,
      30_000,
      '`pm2 reload` to finish',
    ).finally(() => sleep(1_000).then(() => load.stop()));
    const result = await load;
    const after = pm2.online(APP).map((app) => app.pid);
    recordFigures({
      item: 3,
      name: `Rolling restart: \`pm2 reload ${APP}\` (PM2 cluster mode, ${before.length} instances) under load (cant=20000, 8 connections, ${result.durationSec.toFixed(1)} s)`,
      sent: result.sent,
      failed: result.failed,
      notes: `pm2 reload exited ${reloaded.code}; ${after.filter((pid) => !before.includes(pid)).length} of ${before.length} instances replaced; answers by instance ${JSON.stringify(result.byInstance)}`,
    });

    expect(reloaded.code).toBe(0);
    expect(result).toMatchObject({ failed: 0 });
    expect(result.sent).toBeGreaterThan(200);
    expect(after).toHaveLength(before.length);
    expect(after.some((pid) => before.includes(pid))).toBe(false);
    await waitForExitOf(before);
  }, 90_000);
});
