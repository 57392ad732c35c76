import { afterEach, describe, expect, it } from '@jest/globals';
import { recordFigures } from '../support/report.js';
import { get, sumCounts } from '../support/http.js';
import { cpuSeconds, processTree } from '../support/proc-stats.js';
import {
  allWorkersListening,
  isAlive,
  spawnServer,
  stopAll,
  waitForExitOf,
} from '../support/processes.js';
import { waitFor, withTimeout } from '../support/wait.js';

const CANT = 1_000_000_000;

afterEach(stopAll);

describe('chaos, graceful shutdown', () => {
  it.each(['FORK', 'CLUSTER'])(
    'SIGTERM to a %s server with cant=1000000000 in flight: the answer completes with the right sum, then everything exits 0',
    async (mode) => {
      const server = await spawnServer([`--mode=${mode}`, '--workers=2']);
      // Every worker done starting, so that the CPU counted below is the request's.
      if (mode === 'CLUSTER') await allWorkersListening(server);
      const tree = processTree(server.pid);
      const booted = cpuSeconds(tree);
      let answeredAt = Infinity;
      const inFlight = get(server.port, `/api/randoms?cant=${CANT}`, {
        timeoutMs: 30_000,
      }).finally(() => (answeredAt = performance.now()));
      // In flight for certain: the server's threads have burnt CPU on it.
      await waitFor(() => cpuSeconds(tree) > booted + 0.1, {
        intervalMs: 10,
        what: 'the request to be computing',
      });
      const signalledAt = performance.now();
      process.kill(server.pid, 'SIGTERM');
      const res = await inFlight;
      const exit = await withTimeout(server.exited, 15_000, 'the exit');
      await waitForExitOf(tree);
      const total = res.status === 200 ? sumCounts(res.body) : 0;
      recordFigures({
        item: 4,
        name: `Graceful shutdown: SIGTERM to a ${mode} server with a cant=${CANT} request in flight`,
        sent: 1,
        failed: res.status === 200 && total === CANT ? 0 : 1,
        notes: `answered ${res.status} with ${total} draws ${((answeredAt - signalledAt) / 1000).toFixed(2)} s after the signal; exit ${JSON.stringify(exit)}; ${tree.filter(isAlive).length} of ${tree.length} processes left`,
      });

      expect(answeredAt).toBeGreaterThan(signalledAt);
      expect(res.status).toBe(200);
      expect(total).toBe(CANT);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(tree.filter(isAlive)).toEqual([]);
    },
  );
});
