import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, isAlive, ROOT } from './processes.js';
import { get } from './http.js';
import { waitFor } from './wait.js';

/** The upstream ports the shipped nginx files name; tests move only nginx's own `listen 80`. */
export const SINGLE_PORT = 8080;
export const NODE_CLUSTER_PORT = 8081;
export const UPSTREAM_PORTS = [8082, 8083, 8084, 8085];

export const NGINX =
  ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path)) ??
  'nginx';

export interface RunningNginx {
  port: number;
  config: string;
  stop(): Promise<void>;
}

/** The shipped config with only its `listen 80` moved to `port`, so the test needs no privileged port. */
export function configOnPort(file: string, port: number): string {
  const original = readFileSync(join(ROOT, 'nginx', file), 'utf8');
  const moved = original.replace(
    /^(\s*)listen\s+80(\s|;)/m,
    `$1listen 127.0.0.1:${port}$2`,
  );
  if (moved === original)
    throw new Error(`nginx/${file} has no "listen 80" to move`);
  return moved;
}

/** `nginx -t` on a config file: its exit status and what it printed (nginx writes to stderr). */
export function testConfig(path: string): {
  status: number | null;
  output: string;
} {
  const result = spawnSync(NGINX, ['-t', '-c', path], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Runs the real nginx binary with `file` from nginx/ on a free port, until stop(). */
export async function startNginx(file: string): Promise<RunningNginx> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lbs-nginx-'));
  const config = join(dir, file);
  writeFileSync(config, configOnPort(file, port));
  execFileSync(NGINX, ['-c', config], { stdio: 'pipe', timeout: 10_000 });
  const pidFile =
    /^\s*pid\s+([^;]+);/m.exec(readFileSync(config, 'utf8'))?.[1] ??
    '/run/nginx.pid';
  const masterPid = await waitFor(
    () => existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8').trim()),
    { timeoutMs: 5_000, what: 'the nginx pid file' },
  );
  await waitFor(
    async () =>
      (await get(port, '/nginx-health', { timeoutMs: 1_000 })).status > 0,
    {
      timeoutMs: 5_000,
      what: `nginx to listen on ${port}`,
    },
  );
  return {
    port,
    config,
    async stop() {
      try {
        execFileSync(NGINX, ['-s', 'quit', '-c', config], {
          stdio: 'pipe',
          timeout: 10_000,
        });
        await waitFor(() => !isAlive(masterPid), {
          timeoutMs: 10_000,
          what: 'nginx to quit',
        });
      } catch {
        try {
          process.kill(masterPid, 'SIGKILL');
        } catch {
          // already gone
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
