import { afterEach, describe, expect, it } from '@jest/globals';
import { getJson, servedByOf } from './support/http.js';
import { childPids, spawnServer, stopAll } from './support/processes.js';

describe('FORK mode, as a real process', () => {
  afterEach(stopAll);

  it('serves on the given port from one process', async () => {
    const server = await spawnServer(['--mode', 'fork']);
    const res = await getJson<{ pid: number; mode: string; role: string }>(
      server.port,
      '/api/info',
    );
    expect(res.json).toMatchObject({
      pid: server.pid,
      mode: 'FORK',
      role: 'single',
    });
    expect(servedByOf(res)).toEqual({ port: server.port, pid: server.pid });
    // No node:cluster workers: its only children, if any, would be threads, not processes.
    expect(childPids(server.pid)).toEqual([]);
  });

  // SIGTERM with a request in flight, FORK and CLUSTER: test/chaos/shutdown.chaos-spec.ts.
});
