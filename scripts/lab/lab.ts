// The lab: hosts made of Linux network namespaces on one bridge, the app on each, nginx in
// the root namespace balancing them with the config `npm run nginx:hosts` renders. Used by
// `npm run lab:up|status|down` (scripts/lab/cli.ts) and by the scale-out suite.
//
// Addresses: <net>.1 is the bridge (where nginx and the clients meet), host K is <net>.(10+K),
// client J is <net>.(100+J). Nothing outside this /24 is ever a target. Root only.
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { renderSite } from '../nginx/config.js';
import { hostsSite, NODE_CLUSTER_PORT, SINGLE_PORT } from '../nginx/sites.js';

export interface LabOptions {
  /** Prefix of every name the lab makes (namespaces, links): `lbs` for the CLI. */
  prefix: string;
  /** The /24 it owns, as its first three octets: `10.213.0`. */
  net: string;
  /** Its pid, logs and config files. */
  dir: string;
  nginxPort: number;
  /** The server to run on each host: dist/main.js. */
  main: string;
  /** CLUSTER workers per host (default: the processors). */
  workers?: number;
}

/** Marks the lab's processes, so that teardown finds them even when their namespace is gone. */
const LAB_ENV = 'LBS_LAB';
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find(existsSync) ?? 'nginx';

const ip = (...args: string[]): string =>
  execFileSync('ip', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

/** Like ip(), for teardown: what is already gone is fine. */
const ipQuiet = (...args: string[]): void => {
  try {
    ip(...args);
  } catch {
    // already gone
  }
};

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export class Lab {
  constructor(readonly options: LabOptions) {}

  get bridge(): string {
    return `${this.options.prefix}-br0`;
  }

  get gateway(): string {
    return `${this.options.net}.1`;
  }

  get config(): string {
    return join(this.options.dir, 'nginx.conf');
  }

  hostNs = (k: number): string => `${this.options.prefix}-h${k}`;
  hostAddress = (k: number): string => `${this.options.net}.${10 + k}`;
  clientNs = (j: number): string => `${this.options.prefix}-c${j}`;
  clientAddress = (j: number): string => `${this.options.net}.${100 + j}`;

  /** The hosts that exist now, by number. */
  hosts(): number[] {
    return this.namespaces()
      .map((ns) => new RegExp(`^${this.options.prefix}-h(\\d+)$`).exec(ns))
      .filter((match) => match !== null)
      .map((match) => Number(match[1]))
      .sort((a, b) => a - b);
  }

  /** From nothing (whatever an earlier run left is removed first) to `hosts` serving behind nginx. */
  async up(hosts: number): Promise<void> {
    this.down();
    mkdirSync(this.options.dir, { recursive: true });
    chmodSync(this.options.dir, 0o755); // nginx's workers (nobody) use its temp folders
    const taken = ip('-4', 'route', 'show', 'to', 'match', this.gateway)
      .split('\n')
      .filter((route) => route && !route.startsWith('default'))
      .join('; ');
    if (taken) {
      throw new Error(
        `${this.options.net}.0/24 is already routed here (${taken}): the lab needs it for itself`,
      );
    }
    // A fixed MAC: a bridge otherwise takes its lowest port's, which changes as hosts come and go.
    ip('link', 'add', this.bridge, 'address', mac(0, 1), 'type', 'bridge');
    ip('addr', 'add', `${this.gateway}/24`, 'dev', this.bridge);
    ip('link', 'set', this.bridge, 'up');
    const all = Array.from({ length: hosts }, (_, i) => i + 1);
    for (const k of all)
      this.addNode(this.hostNs(k), this.hostAddress(k), mac(1, k));
    for (const k of all) this.startApps(k);
    await Promise.all(all.map((k) => this.waitServing(k)));
    this.renderNginx(all);
    execFileSync(NGINX, ['-t', '-q', '-c', this.config], { stdio: 'pipe' });
    execFileSync(NGINX, ['-c', this.config], { stdio: 'pipe' });
    await waitFor(() => this.nginxAnswers(), 10_000, 'nginx to listen');
  }

  /** A namespace with one veth on the bridge. */
  private addNode(ns: string, address: string, hw: string): void {
    ip('netns', 'add', ns);
    ip(
      'link',
      'add',
      `${ns}-r`,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'address',
      hw,
      'netns',
      ns,
    );
    ip('link', 'set', `${ns}-r`, 'master', this.bridge, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    // A permanent neighbour entry: with its link down, a host's connects then time out, as a
    // partitioned machine's do, instead of failing with EHOSTUNREACH once ARP gives up.
    ip(
      'neigh',
      'replace',
      address,
      'lladdr',
      hw,
      'dev',
      this.bridge,
      'nud',
      'permanent',
    );
  }

  /** A new host K, serving; nginx learns of it only from renderNginx() and reloadNginx(). */
  async addHost(k: number): Promise<void> {
    this.addNode(this.hostNs(k), this.hostAddress(k), mac(1, k));
    this.startApps(k);
    await this.waitServing(k);
  }

  /** A client namespace J, on the bridge, with no server: nginx sees its own address. */
  addClient(j: number): void {
    this.addNode(this.clientNs(j), this.clientAddress(j), mac(2, j));
  }

  /** The app on host K: a node cluster on 8081, and on host 1 the single server on 8080 too. */
  startApps(k: number): void {
    const { main, workers, dir } = this.options;
    const runs: string[][] = [
      [
        `--port=${NODE_CLUSTER_PORT}`,
        '--mode=CLUSTER',
        ...(workers ? [`--workers=${workers}`] : []),
      ],
      ...(k === 1 ? [[`--port=${SINGLE_PORT}`, '--mode=FORK']] : []),
    ];
    for (const args of runs) {
      const log = openSync(join(dir, `${this.hostNs(k)}.log`), 'a');
      const child = spawn(
        'ip',
        ['netns', 'exec', this.hostNs(k), process.execPath, main, ...args],
        {
          detached: true,
          stdio: ['ignore', log, log],
          env: {
            PATH: process.env.PATH,
            NO_COLOR: '1',
            TRUST_PROXY: this.gateway,
            [LAB_ENV]: this.options.prefix,
          },
        },
      );
      child.unref();
    }
  }

  /** Waits (bounded) until every app of host K answers /health on its own address. */
  async waitServing(k: number, timeoutMs = 60_000): Promise<void> {
    const ports =
      k === 1 ? [NODE_CLUSTER_PORT, SINGLE_PORT] : [NODE_CLUSTER_PORT];
    await waitFor(
      async () =>
        (
          await Promise.all(
            ports.map((port) => healthy(`${this.hostAddress(k)}:${port}`)),
          )
        ).every(Boolean),
      timeoutMs,
      `host ${k} to serve`,
    );
  }

  /** Processes running in host K's namespace (or client J's). */
  pids(ns: string): number[] {
    try {
      return ip('netns', 'pids', ns)
        .split('\n')
        .filter(Boolean)
        .map(Number)
        .filter(isAlive);
    } catch {
      return [];
    }
  }

  /** Every process of host K, at once, with `signal`. */
  signalHost(k: number, signal: NodeJS.Signals): number[] {
    const pids = this.pids(this.hostNs(k));
    for (const pid of pids) kill(pid, signal);
    return pids;
  }

  /** Host K's apps drain and exit (SIGTERM), bounded; what is left is killed. */
  async stopHost(k: number, timeoutMs = 15_000): Promise<void> {
    this.signalHost(k, 'SIGTERM');
    const gone = await waitFor(
      () => this.pids(this.hostNs(k)).length === 0,
      timeoutMs,
      `host ${k} to stop`,
    ).then(
      () => true,
      () => false,
    );
    if (!gone) this.signalHost(k, 'SIGKILL');
  }

  /** Host K unreachable: its link goes down, so connects to it time out. */
  partition(k: number): void {
    ip('link', 'set', `${this.hostNs(k)}-r`, 'down');
  }

  heal(k: number): void {
    ip('link', 'set', `${this.hostNs(k)}-r`, 'up');
  }

  /** Writes nginx's config for `hosts` (npm run nginx:hosts renders the same). */
  renderNginx(hosts: number[]): void {
    const site = hostsSite({
      name: `${this.options.prefix}-lab`,
      listen: String(this.options.nginxPort),
      randoms: hosts.map((k) => `${this.hostAddress(k)}:${NODE_CLUSTER_PORT}`),
      rest: [`${this.hostAddress(1)}:${SINGLE_PORT}`],
    });
    writeFileSync(this.config, renderSite({ ...site, dir: this.options.dir }));
  }

  /** nginx -t, then -s reload: the running nginx takes the new config without dropping a request. */
  reloadNginx(): void {
    execFileSync(NGINX, ['-t', '-q', '-c', this.config], { stdio: 'pipe' });
    execFileSync(NGINX, ['-s', 'reload', '-c', this.config], { stdio: 'pipe' });
  }

  nginxPid(): number | undefined {
    const file = join(this.options.dir, `nginx-${this.options.prefix}-lab.pid`);
    const pid = existsSync(file)
      ? Number(readFileSync(file, 'utf8').trim())
      : NaN;
    return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
  }

  /** nginx's access log, as written so far. */
  accessLog(): string {
    const file = join(
      this.options.dir,
      `nginx-${this.options.prefix}-lab.access.log`,
    );
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  private async nginxAnswers(): Promise<boolean> {
    return healthy(`127.0.0.1:${this.options.nginxPort}`, '/nginx-health');
  }

  /** Everything the lab made goes; safe to run twice, or after a crash. */
  down(): void {
    const nginx = this.nginxPid();
    if (nginx !== undefined) kill(nginx, 'SIGTERM');
    // Processes first: a namespace deleted under running processes lives on, out of sight.
    for (const pid of this.labProcesses()) kill(pid, 'SIGKILL');
    for (const ns of this.namespaces()) {
      for (const pid of this.pids(ns)) kill(pid, 'SIGKILL');
      ipQuiet('netns', 'del', ns);
    }
    const links = ipOrEmpty('-o', 'link', 'show')
      .split('\n')
      .map((line) => /^\d+:\s+([^:@]+)/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined)
      .filter(
        (name) =>
          name === this.bridge ||
          new RegExp(`^${this.options.prefix}-[hc]\\d+-r$`).test(name),
      );
    for (const link of links) ipQuiet('link', 'del', link);
    if (nginx !== undefined) waitForSync(() => !isAlive(nginx), 5_000);
    rmSync(this.options.dir, { recursive: true, force: true });
  }

  /** The lab's namespaces, by name. */
  private namespaces(): string[] {
    return ipOrEmpty('netns', 'list')
      .split('\n')
      .map((line) => line.split(' ')[0])
      .filter((ns) => new RegExp(`^${this.options.prefix}-[hc]\\d+$`).test(ns));
  }

  /** Processes started by this lab (marked in their environment), wherever they are. */
  private labProcesses(): number[] {
    const mark = `${LAB_ENV}=${this.options.prefix}\0`;
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(mark);
        } catch {
          return false;
        }
      });
  }

  /** The port the running config listens on (lab:up's NGINX_PORT), not this shell's. */
  private nginxListen(): string {
    const config = existsSync(this.config)
      ? readFileSync(this.config, 'utf8')
      : '';
    return (
      /^\s*listen\s+(\S+?)[\s;]/m.exec(config)?.[1] ??
      String(this.options.nginxPort)
    );
  }

  /** What runs where, and where nginx sent the last requests. */
  async status(): Promise<string> {
    const lines: string[] = [];
    const hosts = this.hosts();
    if (hosts.length === 0) return 'no lab is up (npm run lab:up)';
    lines.push(
      `bridge ${this.bridge} ${this.gateway}/24; nginx ${this.nginxPid() ? `pid ${this.nginxPid()}` : 'not running'} on port ${this.nginxListen()} (${this.config})`,
    );
    for (const k of hosts) {
      const link = ipOrEmpty(
        '-o',
        'link',
        'show',
        `${this.hostNs(k)}-r`,
      ).includes('state UP')
        ? 'up'
        : 'DOWN';
      const ports =
        k === 1 ? [NODE_CLUSTER_PORT, SINGLE_PORT] : [NODE_CLUSTER_PORT];
      const health = await Promise.all(
        ports.map(
          async (port) =>
            `${port} ${(await healthy(`${this.hostAddress(k)}:${port}`)) ? 'ok' : 'down'}`,
        ),
      );
      lines.push(
        `host ${k}: ${this.hostNs(k)} ${this.hostAddress(k)}, link ${link}, ${health.join(', ')}`,
      );
      for (const pid of this.pids(this.hostNs(k)))
        lines.push(`  ${pid} ${processLine(pid)}`);
    }
    const recent = this.accessLog().trim().split('\n').slice(-300);
    const served = new Map<string, number>();
    for (const line of recent) {
      const peer = /upstream=(\S+?),? ustatus/.exec(line)?.[1];
      if (peer && /^\d/.test(peer))
        served.set(peer, (served.get(peer) ?? 0) + 1);
    }
    lines.push(
      `nginx sent its last ${recent.filter(Boolean).length} requests to: ${[...served].map(([peer, n]) => `${peer} ×${n}`).join(', ') || 'none yet'}`,
    );
    return lines.join('\n');
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // exited meanwhile
  }
}

/** `02:d5:00:00:<kind>:<n>`: the lab's own locally administered MACs. */
function mac(kind: number, n: number): string {
  return `02:d5:00:00:${kind.toString(16).padStart(2, '0')}:${n.toString(16).padStart(2, '0')}`;
}

/** ip's output, or nothing when what it looks at does not exist. */
function ipOrEmpty(...args: string[]): string {
  try {
    return ip(...args);
  } catch {
    return '';
  }
}

function processLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .join(' ')
      .trim();
  } catch {
    return '(exited)';
  }
}

async function healthy(hostPort: string, path = '/health'): Promise<boolean> {
  try {
    const res = await fetch(`http://${hostPort}${path}`, {
      signal: AbortSignal.timeout(1_000),
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function waitForSync(check: () => boolean, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) execFileSync('sleep', ['0.05']);
}
