import { afterEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { getJson, servedByOf } from './support/http.js';
import { childPids, spawnServer, stopAll } from './support/processes.js';
import { waitFor, withTimeout } from './support/wait.js';

/** The local addresses with a socket listening on `port`, from the kernel's tables. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const LISTEN = '0A';
  return (['tcp', 'tcp6'] as const).flatMap((table) =>
    readFileSync(`/proc/net/${table}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter(
        ([, local, , state]) =>
          local?.endsWith(`:${hexPort}`) && state === LISTEN,
      )
      .map(([, local]) => decodeAddress(local.split(':')[0])),
  );
}

/** /proc/net/tcp writes addresses as little-endian 32-bit words in hex. */
function decodeAddress(hex: string): string {
  const words = hex
    .match(/.{8}/g)!
    .map((word) => word.match(/../g)!.reverse().join(''));
  if (words.length === 1)
    return words[0]
      .match(/../g)!
      .map((b) => parseInt(b, 16))
      .join('.');
  const groups = words
    .join('')
    .match(/.{4}/g)!
    .map((g) => parseInt(g, 16).toString(16));
  return groups.every((g) => g === '0') ? '::' : groups.join(':');
}

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

  it('binds every interface by default, and only the --host address when given', async () => {
    const everywhere = await spawnServer([]);
    expect(listeningAddresses(everywhere.port)).toEqual(['::']);
    const loopback = await spawnServer(['--host', '127.0.0.1']);
    expect(listeningAddresses(loopback.port)).toEqual(['127.0.0.1']);
    expect(loopback.output()).toContain(
      `listening on http://127.0.0.1:${loopback.port} as single`,
    );
  });

  // SIGTERM with a request in flight, FORK and CLUSTER: test/chaos/shutdown.chaos-spec.ts.

  it('draining, a connection accepted just before it stops listening still gets its answer', async () => {
    const server = await spawnServer([]);
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    const ended = new Promise<string>((resolve) => {
      socket.on('error', (error) => resolve(error.message));
      socket.on('close', () => resolve('closed'));
    });
    process.kill(server.pid, 'SIGTERM');
    // Once it stops listening a new connection is refused; the one held open,
    // accepted before, has not sent its request yet (Node 26's http close()
    // closes such a connection).
    await waitFor(() => refusesConnections(server.port), {
      intervalMs: 5,
      what: 'the server to stop listening',
    });
    socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await withTimeout(ended, 5_000, 'the answer')).toBe('closed');
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(reply).toMatch(/^connection: close\r$/im);
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });
});

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(port, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', () => resolve(true));
  });
}
