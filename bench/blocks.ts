// What the bench measures: blocks, each taking its two columns' figures in turn on processes
// started fresh, and the rows of the table each reads from them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  get,
  type HttpResult,
  servedByOf,
  sumCounts,
} from '../test/support/http.js';
import { runLoad, type LoadResult } from '../test/support/load.js';
import { startNginx } from '../test/support/nginx.js';
import * as ports from '../test/support/ports.js';
import {
  cpuSeconds,
  processTree,
  rssBytes,
  watchMax,
} from '../test/support/proc-stats.js';
import * as processes from '../test/support/processes.js';
import { sleep } from '../test/support/wait.js';

export type Side = 'ours' | 'base';
/** Each workload as [full, quick]: the quick profile is a smoke run. */
const WORKLOADS = {
  cant: [100_000_000, 10_000_000],
  repeats: [5, 1],
  clusterCant: [20_000_000, 2_000_000],
  busyCant: 500_000_000,
  loadS: [5, 1],
  smallS: [10, 2],
  floodWindowS: [15, 4],
};
export type Profile = { [K in keyof typeof WORKLOADS]: number };
export const profileOf = (quick: boolean): Profile =>
  Object.fromEntries(
    Object.entries(WORKLOADS).map(([k, v]) => [k, [v].flat()[+quick] ?? v]),
  ) as Profile;

export interface Context {
  profile: Profile;
  side: Side;
  /** dist/main.js of the build copied aside for this run. */
  ours: string;
  /** Where the servers write their logs, as to a file in production. */
  logs: number;
  /** This column's figures of the blocks measured earlier this round. */
  earlier: Map<string, Figures>;
  log(line: string): void;
  note(line: string): void;
}
export type Figures = Record<string, number | undefined>;

export interface Row {
  id: string;
  label: string;
  unit: 'ms' | 'rps' | 'MiB' | '×' | 'ns' | '';
  value: (f: Figures) => number | undefined;
  /** The ratio the row judges, base ÷ ours for times; ours ÷ base otherwise. */
  ratio?: 'base/ours';
  /** On the ratio (`≥ 5×`) or on ours (`< 20`); none: the row reports. */
  target?: string;
}

export interface Block {
  id: string;
  /** The columns' names; the baseline is the reference server unless said. */
  names: [string, string];
  baseline?: string;
  measure(ctx: Context): Promise<Figures | undefined>;
  rows: Row[];
}

const REFERENCE = join(processes.ROOT, 'bench', 'reference-server.js');
const MiB = 2 ** 20;
const mib = (pid: number): number => rssBytes(processTree(pid)) / MiB;
const median = (values: number[]): number => quantile(values, 0.5);

export function quantile(values: number[], q: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  return (
    sorted[Math.floor(at)] +
    (sorted[Math.ceil(at)] - sorted[Math.floor(at)]) * (at % 1)
  );
}

/** The server of this column, timed from spawn to the first /health answer; stopped after `use`. */
async function withServer<T>(
  ctx: Context,
  mode: string,
  use: (server: processes.ServerProcess, startupMs: number) => Promise<T>,
  { env, port }: { env?: NodeJS.ProcessEnv; port?: number } = {},
): Promise<T> {
  const main = ctx.side === 'ours' ? ctx.ours : REFERENCE;
  const server = await processes.spawnServer(['--mode', mode], {
    outputTo: ctx.logs,
    main,
    env,
    port,
    intervalMs: 20,
    timeoutMs: 30_000,
  });
  try {
    return await use(server, server.startupMs);
  } finally {
    await server.stop();
  }
}

/** A 200 on a fresh connection, with `cant` draws when given. */
async function answer(
  port: number,
  path: string,
  cant?: number,
): Promise<HttpResult> {
  const res = await get(port, path, { timeoutMs: 300_000 });
  if (res.status !== 200 || (cant && sumCounts(res.body) !== cant))
    throw new Error(
      `GET ${path} answered ${res.status}: ${res.body.slice(0, 200)}`,
    );
  return res;
}

/** Ten requests or more, until every serving process has answered. */
async function warmUp(port: number, processCount = 1): Promise<void> {
  const seen = new Set<unknown>();
  for (let i = 0; i < 10 || seen.size < processCount; i++)
    seen.add(
      (await answer(port, i % 3 ? '/api/info' : '/health')).headers[
        'x-served-by'
      ],
    );
}

/** Requests/s of `path` with 10 keep-alive connections after a second's warm-up; failures noted. */
async function throughput(
  ctx: Context,
  port: number | number[],
  path: string,
  durationSec = ctx.profile.loadS,
  connections = 10,
): Promise<LoadResult & { rps: number }> {
  await runLoad({ port, path, connections, durationSec: 1 });
  return check(
    ctx,
    path,
    await runLoad({ port, path, connections, durationSec }),
  );
}

function check(
  ctx: Context,
  what: string,
  load: LoadResult,
): LoadResult & { rps: number } {
  const failed = Object.entries({
    ...load.refused,
    errors: load.errors,
    timeouts: load.timeouts,
    lost: load.lost,
  })
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} × ${k}`);
  if (failed.length) ctx.note(`${what}: failed: ${failed.join(', ')}`);
  return { ...load, rps: load.accepted / load.durationSec };
}

/** p99 of /api/info while one cant=busyCant request is computed, until it answers (or 4 s). */
async function infoWhileBusy(ctx: Context, port: number): Promise<number> {
  const big = get(port, `/api/randoms?cant=${ctx.profile.busyCant}`, {
    timeoutMs: 300_000,
  }).then(
    () => performance.now(),
    () => undefined,
  );
  await sleep(100);
  const load = runLoad({
    port,
    path: '/api/info',
    connections: 10,
    durationSec: 4,
  });
  const answeredAt = await Promise.race([big, load.then(() => undefined)]);
  const until = answeredAt ?? performance.now();
  load.stop();
  const { latenciesMs, answeredAtMs } = await load;
  ctx.note(
    `${latenciesMs.length} answers, the big request ${answeredAt === undefined ? 'still running at 4 s' : 'answered'}`,
  );
  return quantile(
    latenciesMs.filter((_, i) => answeredAtMs[i] <= until),
    0.99,
  );
}

const fork: Block = {
  id: 'fork',
  names: ['ours', 'ref'],
  measure: (ctx) =>
    withServer(ctx, 'FORK', async ({ pid, port }, startupMs) => {
      const { cant, repeats } = ctx.profile;
      await warmUp(port);
      await sleep(1000);
      const rssIdle = mib(pid);
      ctx.log(`cant=${cant}: the first request, then ${repeats} more`);
      const coldMs = (await answer(port, `/api/randoms?cant=${cant}`, cant)).ms;
      const times: number[] = [];
      for (let i = 0; i < repeats; i++)
        times.push((await answer(port, `/api/randoms?cant=${cant}`, cant)).ms);
      await sleep(1000);
      const rssComputed = mib(pid);
      const infoRps = (await throughput(ctx, port, '/api/info')).rps;
      const busyP99 = await infoWhileBusy(ctx, port);
      const warmMs = median(times);
      return {
        startupMs,
        rssIdle,
        coldMs,
        warmMs,
        cold: coldMs / warmMs,
        rssComputed,
        infoRps,
        busyP99,
      };
    }),
  // prettier-ignore
  rows: [
    { id: 'fork-randoms', unit: 'ms', value: (f) => f.warmMs, ratio: 'base/ours', target: '≥ 5×', label: '`/api/randoms?cant=100000000`, FORK, wall time per request (after the first)' },
    { id: 'fork-cold', unit: '×', value: (f) => f.cold, target: '≤ 1.5', label: 'the first `cant=100000000` after start ÷ the next ones, FORK' },
    { id: 'fork-info-p99', unit: 'ms', value: (f) => f.busyP99, target: '< 20', label: '`/api/info` p99 while `cant=500000000` is computed, FORK' },
    { id: 'fork-info-rps', unit: 'rps', value: (f) => f.infoRps, target: '≥ 0.9×', label: '`/api/info` requests/s, FORK' },
    { id: 'fork-rss-idle', unit: 'MiB', value: (f) => f.rssIdle, target: '< 100', label: 'idle RSS, FORK server (its compute threads included)' },
    { id: 'fork-rss-computed', unit: 'MiB', value: (f) => f.rssComputed, label: 'RSS 1 s after the `fork-randoms` requests, FORK' },
    { id: 'fork-startup', unit: 'ms', value: (f) => f.startupMs, label: 'start to first answered request, FORK' },
  ],
};

const WORKERS = 2;
const cluster: Block = {
  id: 'cluster',
  names: ['ours', 'ref'],
  measure: (ctx) =>
    withServer(ctx, 'CLUSTER', async ({ pid, port }, startupMs) => {
      await warmUp(port, WORKERS);
      await sleep(1000);
      // The primary's own: the tree less its workers, read at the same moment.
      const tree = mib(pid);
      const workers = processes
        .childPids(pid)
        .sort((a, b) => a - b)
        .map(mib);
      const primary = tree - workers.reduce((a, b) => a + b, 0);
      const infoRps = (await throughput(ctx, port, '/api/info')).rps;
      const path = `/api/randoms?cant=${ctx.profile.clusterCant}`;
      const batch = (): Promise<HttpResult[]> =>
        Promise.all(
          Array.from({ length: 8 }, () =>
            answer(port, path, ctx.profile.clusterCant),
          ),
        );
      await batch();
      const times: number[] = [];
      const by = new Set<number>();
      for (let i = 0; i < ctx.profile.repeats; i++) {
        const started = performance.now();
        for (const res of await batch()) by.add(servedByOf(res).pid);
        times.push(performance.now() - started);
      }
      ctx.note(`the batches were served by ${by.size} workers`);
      const scaling = infoRps / Number(ctx.earlier.get('fork')?.infoRps);
      return {
        startupMs,
        primary,
        worker1: workers[0],
        worker2: workers[1],
        infoRps,
        scaling,
        batchMs: median(times),
      };
    }),
  // prettier-ignore
  rows: [
    { id: 'cluster-randoms', unit: 'ms', value: (f) => f.batchMs, ratio: 'base/ours', target: '≥ 3×', label: '8 concurrent `cant=20000000`, CLUSTER, wall time of the batch' },
    { id: 'cluster-info-rps', unit: 'rps', value: (f) => f.infoRps, target: '≥ 0.9×', label: '`/api/info` requests/s, CLUSTER' },
    { id: 'cluster-info-scaling', unit: '×', value: (f) => f.scaling, label: '`/api/info` scaling, CLUSTER ÷ FORK requests/s' },
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
  measure: async (ctx) => {
    const fixed = [ports.SINGLE_PORT, ...ports.UPSTREAM_PORTS];
    await ports.waitForFreePorts(fixed, 90_000);
    const servers = [];
    for (const port of fixed)
      servers.push(
        await processes.spawnServer(['--mode=FORK'], {
          main: ctx.ours,
          port,
          outputTo: ctx.logs,
        }),
      );
    const proxy =
      ctx.side === 'ours'
        ? await startNginx('randoms-to-upstream.conf')
        : undefined;
    const port = proxy?.port ?? ports.UPSTREAM_PORTS;
    const path = '/api/randoms?cant=1000';
    const flat = await throughput(ctx, port, path, ctx.profile.loadS, 8);
    const paced = check(
      ctx,
      'paced',
      await runLoad({
        port,
        path,
        connections: 4,
        overallRate: 200,
        durationSec: ctx.profile.loadS,
      }),
    );
    ctx.note(
      `p50 at 200 req/s ${quantile(paced.latenciesMs, 0.5).toFixed(2)} ms, p99 flat out ${quantile(flat.latenciesMs, 0.99).toFixed(1)} ms`,
    );
    await processes.stopAll();
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
  port: number,
  pid: number,
): Promise<Figures> {
  const memory = watchMax(() => mib(pid));
  const info: number[] = [];
  let flooding = true;
  const probe = (async () => {
    while (flooding) {
      // No answer within 30 s (the reference, under its flood) counts as 30 s.
      info.push(
        await get(port, '/api/info', { timeoutMs: 30_000 }).then(
          (res) => res.ms,
          () => 30_000,
        ),
      );
      await sleep(50);
    }
  })();
  const refusals: { at: number; retryAfterS: number }[] = [];
  const window = sleep(ctx.profile.floodWindowS * 1000);
  const answers = Array.from({ length: 40 }, () =>
    get(port, '/api/randoms?cant=1000000000', { timeoutMs: 120_000 }).then(
      (res) => {
        if (res.status === 503)
          refusals.push({
            at: performance.now(),
            retryAfterS: Number(res.headers['retry-after']),
          });
        return res.status;
      },
      () => 0,
    ),
  );
  const statuses = await Promise.race([
    Promise.all(answers),
    window.then(() => undefined),
  ]);
  const [rss, errors] = [memory.stop(), await realWaits(port, refusals)];
  flooding = false;
  await probe;
  const counted = statuses?.reduce<Record<number, number>>(
    (all, s) => ({ ...all, [s]: (all[s] ?? 0) + 1 }),
    {},
  );
  ctx.note(
    `answers ${counted ? JSON.stringify(counted) : `unfinished at ${ctx.profile.floodWindowS} s`}; Retry-After ${refusals.map((r) => r.retryAfterS).join(', ') || '–'}; /api/info slowest ${Math.max(...info).toFixed(0)} ms of ${info.length}`,
  );
  return {
    rss,
    infoP99: quantile(info, 0.99),
    retryError: errors.length ? median(errors) : undefined,
  };
}

/**
 * How long each refused request really had to wait: resent in the order the
 * refusals came, each as soon as the one before it was admitted (a resend
 * that gets no 503 within 200 ms has been admitted). Returns |Retry-After −
 * real wait| ÷ real wait for each.
 */
async function realWaits(
  port: number,
  refusals: { at: number; retryAfterS: number }[],
): Promise<number[]> {
  const errors: number[] = [];
  for (const { at, retryAfterS } of refusals.sort((a, b) => a.at - b.at)) {
    for (;;) {
      const sent = get(port, '/api/randoms?cant=1000000000', {
        timeoutMs: 120_000,
      }).catch(() => undefined);
      const res = await Promise.race([
        sent,
        sleep(200).then(() => 'admitted' as const),
      ]);
      if (res === 'admitted') break;
      await sleep(100);
    }
    const waitS = (performance.now() - at) / 1000;
    errors.push(Math.abs(retryAfterS - waitS) / waitS);
  }
  return errors;
}

const admission: Block = {
  id: 'admission',
  names: ['ours', 'ref'],
  measure: (ctx) =>
    withServer(
      ctx,
      'FORK',
      async ({ port, pid }) => {
        const run = (path: string): Promise<LoadResult> =>
          runLoad({
            port,
            path,
            connections: 32,
            durationSec: ctx.profile.smallS,
            timeoutSec: 30,
          });
        const small = check(
          ctx,
          'cant=1000',
          await run('/api/randoms?cant=1000'),
        );
        const info = await throughput(
          ctx,
          port,
          '/api/info',
          ctx.profile.smallS,
          32,
        );
        const medium = check(
          ctx,
          'cant=1000000',
          await run('/api/randoms?cant=1000000'),
        );
        const non2xx = (load: LoadResult): number => load.sent - load.accepted;
        return {
          smallRps: small.rps,
          smallVsInfo: small.rps / info.rps,
          smallFailed: non2xx(small),
          mediumFailed: non2xx(medium),
          ...(await flood(ctx, port, pid)),
        };
      },
      { env: { RANDOMS_THREADS: '2' } },
    ),
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

/** ns per draw, one thread: our kernel in Node, or the C loop of bench/xoshiro.c at -O3. */
function drawSpeed(ctx: Context): Figures | undefined {
  if (ctx.side === 'ours') {
    const script = `import { compileCountKernel } from '${join(ctx.ours, '..', 'randoms', 'count-kernel.js')}';
        import { wasmCounter } from '${join(ctx.ours, '..', 'randoms', 'count-wasm.js')}';
        const count = wasmCounter(compileCountKernel().module); let best = Infinity;
        for (let i = 0; i < 5; i++) { const t = performance.now(); count(1e8, Uint32Array.of(1, 2, 3, 4)); best = Math.min(best, (performance.now() - t) * 1e6 / 1e8); }
        console.log(best);`;
    return {
      ns: Number(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], {
          encoding: 'utf8',
        }),
      ),
    };
  }
  const binary = join(tmpdir(), `lbs-xoshiro-${process.pid}`);
  const cc = spawnSync('cc', [
    '-O3',
    '-o',
    binary,
    join(processes.ROOT, 'bench', 'xoshiro.c'),
  ]);
  if (cc.error || cc.status !== 0 || !existsSync(binary))
    return void ctx.note('no C compiler (cc): no baseline');
  return {
    ns: Number(execFileSync(binary, { encoding: 'utf8' }).split(' ')[0]),
  };
}

const kernel: Block = {
  id: 'kernel',
  names: ['ours', 'C -O3'],
  baseline: "countRandoms' loop in C (bench/xoshiro.c), compiled by the bench",
  measure: (ctx) => Promise.resolve(drawSpeed(ctx)),
  rows: [
    {
      id: 'kernel-ns',
      unit: 'ns',
      value: (f) => f.ns,
      target: '≤ 1.25×',
      label:
        'ns per draw, one thread, `cant=100000000`: our kernel vs the same loop in C',
    },
  ],
};

/** The request rate each server of the `cost` pair gets: well within one core. */
const COST_RATE = 800;

/**
 * Both servers of the pair at once, each at COST_RATE: CPU time per request of
 * this column's, as requests per CPU-second. Throughput flat out on this
 * machine would also measure the load generator, which shares the two cores.
 */
async function requestsPerCpuSecond(ctx: Context): Promise<Figures> {
  const env = { METRICS: 'off', LOG_LEVEL: 'silent' };
  const [on, off] = [
    await processes.spawnServer(['--mode=FORK'], {
      main: ctx.ours,
      outputTo: ctx.logs,
    }),
    await processes.spawnServer(['--mode=FORK'], {
      main: ctx.ours,
      outputTo: ctx.logs,
      env,
    }),
  ];
  const server = ctx.side === 'ours' ? on : off;
  const load = (durationSec: number): Promise<LoadResult[]> =>
    Promise.all(
      [on, off].map(({ port }) =>
        runLoad({
          port,
          path: '/api/info',
          connections: 4,
          overallRate: COST_RATE,
          durationSec,
        }),
      ),
    );
  await load(2);
  const before = cpuSeconds([server.pid]);
  const [mine] = (await load(ctx.profile.loadS + 3)).filter(
    (_, i) => [on, off][i] === server,
  );
  const cpu = cpuSeconds([server.pid]) - before;
  check(ctx, 'paced /api/info', mine);
  return { perCpuSecond: mine.accepted / cpu };
}

const cost: Block = {
  id: 'cost',
  names: ['on', 'off'],
  baseline:
    'our same build with METRICS=off LOG_LEVEL=silent, both serving at once',
  measure: requestsPerCpuSecond,
  rows: [
    {
      id: 'cost-info-rps',
      unit: 'rps',
      value: (f) => f.perCpuSecond,
      target: '≥ 0.9×',
      label: `\`/api/info\` requests per CPU-second at ${COST_RATE} req/s, FORK, with metrics and request logs on vs off`,
    },
  ],
};

export const BLOCKS: Block[] = [fork, cluster, nginx, admission, kernel, cost];
