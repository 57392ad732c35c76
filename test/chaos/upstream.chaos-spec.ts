import { afterEach, describe, expect, it } from '@jest/globals';
import { recordFigures } from '../support/report.js';
import { get } from '../support/http.js';
import { runLoad } from '../support/load.js';
import { AccessLog } from '../support/nginx-log.js';
import { startNginx } from '../support/nginx.js';
import {
  SINGLE_PORT,
  UPSTREAM_PORTS,
  waitForFreePorts,
} from '../support/ports.js';
import { isAlive, spawnServer, stopAll } from '../support/processes.js';
import { sleep } from '../support/wait.js';

afterEach(stopAll);

describe('chaos, scenario 2 (nginx/randoms-to-upstream.conf)', () => {
  it('an instance SIGKILLed under load costs no request: nginx retries elsewhere and stops sending to it', async () => {
    await waitForFreePorts([SINGLE_PORT, ...UPSTREAM_PORTS]);
    await spawnServer(['--mode=FORK'], { port: SINGLE_PORT });
    const instances = await Promise.all(
      UPSTREAM_PORTS.map((port) => spawnServer(['--mode=FORK'], { port })),
    );
    const nginx = await startNginx('randoms-to-upstream.conf');
    const log = AccessLog.of(nginx.config);
    const victim = instances[1];

    const load = runLoad({
      port: nginx.port,
      path: '/api/randoms?cant=20000',
      connections: 8,
      durationSec: 5,
    });
    await sleep(1_500);
    process.kill(victim.pid, 'SIGKILL');
    const killedAt = Date.now();
    const result = await load;
    const afterKill = (Date.now() - killedAt) / 1000;

    const dead = `127.0.0.1:${victim.port}`;
    const randoms = log
      .entries()
      .filter((entry) => entry.path.startsWith('/api/randoms'));
    // Alive, the victim never failed: every try of it that failed (and was
    // retried on the next instance) came after the kill.
    const retried = randoms.filter(
      (entry) =>
        entry.upstreams.includes(dead) && entry.upstreams.at(-1) !== dead,
    );
    recordFigures({
      item: 1,
      name: 'Instance death behind nginx: 1 of 4 upstream instances SIGKILLed mid-run (cant=20000, 8 connections, 5 s)',
      sent: result.sent,
      failed: result.failed,
      notes: `nginx tried the dead :${victim.port} ${retried.length} time(s) in the ${afterKill.toFixed(1)} s after the kill, each retried on another instance, out of ${randoms.length} proxied requests`,
    });

    expect(isAlive(victim.pid)).toBe(false);
    // On failure Jest prints the whole result: refused statuses, errors, timeouts, lost.
    expect(result).toMatchObject({ failed: 0 });
    expect(result.sent).toBeGreaterThan(200);
    expect(retried.length).toBeGreaterThanOrEqual(1);
    // The requests that were on it, then marked down after 2 failures for
    // fail_timeout=2s, then one probe every 2 s: a handful of tries, not a
    // quarter of the traffic.
    expect(retried.length).toBeLessThanOrEqual(15);
    expect((await get(nginx.port, '/api/randoms?cant=1000')).status).toBe(200);
  }, 60_000);
});
