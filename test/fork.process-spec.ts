import { afterEach, describe, expect, it } from '@jest/globals';
import { get, getJson, servedBy } from './support/http.js';
import {
  childPids,
  isAlive,
  startServer,
  stopAll,
} from './support/processes.js';
import { cpuSeconds } from './support/proc-stats.js';
import { waitFor } from './support/wait.js';

describe('FORK mode, as a real process', () => {
  afterEach(stopAll);

  it('serves on the given port from one process', async () => {
    const server = await startServer(['--mode', 'fork']);
    const res = await getJson<{ pid: number; mode: string; role: string }>(
      server.port,
      '/api/info',
    );
    expect(res.json).toMatchObject({
      pid: server.pid,
      mode: 'FORK',
      role: 'single',
    });
    expect(servedBy(res)).toEqual({ port: server.port, pid: server.pid });
    // No node:cluster workers: its only children, if any, would be threads, not processes.
    expect(childPids(server.pid)).toEqual([]);
  });

  it('on SIGTERM drains the request in flight, then exits 0', async () => {
    const server = await startServer([]);
    const booted = cpuSeconds([server.pid]);
    let answeredAt = Infinity;
    const inFlight = get(server.port, '/api/randoms?cant=1000000000', {
      timeoutMs: 30_000,
    }).then((res) => {
      answeredAt = performance.now();
      return res;
    });
    // The server holds the request once its compute threads are busy on it.
    await waitFor(() => cpuSeconds([server.pid]) > booted + 0.2, {
      what: 'the request to be computing',
    });
    const signalledAt = performance.now();
    process.kill(server.pid, 'SIGTERM');
    const res = await inFlight;
    expect(answeredAt).toBeGreaterThan(signalledAt);
    expect(res.status).toBe(200);
    const counts = JSON.parse(res.body) as Record<string, number>;
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(
      1_000_000_000,
    );
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(isAlive(server.pid)).toBe(false);
  });
});
