// What the bench measures: blocks, each taking its two columns' figures in turn on
// processes started fresh (run.ts stops them), keyed by the ids of the rows they fill.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileCountKernel } from '../src/randoms/count-kernel.js';
import { wasmCounter } from '../src/randoms/count-wasm.js';
import { get, servedByOf, sumCounts } from '../test/support/http.js';
import type { HttpResult } from '../test/support/http.js';
import { failuresOf, quantile, runLoad } from '../test/support/load.js';
import type { LoadOptions, LoadResult } from '../test/support/load.js';
import { startNginx } from '../test/support/nginx.js';
import * as ports from '../test/support/ports.js';
import { cpuSeconds, processTree } from '../test/support/proc-stats.js';
import { rssBytes, watchMax } from '../test/support/proc-stats.js';
import { childPids, ROOT, spawnServer } from '../test/support/processes.js';
import type { ServerProcess } from '../test/support/processes.js';
import { sleep } from '../test/support/wait.js';

export type Side = 'ours' | 'base';
/** What one column measured in one round, by row id. */
export type Figures = Record<string, number | undefined>;

export interface Context {
  side: Side;
  /** A smoke run: smaller workloads, shorter loads. */
  quick: boolean;
  /** The column's server: our build (dist/ copied aside for the run) or the reference. */
  main: string;
  /** The file the servers log to, as in production. */
  logs: number;
  /** What this column measured earlier in the round. */
  column: Figures;
  note(line: string): void;
}

export interface Row {
  id: string;
  unit: 'ms' | 'rps' | 'MiB' | '×' | 'ns' | '';
  /** The ratio judged: ours ÷ base unless 'base/ours' (times), or the row's own. */
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
  measure(ctx: Context): Promise<Figures>;
  rows: Row[];
}

const mib = (pid: number): number => rssBytes(processTree(pid)) / 2 ** 20;
const median = (values: number[]): number => quantile(values, 0.5);
const msSince = (started: number): number => performance.now() - started;

/** The median of `n` runs of `run`, one after the other. */
async function medianOf(
  n: number,
  run: () => Promise<number>,
): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < n; i++) values.push(await run());
  return median(values);
}

/** The column's server in `mode`, timed from spawn to its first /health answer. */
const serverOf = (
  ctx: Context,
  mode = 'FORK',
  options: { env?: NodeJS.ProcessEnv; port?: number } = {},
): Promise<ServerProcess> =>
  spawnServer(['--mode', mode], {
    ...options,
    main: ctx.main,
    outputTo: ctx.logs,
    intervalMs: 20,
    timeoutMs: 30_000,
  });

/** A 200 on a fresh connection, with `cant` draws when given: its time and process. */
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
const randoms = (port: number, cant: number): ReturnType<typeof answer> =>
  answer(port, `/api/randoms?cant=${cant}`, cant);

/** Ten requests or more, until every serving process has answered. */
async function warmUp(port: number, processCount = 1): Promise<void> {
  const seen = new Set<number>();
  for (let i = 0; i < 10 || seen.size < processCount; i++)
    seen.add((await answer(port, i % 3 ? '/api/info' : '/health')).pid);
}

/** autocannon (test/support/load.ts), failures noted; `warm`: after 1 s uncounted. */
async function load(
  ctx: Context,
  port: number | number[],
  path: string,
  { warm = false, ...options }: Partial<LoadOptions> & { warm?: boolean } = {},
): Promise<LoadResult & { rps: number }> {
  const all = { port, path, connections: 10, durationSec: ctx.quick ? 1 : 5 };
  if (warm) await runLoad({ ...all, ...options, durationSec: 1 });
  const result = await runLoad({ ...all, ...options });
  if (result.failed) ctx.note(`${path}: failed: ${failuresOf(result)}`);
  return { ...result, rps: result.accepted / result.durationSec };
}

/** /api/info's p99 while a cant=500000000 request is computed (at most 4 s). */
async function infoWhileBusy(ctx: Context, port: number): Promise<number> {
  const big = get(port, '/api/randoms?cant=500000000', { timeoutMs: 300_000 });
  const doneAt = big.then(() => performance.now()).catch(() => undefined);
  await sleep(100);
  const info = runLoad({
    port,
    path: '/api/info',
    connections: 10,
    durationSec: 4,
  });
  const answeredAt = await Promise.race([doneAt, info.then(() => undefined)]);
  info.stop();
  const { latenciesMs, answeredAtMs } = await info;
  const said = answeredAt ? 'answered' : 'still running at 4 s';
  ctx.note(`${latenciesMs.length} answers, the big request ${said}`);
  const before = (_: number, i: number): boolean =>
    answeredAtMs[i] <= (answeredAt ?? Infinity);
  return quantile(latenciesMs.filter(before), 0.99);
}

const fork: Block = {
  id: 'fork',
  names: ['ours', 'ref'],
  async measure(ctx) {
    const { pid, port, startupMs } = await serverOf(ctx);
    const cant = ctx.quick ? 1e7 : 1e8;
    await warmUp(port);
    await sleep(1000);
    const rssIdle = mib(pid);
    const { ms: coldMs } = await randoms(port, cant);
    const warmMs = await medianOf(ctx.quick ? 1 : 5, async () => {
      return (await randoms(port, cant)).ms;
    });
    await sleep(1000);
    return {
      'fork-randoms': warmMs,
      'fork-cold': coldMs / warmMs,
      'fork-rss-idle': rssIdle,
      'fork-rss-computed': mib(pid),
      'fork-info-rps': (await load(ctx, port, '/api/info', { warm: true })).rps,
      'fork-info-p99': await infoWhileBusy(ctx, port),
      'fork-startup': startupMs,
    };
  },
  // prettier-ignore
  rows: [
    { id: 'fork-randoms', unit: 'ms', ratio: 'base/ours', target: '≥ 5×', label: '`/api/randoms?cant=100000000`, FORK, wall time per request (after the first)' },
    { id: 'fork-cold', unit: '×', target: '≤ 1.5', label: 'the first `cant=100000000` after start ÷ the next ones, FORK' },
    { id: 'fork-info-p99', unit: 'ms', target: '< 20', label: '`/api/info` p99 while `cant=500000000` is computed, FORK' },
    { id: 'fork-info-rps', unit: 'rps', target: '≥ 0.9×', label: '`/api/info` requests/s, FORK' },
    { id: 'fork-rss-idle', unit: 'MiB', target: '< 100', label: 'idle RSS, FORK server (its compute threads included)' },
    { id: 'fork-rss-computed', unit: 'MiB', label: 'RSS 1 s after the `fork-randoms` requests, FORK' },
    { id: 'fork-startup', unit: 'ms', label: 'start to first answered request, FORK' },
  ],
};

const cluster: Block = {
  id: 'cluster',
  names: ['ours', 'ref'],
  async measure(ctx) {
    const { pid, port, startupMs } = await serverOf(ctx, 'CLUSTER');
    const cant = ctx.quick ? 2e6 : 2e7;
    await warmUp(port, 2);
    await sleep(1000);
    // The primary's own: the tree less its workers, read at the same moment.
    const [tree, [worker1, worker2]] = [mib(pid), childPids(pid).map(mib)];
    const infoRps = (await load(ctx, port, '/api/info', { warm: true })).rps;
    const by = new Set<number>();
    const batch = async (): Promise<number> => {
      const started = performance.now();
      const eight = Array.from({ length: 8 }, () => randoms(port, cant));
      for (const { pid } of await Promise.all(eight)) by.add(pid);
      return msSince(started);
    };
    await batch();
    const batchMs = await medianOf(ctx.quick ? 1 : 5, batch);
    ctx.note(`the batches were served by ${by.size} workers`);
    return {
      'cluster-randoms': batchMs,
      'cluster-info-rps': infoRps,
      'cluster-info-scaling': infoRps / Number(ctx.column['fork-info-rps']),
      'cluster-rss-primary': tree - worker1 - worker2,
      'cluster-rss-worker-1': worker1,
      'cluster-rss-worker-2': worker2,
      'cluster-startup': startupMs,
    };
  },
  // prettier-ignore
  rows: [
    { id: 'cluster-randoms', unit: 'ms', ratio: 'base/ours', target: '≥ 3×', label: '8 concurrent `cant=20000000`, CLUSTER, wall time of the batch' },
    { id: 'cluster-info-rps', unit: 'rps', target: '≥ 0.9×', label: '`/api/info` requests/s, CLUSTER' },
    { id: 'cluster-info-scaling', unit: '×', label: '`/api/info` scaling, CLUSTER ÷ FORK requests/s' },
    { id: 'cluster-rss-primary', unit: 'MiB', label: 'idle RSS, CLUSTER primary' },
    { id: 'cluster-rss-worker-1', unit: 'MiB', label: 'idle RSS, CLUSTER worker 1' },
    { id: 'cluster-rss-worker-2', unit: 'MiB', label: 'idle RSS, CLUSTER worker 2' },
    { id: 'cluster-startup', unit: 'ms', label: 'start to first answered request, CLUSTER' },
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
    return {
      'nginx-rps': flat.rps,
      'nginx-p99': quantile(paced.latenciesMs, 0.99),
    };
  },
  // prettier-ignore
  rows: [
    { id: 'nginx-rps', unit: 'rps', label: '`/api/randoms?cant=1000` requests/s, 4 servers: through nginx vs direct' },
    { id: 'nginx-p99', unit: 'ms', label: '`/api/randoms?cant=1000` p99 at a fixed 200 req/s, 4 servers: through nginx vs direct' },
  ],
};

/** 40 requests of cant=1e9 at once, far more than RANDOMS_MAX_QUEUE_MS holds. */
async function flood(
  ctx: Context,
  { port, pid }: ServerProcess,
): Promise<Figures> {
  const huge = (): Promise<HttpResult> =>
    get(port, '/api/randoms?cant=1000000000', { timeoutMs: 120_000 });
  const [info, statuses, errors] = [[], [], []] as number[][];
  const refusals: [at: number, retryAfterS: number][] = [];
  const memory = watchMax(() => mib(pid));
  const windowS = ctx.quick ? 4 : 15;
  const window = sleep(windowS * 1000).then(() => false);
  let flooding = true;
  const probe = (async () => {
    // No answer in 30 s (the reference, under its flood) counts as 30 s.
    for (; flooding; await sleep(50)) {
      const started = performance.now();
      await get(port, '/api/info', { timeoutMs: 30_000 }).catch(() => 0);
      info.push(msSince(started));
    }
  })();
  const sent = Array.from({ length: 40 }, async () => {
    const res = await huge().catch(() => undefined);
    const retryAfterS = Number(res?.headers['retry-after']);
    if (res?.status === 503) refusals.push([performance.now(), retryAfterS]);
    statuses.push(res?.status ?? 0);
  });
  // Each of the 40 is refused (a 503 comes at once) or admitted (no answer
  // within 200 ms) by then.
  await Promise.race([Promise.all(sent), sleep(200)]);
  // How long each refused request really had to wait, from its 503 to the
  // resend that was admitted (no answer within 50 ms: a 503 takes a few):
  // resent in the order the refusals came, each from the moment the one
  // before was admitted, then 50 ms after each 503.
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
  const rss = memory.stop();
  flooding = false;
  await probe;
  const counted: Record<number, number> = {};
  for (const status of statuses) counted[status] = (counted[status] ?? 0) + 1;
  const answers = finished
    ? JSON.stringify(counted)
    : `unfinished at ${windowS} s`;
  const retries = refusals.map((r) => r[1]).join(', ') || '–';
  const slowest = `${Math.max(...info).toFixed(0)} ms of ${info.length}`;
  ctx.note(
    `answers ${answers}; Retry-After ${retries}; /api/info slowest ${slowest}`,
  );
  return {
    'admit-flood-retry': errors.length ? median(errors) : undefined,
    'admit-flood-rss': rss,
    'admit-flood-info-p99': quantile(info, 0.99),
  };
}

const admission: Block = {
  id: 'admission',
  names: ['ours', 'ref'],
  async measure(ctx) {
    const env = { RANDOMS_THREADS: '2' };
    const server = await serverOf(ctx, 'FORK', { env });
    const durationSec = ctx.quick ? 2 : 10;
    const options = { connections: 32, durationSec, timeoutSec: 30 };
    const at = (
      path: string,
      more: Parameters<typeof load>[3] = {},
    ): ReturnType<typeof load> =>
      load(ctx, server.port, path, { ...options, ...more });
    // Both throughputs after the same second of warm-up; its failures count.
    const first = await at('/api/randoms?cant=1000', { durationSec: 1 });
    const small = await at('/api/randoms?cant=1000');
    const info = await at('/api/info', { warm: true });
    const medium = await at('/api/randoms?cant=1000000');
    return {
      'admit-small-rps': small.rps,
      'admit-small-vs-info': small.rps / info.rps,
      'admit-small-failed': first.failed + small.failed,
      'admit-medium-failed': medium.failed,
      ...(await flood(ctx, server)),
    };
  },
  // prettier-ignore
  rows: [
    { id: 'admit-small-rps', unit: 'rps', label: '32 connections of `cant=1000` for 10 s, FORK: requests/s' },
    { id: 'admit-small-vs-info', unit: '×', target: '≥ 0.7', label: 'the same ÷ `/api/info` requests/s with 32 connections, same server' },
    { id: 'admit-small-failed', unit: '', target: '< 1', label: 'the same: answers other than 2xx, errors, timeouts' },
    { id: 'admit-medium-failed', unit: '', target: '< 1', label: '32 connections of `cant=1000000` for 10 s: answers other than 2xx, errors, timeouts' },
    { id: 'admit-flood-retry', unit: '×', target: '≤ 0.5', label: '40 at once of `cant=1000000000`: \\|Retry-After − real wait\\| ÷ real wait, median over the 503s' },
    { id: 'admit-flood-rss', unit: 'MiB', target: '< 1024', label: 'the same: peak RSS of the server' },
    { id: 'admit-flood-info-p99', unit: 'ms', target: '< 20', label: 'the same: `/api/info` p99 throughout' },
  ],
};

/** ns per draw, the best of 5 runs of 1e8 draws on one thread: ours, or C's. */
function nsPerDraw(ctx: Context): number | undefined {
  if (ctx.side === 'ours') {
    const count = wasmCounter(compileCountKernel().module);
    const runs = Array.from({ length: 5 }, () => {
      const started = performance.now();
      count(1e8, Uint32Array.of(1, 2, 3, 4));
      return msSince(started) / 100; // ms × 1e6 ÷ 1e8 draws
    });
    return Math.min(...runs);
  }
  const bin = join(tmpdir(), `lbs-xoshiro-${process.pid}`);
  const source = join(ROOT, 'bench', 'xoshiro.c');
  const cc = spawnSync('cc', ['-O3', '-o', bin, source]);
  if (cc.error || cc.status) return void ctx.note('no C compiler: no baseline');
  const run = spawnSync(bin, { encoding: 'utf8' });
  rmSync(bin, { force: true });
  return Number(run.stdout.split(' ')[0]);
}

const kernel: Block = {
  id: 'kernel',
  names: ['ours', 'C -O3'],
  baseline: "countRandoms' loop in C (bench/xoshiro.c), compiled by the bench",
  measure: (ctx) => Promise.resolve({ 'kernel-ns': nsPerDraw(ctx) }),
  // prettier-ignore
  rows: [
    { id: 'kernel-ns', unit: 'ns', target: '≤ 1.25×', label: 'ns per draw, one thread, `cant=100000000`: our kernel vs the same loop in C' },
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
    const pair: ServerProcess[] = [];
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
    const [mine, other] = (await both(ctx.quick ? 4 : 8)).map(
      ({ accepted }, i) => accepted / (cpuSeconds([pair[i].pid]) - before[i]),
    );
    return { 'cost-info-rps': mine, 'cost-pair': mine / other };
  },
  // The two servers' ratio in the same seconds, each column's run giving one
  // (on first, then off first), and their geometric mean: drift of the
  // machine between runs, and which server started first, both cancel out.
  // prettier-ignore
  rows: [
    { id: 'cost-info-rps', unit: 'rps', ratio: (on, off) => Math.sqrt(Number(on['cost-pair']) / Number(off['cost-pair'])), target: '≥ 0.9×', label: `\`/api/info\` requests per CPU-second at ${COST_RATE} req/s, FORK, with metrics and request logs on vs off` },
  ],
};

export const BLOCKS: Block[] = [fork, cluster, nginx, admission, kernel, cost];
