// What the bench measures: blocks, each taking its two columns' figures in turn
// on processes started fresh (run.ts stops them), and the table rows they fill.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileCountKernel } from '../src/randoms/count-kernel.js';
import { wasmCounter } from '../src/randoms/count-wasm.js';
import { get, type HttpResult } from '../test/support/http.js';
import { servedByOf, sumCounts } from '../test/support/http.js';
import { runLoad, type LoadResult } from '../test/support/load.js';
import { startNginx } from '../test/support/nginx.js';
import * as ports from '../test/support/ports.js';
import { cpuSeconds, processTree } from '../test/support/proc-stats.js';
import { rssBytes, watchMax } from '../test/support/proc-stats.js';
import * as processes from '../test/support/processes.js';
import { sleep } from '../test/support/wait.js';

export type Side = 'ours' | 'base';
export type Figures = Record<string, number | undefined>;

/** Each workload as [full, quick]: the quick profile is a smoke run. */
const WORKLOADS = {
  cant: [1e8, 1e7],
  repeats: [5, 1],
  clusterCant: [2e7, 2e6],
  busyCant: [5e8, 5e8],
  loadS: [5, 1],
  smallS: [10, 2],
  floodWindowS: [15, 4],
};
export type Profile = Record<keyof typeof WORKLOADS, number>;
export const profileOf = (quick: boolean): Profile =>
  Object.fromEntries(
    Object.entries(WORKLOADS).map(([k, v]) => [k, v[+quick]]),
  ) as Profile;

export interface Context {
  profile: Profile;
  side: Side;
  /** The column's server: our build (dist/ copied aside for the run) or the reference. */
  main: string;
  /** The file the servers log to, as in production. */
  logs: number;
  log(line: string): void;
  note(line: string): void;
}

export interface Row {
  id: string;
  unit: 'ms' | 'rps' | 'MiB' | '×' | 'ns' | '';
  /** From the block's figures, or any block's of the same column and round. */
  value: (f: Figures, column: Record<string, Figures>) => number | undefined;
  /** The ratio judged: ours ÷ base, or base ÷ ours for times, or the block's own from both columns' figures. */
  ratio?: 'base/ours' | ((ours: Figures, base: Figures) => number);
  /** On the ratio (`≥ 5×`) or on ours (`< 20`); none: the row reports. */
  target?: string;
  label: string;
}

export interface Block {
  id: string;
  /** The columns' names; the baseline runs bench/reference-server.js unless `baseline` says. */
  names: [string, string];
  baseline?: string;
  measure(ctx: Context): Promise<Figures | undefined>;
  rows: Row[];
}

const mib = (pid: number): number => rssBytes(processTree(pid)) / 2 ** 20;
const median = (values: number[]): number => quantile(values, 0.5);

export function quantile(values: number[], q: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const [low, high] = [sorted[Math.floor(at)], sorted[Math.ceil(at)]];
  return low + (high - low) * (at % 1);
}

/** The column's server in `mode`, timed from spawn to its first /health answer. */
const serverOf = (
  ctx: Context,
  mode = 'FORK',
  { env = {}, port }: { env?: NodeJS.ProcessEnv; port?: number } = {},
): Promise<processes.ServerProcess> =>
  processes.spawnServer(['--mode', mode], {
    main: ctx.main,
    env,
    port,
    outputTo: ctx.logs,
    intervalMs: 20,
    timeoutMs: 30_000,
  });

/** A 200 on a fresh connection, with `cant` draws when given. */
async function answer(
  port: number,
  path: string,
  cant = 0,
): Promise<{ ms: number; pid: number }> {
  const res = await get(port, path, { timeoutMs: 300_000 });
  if (res.status !== 200 || (cant && sumCounts(res.body) !== cant))
    throw new Error(`GET ${path}: ${res.status} ${res.body.slice(0, 200)}`);
  return { ms: res.ms, pid: servedByOf(res).pid };
}
const timed = async (run: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await run();
  return performance.now() - started;
};
const randoms = async (port: number, cant: number): Promise<number> =>
  (await answer(port, `/api/randoms?cant=${cant}`, cant)).ms;

/** Ten requests or more, until every serving process has answered. */
async function warmUp(port: number, processCount = 1): Promise<void> {
  const seen = new Set<number>();
  for (let i = 0; i < 10 || seen.size < processCount; i++)
    seen.add((await answer(port, i % 3 ? '/api/info' : '/health')).pid);
}

type LoadOptions = Omit<Parameters<typeof runLoad>[0], 'port' | 'path'>;

/** autocannon (test/support/load.ts) with its failures noted; `rps`: answers/s. */
async function load(
  ctx: Context,
  port: number | number[],
  path: string,
  { warm = false, ...options }: LoadOptions & { warm?: boolean } = {},
): Promise<LoadResult & { rps: number }> {
  const all = { port, path, connections: 10, durationSec: ctx.profile.loadS };
  if (warm) await runLoad({ ...all, ...options, durationSec: 1 });
  const result = await runLoad({ ...all, ...options });
  const { refused, errors, timeouts, lost } = result;
  const failed = Object.entries({ ...refused, errors, timeouts, lost })
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} × ${kind}`);
  if (failed.length) ctx.note(`${path}: failed: ${failed.join(', ')}`);
  return { ...result, rps: result.accepted / result.durationSec };
}

/** p99 of /api/info while a cant=busyCant request is computed (at most 4 s). */
async function infoWhileBusy(ctx: Context, port: number): Promise<number> {
  const busy = `/api/randoms?cant=${ctx.profile.busyCant}`;
  const big = get(port, busy, { timeoutMs: 300_000 }).then(
    () => performance.now(),
    () => undefined,
  );
  await sleep(100);
  const info = runLoad({
    port,
    path: '/api/info',
    connections: 10,
    durationSec: 4,
  });
  const answeredAt = await Promise.race([big, info.then(() => undefined)]);
  info.stop();
  const { latenciesMs: ms, answeredAtMs: at } = await info;
  const said = answeredAt ? 'answered' : 'still running at 4 s';
  ctx.note(`${ms.length} answers, the big request ${said}`);
  return quantile(
    ms.filter((_, i) => at[i] <= (answeredAt ?? Infinity)),
    0.99,
  );
}

const fork: Block = {
  id: 'fork',
  names: ['ours', 'ref'],
  async measure(ctx) {
    const { pid, port, startupMs } = await serverOf(ctx);
    const { cant, repeats } = ctx.profile;
    const f: Figures = { startupMs };
    await warmUp(port);
    await sleep(1000);
    f.rssIdle = mib(pid);
    f.coldMs = await randoms(port, cant);
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push(await randoms(port, cant));
    f.warmMs = median(times);
    await sleep(1000);
    f.rssComputed = mib(pid);
    f.infoRps = (await load(ctx, port, '/api/info', { warm: true })).rps;
    f.busyP99 = await infoWhileBusy(ctx, port);
    return f;
  },
  // prettier-ignore
  rows: [
    { id: 'fork-randoms', unit: 'ms', value: (f) => f.warmMs, ratio: 'base/ours', target: '≥ 5×', label: '`/api/randoms?cant=100000000`, FORK, wall time per request (after the first)' },
    { id: 'fork-cold', unit: '×', value: (f) => Number(f.coldMs) / Number(f.warmMs), target: '≤ 1.5', label: 'the first `cant=100000000` after start ÷ the next ones, FORK' },
    { id: 'fork-info-p99', unit: 'ms', value: (f) => f.busyP99, target: '< 20', label: '`/api/info` p99 while `cant=500000000` is computed, FORK' },
    { id: 'fork-info-rps', unit: 'rps', value: (f) => f.infoRps, target: '≥ 0.9×', label: '`/api/info` requests/s, FORK' },
    { id: 'fork-rss-idle', unit: 'MiB', value: (f) => f.rssIdle, target: '< 100', label: 'idle RSS, FORK server (its compute threads included)' },
    { id: 'fork-rss-computed', unit: 'MiB', value: (f) => f.rssComputed, label: 'RSS 1 s after the `fork-randoms` requests, FORK' },
    { id: 'fork-startup', unit: 'ms', value: (f) => f.startupMs, label: 'start to first answered request, FORK' },
  ],
};

const cluster: Block = {
  id: 'cluster',
  names: ['ours', 'ref'],
  async measure(ctx) {
    const { pid, port, startupMs } = await serverOf(ctx, 'CLUSTER');
    const { clusterCant: cant, repeats } = ctx.profile;
    await warmUp(port, 2);
    await sleep(1000);
    // The primary's own: the tree less its workers, read at the same moment.
    const tree = mib(pid);
    const workers = processes.childPids(pid);
    const [worker1, worker2] = workers.map(mib);
    const f: Figures = { startupMs, worker1, worker2 };
    f.primary = tree - worker1 - worker2;
    f.infoRps = (await load(ctx, port, '/api/info', { warm: true })).rps;
    const by = new Set<number>();
    const batch = (): Promise<void[]> =>
      Promise.all(
        Array.from({ length: 8 }, async () => {
          by.add((await answer(port, `/api/randoms?cant=${cant}`, cant)).pid);
        }),
      );
    await batch();
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push(await timed(batch));
    f.batchMs = median(times);
    ctx.note(`the batches were served by ${by.size} workers`);
    return f;
  },
  // prettier-ignore
  rows: [
    { id: 'cluster-randoms', unit: 'ms', value: (f) => f.batchMs, ratio: 'base/ours', target: '≥ 3×', label: '8 concurrent `cant=20000000`, CLUSTER, wall time of the batch' },
    { id: 'cluster-info-rps', unit: 'rps', value: (f) => f.infoRps, target: '≥ 0.9×', label: '`/api/info` requests/s, CLUSTER' },
    { id: 'cluster-info-scaling', unit: '×', value: (f, c) => Number(f.infoRps) / Number(c.fork?.infoRps), label: '`/api/info` scaling, CLUSTER ÷ FORK requests/s' },
    { id: 'cluster-rss-primary', unit: 'MiB', value: (f) => f.primary, label: 'idle RSS, CLUSTER primary' },
    { id: 'cluster-rss-worker-1', unit: 'MiB', value: (f) => f.worker1, label: 'idle RSS, CLUSTER worker 1' },
    { id: 'cluster-rss-worker-2', unit: 'MiB', value: (f) => f.worker2, label: 'idle RSS, CLUSTER worker 2' },
    { id: 'cluster-startup', unit: 'ms', value: (f) => f.startupMs, label: 'start to first answered request, CLUSTER' },
  ],
};

const nginx: Block = {
  id: 'nginx',
  names: ['nginx', 'direct'],
  baseline: 'the same four servers of ours, reached directly',
  async measure(ctx) {
    const fixed = [ports.SINGLE_PORT, ...ports.UPSTREAM_PORTS];
    await ports.waitForFreePorts(fixed, 90_000);
    for (const port of fixed) await serverOf(ctx, 'FORK', { port });
    const port =
      ctx.side === 'ours'
        ? (await startNginx('randoms-to-upstream.conf')).port
        : ports.UPSTREAM_PORTS;
    const path = '/api/randoms?cant=1000';
    const flat = await load(ctx, port, path, { connections: 8, warm: true });
    const paced = await load(ctx, port, path, {
      connections: 4,
      overallRate: 200,
    });
    const [p50, p99] = [
      quantile(paced.latenciesMs, 0.5).toFixed(2),
      quantile(flat.latenciesMs, 0.99).toFixed(1),
    ];
    ctx.note(`p50 at 200 req/s ${p50} ms, p99 flat out ${p99} ms`);
    return { rps: flat.rps, p99: quantile(paced.latenciesMs, 0.99) };
  },
  // prettier-ignore
  rows: [
    { id: 'nginx-rps', unit: 'rps', value: (f) => f.rps, label: '`/api/randoms?cant=1000` requests/s, 4 servers: through nginx vs direct' },
    { id: 'nginx-p99', unit: 'ms', value: (f) => f.p99, label: '`/api/randoms?cant=1000` p99 at a fixed 200 req/s, 4 servers: through nginx vs direct' },
  ],
};

/** 40 requests of cant=1e9 at once, far more than RANDOMS_MAX_QUEUE_MS holds. */
async function flood(
  ctx: Context,
  { port, pid }: processes.ServerProcess,
  f: Figures,
): Promise<void> {
  const huge = (): Promise<HttpResult> =>
    get(port, '/api/randoms?cant=1000000000', { timeoutMs: 120_000 });
  const [info, statuses] = [[] as number[], [] as number[]];
  const refusals: [at: number, retryAfterS: number][] = [];
  const memory = watchMax(() => mib(pid));
  let flooding = true;
  const probe = (async () => {
    // No answer in 30 s (the reference, under its flood) counts as 30 s.
    const timeout = { timeoutMs: 30_000 };
    for (; flooding; await sleep(50))
      info.push(
        await timed(() => get(port, '/api/info', timeout).catch(() => 0)),
      );
  })();
  const sent = Array.from({ length: 40 }, async () => {
    const res = await huge().catch(() => undefined);
    const retryAfterS = Number(res?.headers['retry-after']);
    if (res?.status === 503) refusals.push([performance.now(), retryAfterS]);
    statuses.push(res?.status ?? 0);
  });
  const window = sleep(ctx.profile.floodWindowS * 1000).then(() => 0);
  // Each of the 40 is refused (a 503 comes at once) or admitted (no answer
  // within 200 ms) by then.
  await Promise.race([Promise.all(sent), sleep(200)]);
  // How long each refused request really had to wait, from its 503 to the
  // resend that was admitted (no answer within 50 ms: a 503 takes a few):
  // resent in the order the refusals came, each from the moment the one
  // before was admitted, then 50 ms after each 503.
  const errors: number[] = [];
  const refused = (): Promise<boolean> =>
    huge().then(
      () => true,
      () => true,
    );
  for (const [at, retryAfterS] of refusals) {
    let sentAt = performance.now();
    while (await Promise.race([refused(), sleep(50)])) {
      await sleep(50);
      sentAt = performance.now();
    }
    const waitS = (sentAt - at) / 1000;
    errors.push(Math.abs(retryAfterS - waitS) / waitS);
  }
  const finished = await Promise.race([Promise.all(sent), window]);
  f.rss = memory.stop();
  flooding = false;
  await probe;
  f.infoP99 = quantile(info, 0.99);
  f.retryError = errors.length ? median(errors) : undefined;
  const counted: Record<number, number> = {};
  for (const status of statuses) counted[status] = (counted[status] ?? 0) + 1;
  const answers = finished
    ? JSON.stringify(counted)
    : `unfinished at ${ctx.profile.floodWindowS} s`;
  const retries = refusals.map((r) => r[1]).join(', ') || '–';
  const slowest = `${Math.max(...info).toFixed(0)} ms of ${info.length}`;
  ctx.note(
    `answers ${answers}; Retry-After ${retries}; /api/info slowest ${slowest}`,
  );
}

const admission: Block = {
  id: 'admission',
  names: ['ours', 'ref'],
  async measure(ctx) {
    const env = { RANDOMS_THREADS: '2' };
    const server = await serverOf(ctx, 'FORK', { env });
    const { port } = server;
    const durationSec = ctx.profile.smallS;
    const options = { connections: 32, durationSec, timeoutSec: 30 };
    const failed = (l: LoadResult): number => l.sent - l.accepted;
    // Both throughputs after the same second of warm-up; its failures count.
    const small = '/api/randoms?cant=1000';
    const warmUpFailed = failed(
      await load(ctx, port, small, { ...options, durationSec: 1 }),
    );
    const [smallLoad, info, medium] = [
      await load(ctx, port, small, options),
      await load(ctx, port, '/api/info', { ...options, warm: true }),
      await load(ctx, port, '/api/randoms?cant=1000000', options),
    ];
    const f: Figures = { smallRps: smallLoad.rps };
    f.smallVsInfo = smallLoad.rps / info.rps;
    f.smallFailed = warmUpFailed + failed(smallLoad);
    f.mediumFailed = failed(medium);
    await flood(ctx, server, f);
    return f;
  },
  // prettier-ignore
  rows: [
    { id: 'admit-small-rps', unit: 'rps', value: (f) => f.smallRps, label: '32 connections of `cant=1000` for 10 s, FORK: requests/s' },
    { id: 'admit-small-vs-info', unit: '×', value: (f) => f.smallVsInfo, target: '≥ 0.7', label: 'the same ÷ `/api/info` requests/s with 32 connections, same server' },
    { id: 'admit-small-failed', unit: '', value: (f) => f.smallFailed, target: '< 1', label: 'the same: answers other than 2xx, errors, timeouts' },
    { id: 'admit-medium-failed', unit: '', value: (f) => f.mediumFailed, target: '< 1', label: '32 connections of `cant=1000000` for 10 s: answers other than 2xx, errors, timeouts' },
    { id: 'admit-flood-retry', unit: '×', value: (f) => f.retryError, target: '≤ 0.5', label: '40 at once of `cant=1000000000`: \\|Retry-After − real wait\\| ÷ real wait, median over the 503s' },
    { id: 'admit-flood-rss', unit: 'MiB', value: (f) => f.rss, target: '< 1024', label: 'the same: peak RSS of the server' },
    { id: 'admit-flood-info-p99', unit: 'ms', value: (f) => f.infoP99, target: '< 20', label: 'the same: `/api/info` p99 throughout' },
  ],
};

/** ns per draw, best of 5 runs of 1e8 draws on one thread: ours, or C's. */
function drawSpeed(ctx: Context): number | undefined {
  if (ctx.side === 'ours') {
    const count = wasmCounter(compileCountKernel().module);
    let best = Infinity;
    for (let i = 0; i < 5; i++)
      best = Math.min(
        best,
        drawsIn(() => count(1e8, Uint32Array.of(1, 2, 3, 4))),
      );
    return best;
  }
  const bin = join(tmpdir(), `lbs-xoshiro-${process.pid}`);
  const source = join(processes.ROOT, 'bench', 'xoshiro.c');
  const cc = spawnSync('cc', ['-O3', '-o', bin, source]);
  if (cc.error || cc.status) return void ctx.note('no C compiler: no baseline');
  const run = spawnSync(bin, { encoding: 'utf8' });
  rmSync(bin, { force: true });
  return Number(run.stdout.split(' ')[0]);
}
/** ns per draw of a 1e8-draw call. */
const drawsIn = (run: () => unknown): number => {
  const started = performance.now();
  run();
  return (performance.now() - started) / 100;
};

const kernel: Block = {
  id: 'kernel',
  names: ['ours', 'C -O3'],
  baseline: "countRandoms' loop in C (bench/xoshiro.c), compiled by the bench",
  measure: (ctx) => Promise.resolve({ ns: drawSpeed(ctx) }),
  // prettier-ignore
  rows: [
    { id: 'kernel-ns', unit: 'ns', value: (f) => f.ns, target: '≤ 1.25×', label: 'ns per draw, one thread, `cant=100000000`: our kernel vs the same loop in C' },
  ],
};

/** The request rate each server of the `cost` pair gets: well within one core. */
const COST_RATE = 800;

const cost: Block = {
  id: 'cost',
  names: ['on', 'off'],
  baseline:
    'our same build with METRICS=off LOG_LEVEL=silent, serving at the same time',
  /**
   * Both servers at once, each at COST_RATE, this column's started first:
   * requests per CPU-second of each. Throughput flat out on this machine
   * would also measure the load generator, which shares the two cores.
   */
  async measure(ctx) {
    const off = { METRICS: 'off', LOG_LEVEL: 'silent' };
    const pair: processes.ServerProcess[] = [];
    for (const env of ctx.side === 'ours' ? [{}, off] : [off, {}])
      pair.push(await serverOf(ctx, 'FORK', { env }));
    const both = (durationSec: number): Promise<LoadResult[]> =>
      Promise.all(
        pair.map(({ port }) =>
          load(ctx, port, '/api/info', { durationSec, overallRate: COST_RATE }),
        ),
      );
    await both(2);
    const before = pair.map(({ pid }) => cpuSeconds([pid]));
    const [mine, other] = (await both(ctx.profile.loadS + 3)).map(
      ({ accepted }, i) => accepted / (cpuSeconds([pair[i].pid]) - before[i]),
    );
    return { mine, other };
  },
  // The two servers' ratio in the same seconds, each column's run giving one
  // (on first, then off first), and their geometric mean: drift of the
  // machine between runs, and which server started first, both cancel out.
  // prettier-ignore
  rows: [
    { id: 'cost-info-rps', unit: 'rps', value: (f) => f.mine, ratio: (on, off) => Math.sqrt((Number(on.mine) / Number(on.other)) * (Number(off.other) / Number(off.mine))), target: '≥ 0.9×', label: `\`/api/info\` requests per CPU-second at ${COST_RATE} req/s, FORK, with metrics and request logs on vs off` },
  ],
};

export const BLOCKS: Block[] = [fork, cluster, nginx, admission, kernel, cost];
