import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { getJson } from './support/http.js';
import { freePort } from './support/ports.js';
import {
  allWorkersListening,
  childEnv,
  MAIN,
  ROOT,
  spawnTracked,
  stopAll,
  waitForHealth,
} from './support/processes.js';

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    encoding: 'utf8',
    timeout: 10_000,
  });
}

describe('command line', () => {
  afterAll(stopAll);

  it.each([
    [['--mode=THREADS'], '--mode must be FORK or CLUSTER'],
    [
      ['--mode', 'cluster', '--workers', '0'],
      '--workers must be an integer from 1 to 1024',
    ],
    [['--port', '99999'], '--port must be an integer from 1 to 65535'],
    [['-p', 'http'], '--port must be an integer from 1 to 65535'],
    [['--prot', '8080'], 'unknown option --prot'],
    [['--host', 'example.com'], '--host must be an IPv4 or IPv6 address'],
  ])('%j prints one line naming the flag and exits 2', (args, message) => {
    const result = runCli(args);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a bad PORT environment variable is a usage error too', () => {
    const result = runCli([], { PORT: 'eighty' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /^error: PORT must be an integer from 1 to 65535, got "eighty"/,
    );
  });

  it('--help prints the usage and exits 0', () => {
    const result = runCli(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^Usage: node dist\/main.js \[--port\|-p N\] \[--mode FORK\|CLUSTER\]/,
    );
    for (const flag of ['--port', '--mode', '--workers', '--host', '--help'])
      expect(result.stdout).toContain(flag);
  });

  it('PORT from the environment is used when no flag is given', async () => {
    const port = await freePort();
    const server = spawnTracked(process.execPath, [MAIN], {
      env: { PORT: String(port) },
    });
    await waitForHealth(port, { of: server });
    const { json } = await getJson<{ port: number; mode: string }>(
      port,
      '/api/info',
    );
    expect(json).toMatchObject({ port, mode: 'FORK' });
    expect((await server.stop()).code).toBe(0);
  });

  it('`nest start -- --mode=CLUSTER --port=N` builds and runs a cluster', async () => {
    const port = await freePort();
    const nest = spawnTracked(process.execPath, [
      `${ROOT}/node_modules/@nestjs/cli/bin/nest.js`,
      'start',
      '--',
      '--mode=CLUSTER',
      `--port=${port}`,
    ]);
    await waitForHealth(port, { timeoutMs: 60_000, of: nest });
    const { json } = await getJson<{
      port: number;
      mode: string;
      role: string;
    }>(port, '/api/info');
    expect(json).toMatchObject({
      port,
      mode: 'CLUSTER',
      role: expect.stringMatching(/^cluster worker \d+$/),
    });
    // /health answers as soon as one worker listens; the primary's summary
    // follows once the last one does.
    await allWorkersListening(nest);
    expect(nest.output()).toMatch(
      /"role":"primary".*all \d+ worker\(s\) listening/,
    );
    await nest.stop();
  }, 90_000);
});
