import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get } from './http.js';
import { freePort } from './ports.js';
import { onStopAll, ROOT, spawnTracked, type Spawned } from './processes.js';
import { waitFor } from './wait.js';

export const NGINX =
  ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path)) ??
  'nginx';

export interface RunningNginx {
  port: number;
  /** The config file it runs: the shipped one, `listen` and its own files moved. */
  config: string;
  process: Spawned;
}

/**
 * The shipped config with only its `listen 80` moved to `port` (no privileged
 * port needed) and its pid file, logs and temp folders moved into `dir` (two
 * runs on one machine do not share them).
 */
function configMoved(file: string, port: number, dir: string): string {
  const original = readFileSync(join(ROOT, 'nginx', file), 'utf8');
  const moved = original
    .replace(/^(\s*)listen\s+80(\s|;)/m, `$1listen 127.0.0.1:${port}$2`)
    .replaceAll('/tmp/nginx-', `${dir}/nginx-`);
  if (!moved.includes(`listen 127.0.0.1:${port}`))
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

/**
 * Runs the real nginx binary, in the foreground, with `file` from nginx/ on a
 * free port; the next stopAll() ends it and removes its folder.
 */
export async function startNginx(file: string): Promise<RunningNginx> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lbs-nginx-'));
  chmodSync(dir, 0o755); // nginx's workers (nobody) use the temp folders in it
  onStopAll(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, file);
  writeFileSync(config, configMoved(file, port, dir));
  const process = spawnTracked(NGINX, ['-c', config, '-g', 'daemon off;']);
  await waitFor(
    async () => {
      if (process.child.exitCode !== null)
        throw new Error(`nginx exited: ${process.output()}`);
      return (await get(port, '/nginx-health', { timeoutMs: 1_000 })).status;
    },
    { timeoutMs: 5_000, what: `nginx to listen on ${port}` },
  );
  return { port, config, process };
}
