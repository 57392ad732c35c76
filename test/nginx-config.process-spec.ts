import { afterEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderSite } from '../scripts/nginx/config.js';
import { SHIPPED_SITES } from '../scripts/nginx/sites.js';
import { get } from './support/http.js';
import { NGINX, testConfig } from './support/nginx.js';
import { freePort } from './support/ports.js';
import {
  childEnv,
  onStopAll,
  ROOT,
  spawnTracked,
  stopAll,
} from './support/processes.js';
import { waitFor } from './support/wait.js';

/** `npm run -s nginx:hosts -- <args>`, as README writes it. */
function nginxHosts(args: string[]) {
  return spawnSync('npm', ['run', '-s', 'nginx:hosts', '--', ...args], {
    cwd: ROOT,
    env: childEnv(),
    encoding: 'utf8',
    timeout: 30_000,
  });
}

/** A folder nginx's workers (nobody) can use, removed at stopAll(). */
function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lbs-nginx-hosts-'));
  chmodSync(dir, 0o755);
  onStopAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

afterEach(stopAll);

describe('nginx/*.conf, renderings of one generator', () => {
  it.each(SHIPPED_SITES.map((site) => [site.name, site] as const))(
    'nginx/%s.conf is exactly what scripts/nginx renders (npm run nginx:render)',
    (name, site) => {
      const shipped = readFileSync(join(ROOT, 'nginx', `${name}.conf`), 'utf8');
      expect(shipped).toBe(renderSite(site));
    },
  );

  it.each(SHIPPED_SITES.map((site) => site.name))(
    'nginx/%s.conf passes `nginx -t` as shipped',
    (name) => {
      const { status, output } = testConfig(
        join(ROOT, 'nginx', `${name}.conf`),
      );
      expect(output).toContain('syntax is ok');
      expect(output).toContain('test is successful');
      expect(status).toBe(0);
    },
  );
});

describe('npm run -s nginx:hosts', () => {
  it('prints a complete config for the hosts given, which nginx accepts', () => {
    const result = nginxHosts([
      '--listen=8090',
      '--randoms=10.0.0.1:8081,10.0.0.2:8081,[fd00::3]:8081',
      '--rest=app1.internal:8080',
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const config = result.stdout;
    expect(config).toContain('listen 8090 default_server;');
    for (const peer of ['10.0.0.1:8081', '10.0.0.2:8081', '[fd00::3]:8081'])
      expect(config).toContain(`server ${peer} max_fails=2 fail_timeout=2s;`);
    expect(config).toContain('proxy_next_upstream_tries 3;');
    expect(config).toMatch(/^\s+server app1\.internal:8080;$/m);
    expect(config).toContain('/tmp/nginx-randoms-to-hosts.pid');
  });

  it('--name and --out: two renderings run side by side, each with its own pid, logs and temp paths', async () => {
    const dir = workDir();
    const running: number[] = [];
    for (const name of ['site-a', 'site-b']) {
      const port = await freePort();
      const out = join(dir, `${name}.conf`);
      const result = nginxHosts([
        `--listen=127.0.0.1:${port}`,
        '--randoms=127.0.0.1:9',
        '--rest=127.0.0.1:9',
        `--name=${name}`,
        `--out=${out}`,
      ]);
      expect(result.status).toBe(0);
      expect(result.stdout).toBe('');
      const config = readFileSync(out, 'utf8').replaceAll('/tmp/', `${dir}/`);
      expect(config).toContain(`pid ${dir}/nginx-${name}.pid;`);
      const moved = join(dir, `moved-${name}.conf`);
      writeFileSync(moved, config);
      expect(testConfig(moved).status).toBe(0);
      spawnTracked(NGINX, ['-c', moved, '-g', 'daemon off;']);
      running.push(port);
    }
    for (const port of running) {
      await waitFor(
        async () => (await get(port, '/nginx-health')).status === 200,
        { what: `the nginx on ${port}` },
      );
    }
  });

  it.each([
    [
      ['--randoms=10.0.0.1:8081', '--rest=10.0.0.1:8080'],
      '--listen is required',
    ],
    [['--listen=80', '--rest=10.0.0.1:8080'], '--randoms is required'],
    [
      ['--listen=80', '--randoms=10.0.0.1', '--rest=10.0.0.1:8080'],
      '--randoms takes HOST:PORT entries',
    ],
    [
      ['--listen=80', '--randoms=10.0.0.1:99999', '--rest=10.0.0.1:8080'],
      'needs a port from 1 to 65535',
    ],
    [
      ['--listen=80', '--randoms=bad_host!:8081', '--rest=10.0.0.1:8080'],
      '--randoms takes HOST:PORT entries',
    ],
    [['--listen=0', '--randoms=a:1', '--rest=a:1'], '--listen needs a port'],
    [['--listen=80', '--randoms=a:1', '--rest=a:1', '--name=../x'], '--name'],
    [
      ['--listen=80', '--randoms=a:1', '--rest=a:1', '--hosts=3'],
      'Unknown option',
    ],
  ])('%j prints one line on stderr and exits 2', (args, message) => {
    const result = nginxHosts(args);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toContain(message);
  });
});
