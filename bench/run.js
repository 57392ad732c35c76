// `npm run bench`: our built server against the "usual solution" (bench/reference-server.js),
// run alternately on this machine, then a markdown table of medians, spreads and ratios.
//
//   node bench/run.js [--runs N] [--quick] [--out FILE]
//   (or BENCH_RUNS=N, BENCH_QUICK=1, BENCH_OUT=FILE)
//
// --runs   how many rounds (default 3); each round measures ours and the reference,
//          in alternating order, so a ratio compares figures taken minutes apart at most
// --quick  a short smoke run: one round, smaller workloads, 1 s load tests
// --out    also write the table and a machine block into FILE between
//          <!-- bench:start --> and <!-- bench:end --> (the text around them stays)
//
// Needs `npm run build` first. Traffic only ever goes to 127.0.0.1. Every process this
// script starts runs in its own process group and is stopped at the end, even on failure.
// Exit code 0 when everything was measured, even if targets were missed; 1 when a
// measurement itself failed.
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  median,
  quantile,
  rssOfTree,
  runAutocannon,
  servedBy,
  spread,
  startAutocannon,
  startServer,
  timedGet,
  freePort,
} from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = '127.0.0.1';
const MIB = 1024;
const MARK_START = '<!-- bench:start -->';
const MARK_END = '<!-- bench:end -->';

const REFERENCE = {
  name: 'reference',
  script: join(ROOT, 'bench', 'reference-server.js'),
};
/** Filled in by main() once the build has been copied aside (see snapshotBuild). */
let IMPLEMENTATIONS = [];

const NGINX = {
  binary: ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) =>
    existsSync(path),
  ),
  config: join(ROOT, 'nginx', 'randoms-to-upstream.conf'),
  // Fixed by the config file: everything else -> 8080, /api/randoms -> 8082-8085.
  singlePort: 8080,
  upstreamPorts: [8082, 8083, 8084, 8085],
};

const PROFILES = {
  full: {
    runs: 3,
    forkCant: 100_000_000,
    forkRepeats: 5,
    clusterCant: 20_000_000,
    clusterConcurrency: 8,
    clusterRepeats: 5,
    loadCant: 500_000_000,
    loadWindowMaxS: 4,
    connections: 10,
    warmupS: 1,
    rpsS: 5,
    nginxCant: 1000,
    nginxConnections: 8,
    nginxRate: 200,
    nginxS: 5,
    idleMs: 1000,
    portWaitMs: 90_000,
  },
  quick: {
    runs: 1,
    forkCant: 10_000_000,
    forkRepeats: 1,
    clusterCant: 2_000_000,
    clusterConcurrency: 8,
    clusterRepeats: 1,
    loadCant: 100_000_000,
    loadWindowMaxS: 1,
    connections: 10,
    warmupS: 0.5,
    rpsS: 1,
    nginxCant: 1000,
    nginxConnections: 8,
    nginxRate: 200,
    nginxS: 1,
    idleMs: 300,
    portWaitMs: 5_000,
  },
};

// ---------------------------------------------------------------------------
// Options and logging

function parseFlags() {
  try {
    return parseArgs({
      options: {
        runs: { type: 'string' },
        quick: { type: 'boolean' },
        out: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    console.error(`error: ${error.message} (see --help)`);
    process.exit(2);
  }
}

function readOptions() {
  const values = parseFlags();
  if (values.help) {
    console.log('usage: node bench/run.js [--runs N] [--quick] [--out FILE]');
    process.exit(0);
  }
  const quick =
    values.quick ?? /^(1|true|yes)$/i.test(process.env.BENCH_QUICK ?? '');
  const profile = { ...PROFILES[quick ? 'quick' : 'full'] };
  const runs = values.runs ?? process.env.BENCH_RUNS;
  if (runs !== undefined) {
    profile.runs = Number(runs);
    if (!Number.isInteger(profile.runs) || profile.runs < 1) {
      console.error(`error: --runs must be an integer >= 1, got "${runs}"`);
      process.exit(2);
    }
  }
  return { quick, profile, out: values.out ?? process.env.BENCH_OUT };
}

const benchStart = performance.now();

function log(line) {
  const seconds = ((performance.now() - benchStart) / 1000).toFixed(1);
  process.stderr.write(`[bench +${seconds.padStart(5)}s] ${line}\n`);
}

function listFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath ?? entry.path, entry.name);
      return `${path}:${statSync(path).mtimeMs}`;
    })
    .sort()
    .join('\n');
}

/**
 * Copies dist/ aside so that a colleague's `npm run build` (which empties dist/)
 * cannot pull the build from under a running benchmark. The copy sits in a temp
 * folder next to package.json ("type": "module"), views/ and node_modules/, which
 * is all a built server needs.
 */
async function snapshotBuild() {
  const dist = join(ROOT, 'dist');
  const deadline = performance.now() + 60_000;
  for (;;) {
    const ready =
      existsSync(join(dist, 'main.js')) &&
      existsSync(join(dist, 'randoms', 'count.worker.js'));
    if (ready) {
      const dir = mkdtempSync(join(os.tmpdir(), 'bench-build-'));
      const before = listFiles(dist);
      cpSync(dist, join(dir, 'dist'), { recursive: true });
      if (listFiles(dist) === before) {
        copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
        symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
        symlinkSync(join(ROOT, 'views'), join(dir, 'views'));
        return dir;
      }
      rmSync(dir, { recursive: true, force: true }); // a build ran meanwhile
    }
    if (performance.now() > deadline) {
      throw new Error(
        `${dist} has no complete build; run \`npm run build\` first`,
      );
    }
    await sleep(1000);
  }
}

// ---------------------------------------------------------------------------
// Servers

const urlOf = (port, path) => `http://${HOST}:${port}${path}`;

function startImplementation(impl, mode, port) {
  return startServer({
    args: (p) => [impl.script, '--port', p, '--mode', mode],
    port,
    cwd: ROOT,
    readyPath: '/health',
  });
}

/** Guards against benchmarking someone else's process that holds the port. */
function assertOurs(server, response) {
  const by = servedBy(response.headers);
  const pids = new Set(rssOfTree(server.pid).processes.map((p) => p.pid));
  if (!by || !pids.has(by.pid)) {
    throw new Error(
      `port ${server.port} answered as ${response.headers['x-served-by']}, not a process we started (pid ${server.pid})`,
    );
  }
  return by;
}

async function getOk(url, timeoutMs) {
  const response = await timedGet(url, { timeoutMs });
  if (response.status !== 200) {
    throw new Error(
      `GET ${url} answered ${response.status}: ${response.body.slice(0, 200)}`,
    );
  }
  return response;
}

/**
 * A few requests, until every serving process has answered at least once. They
 * leave /api/randoms alone: its pool threads start on demand, and "idle" means a
 * server that has not computed yet (or not for a while) and so holds none.
 */
async function warmUp(server, servingProcesses) {
  const seen = new Set();
  const deadline = performance.now() + 20_000;
  for (let i = 0; i < 10 || seen.size < servingProcesses; i++) {
    if (performance.now() > deadline) {
      throw new Error(
        `only ${seen.size} of ${servingProcesses} processes answered within 20 s`,
      );
    }
    const path = i % 3 === 2 ? '/health' : '/api/info';
    seen.add(assertOurs(server, await getOk(urlOf(server.port, path))).pid);
  }
  return seen;
}

/** RSS of the server's process tree, in MiB: the root process and its direct children. */
function idleMemory(server) {
  const { totalKb, processes } = rssOfTree(server.pid);
  const root = processes.find((p) => p.pid === server.pid);
  const children = processes
    .filter((p) => p.ppid === server.pid)
    .sort((a, b) => a.pid - b.pid);
  return {
    totalMiB: totalKb / MIB,
    primaryMiB: (root?.rssKb ?? 0) / MIB,
    workersMiB: children.map((p) => p.rssKb / MIB),
  };
}

// ---------------------------------------------------------------------------
// Measurements

/** Requests per second of /api/info with `connections` keep-alive clients, after a warm-up. */
async function infoThroughput(server, profile) {
  const url = urlOf(server.port, '/api/info');
  const options = { url, connections: profile.connections };
  await runAutocannon({ ...options, duration: profile.warmupS });
  const result = await runAutocannon({ ...options, duration: profile.rpsS });
  return { rps: result.rps, p99: result.p99, failures: failures(result) };
}

/** Checks an /api/randoms answer really holds `cant` draws. */
function assertDraws(response, cant) {
  const counts = JSON.parse(response.body);
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  if (total !== cant) {
    throw new Error(
      `/api/randoms?cant=${cant} returned counts adding up to ${total}`,
    );
  }
}

/** Wall time of one /api/randoms request at a time, on a fresh connection each. */
async function sequentialRandoms(server, cant, repeats) {
  await getOk(urlOf(server.port, '/api/randoms?cant=4000000')); // warm-up, both threads
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const response = await getOk(
      urlOf(server.port, `/api/randoms?cant=${cant}`),
    );
    assertDraws(response, cant);
    times.push(response.ms);
  }
  return median(times);
}

/** Wall time until `concurrency` simultaneous /api/randoms requests have all answered. */
async function concurrentRandoms(server, cant, concurrency, repeats) {
  // Warm-up batch: every worker starts its on-demand pool threads.
  await Promise.all(
    Array.from({ length: concurrency }, () =>
      getOk(urlOf(server.port, '/api/randoms?cant=4000000')),
    ),
  );
  const times = [];
  const pids = new Set();
  for (let i = 0; i < repeats; i++) {
    const url = urlOf(server.port, `/api/randoms?cant=${cant}`);
    const start = performance.now();
    const responses = await Promise.all(
      Array.from({ length: concurrency }, () => getOk(url)),
    );
    times.push(performance.now() - start);
    for (const response of responses) {
      assertDraws(response, cant);
      pids.add(assertOurs(server, response).pid);
    }
  }
  return { ms: median(times), servedBy: pids.size };
}

/** Failed requests of an autocannon run: connection errors and non-2xx answers by status. */
function failures(result) {
  const byStatus = {};
  for (const { status } of result.responses) {
    if (status < 200 || status >= 300)
      byStatus[status] = (byStatus[status] ?? 0) + 1;
  }
  const parts = Object.entries(byStatus).map(
    ([status, n]) => `${n} × ${status}`,
  );
  if (result.errors > 0)
    parts.unshift(`${result.errors} connection errors/timeouts`);
  return parts.join(', ');
}

/** Latency percentiles of the answers that arrived up to `until` (performance.now() clock). */
function latencyOf(responses, until = Infinity) {
  const kept = responses.filter((r) => r.at <= until);
  const ms = kept.map((r) => r.ms);
  return {
    p50: quantile(ms, 0.5),
    p99: quantile(ms, 0.99),
    requests: kept.length,
  };
}

/**
 * /api/info latency while one large /api/randoms request is being computed. The
 * load starts just after the big request and counts the answers that arrive until
 * the big one does, or until the window cap; the server is stopped afterwards,
 * which also ends the reference's forked child.
 */
async function infoWhileComputing(server, profile) {
  const started = performance.now();
  const url = urlOf(server.port, `/api/randoms?cant=${profile.loadCant}`);
  const big = timedGet(url, { timeoutMs: 300_000 }).then(
    (response) => ({
      at: performance.now(),
      ms: response.ms,
      status: response.status,
    }),
    () => null, // the server was stopped under it
  );
  await sleep(100);
  const load = startAutocannon({
    url: urlOf(server.port, '/api/info'),
    connections: profile.connections,
    duration: profile.loadWindowMaxS,
    sampleInt: 100, // so that stop() takes effect within 100 ms
  });
  const loadStart = performance.now();
  const bigFirst = await Promise.race([big, load.result.then(() => undefined)]);
  const until = bigFirst?.at ?? performance.now();
  load.stop();
  const result = await load.result;
  return {
    ...latencyOf(result.responses, until),
    failures: failures(result),
    windowMs: until - loadStart,
    computeMs: bigFirst?.status === 200 ? bigFirst.at - started : null,
  };
}

// ---------------------------------------------------------------------------
// One block per implementation and mode

async function forkBlock(impl, profile) {
  log(`${impl.name} FORK: starting`);
  const server = await startImplementation(impl, 'FORK');
  try {
    await warmUp(server, 1);
    await sleep(profile.idleMs);
    const memory = idleMemory(server);
    log(
      `${impl.name} FORK: /api/randoms?cant=${profile.forkCant} x${profile.forkRepeats}`,
    );
    const randomsMs = await sequentialRandoms(
      server,
      profile.forkCant,
      profile.forkRepeats,
    );
    // Before the throughput run, so that only the computation has touched memory.
    await sleep(profile.idleMs);
    const afterCompute = idleMemory(server); // the pool's threads are still up
    log(`${impl.name} FORK: /api/info throughput`);
    const info = await infoThroughput(server, profile);
    log(
      `${impl.name} FORK: /api/info while cant=${profile.loadCant} is computed`,
    );
    const underLoad = await infoWhileComputing(server, profile);
    return {
      startupMs: server.startupMs,
      rssMiB: memory.totalMiB,
      rssAfterComputeMiB: afterCompute.totalMiB,
      infoRps: info.rps,
      infoFailures: info.failures,
      randomsMs,
      underLoad,
    };
  } finally {
    await server.stop();
  }
}

async function clusterBlock(impl, profile) {
  log(`${impl.name} CLUSTER: starting`);
  const server = await startImplementation(impl, 'CLUSTER');
  try {
    const workers = os.availableParallelism(); // the default of both servers
    await warmUp(server, workers);
    await sleep(profile.idleMs);
    const memory = idleMemory(server);
    log(`${impl.name} CLUSTER: /api/info throughput`);
    const info = await infoThroughput(server, profile);
    log(
      `${impl.name} CLUSTER: ${profile.clusterConcurrency} concurrent cant=${profile.clusterCant} x${profile.clusterRepeats}`,
    );
    const batch = await concurrentRandoms(
      server,
      profile.clusterCant,
      profile.clusterConcurrency,
      profile.clusterRepeats,
    );
    return {
      startupMs: server.startupMs,
      primaryMiB: memory.primaryMiB,
      workersMiB: memory.workersMiB,
      infoRps: info.rps,
      infoFailures: info.failures,
      batchMs: batch.ms,
      batchServedBy: batch.servedBy,
    };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------
// nginx (scenario 2): the same four servers, direct and through the proxy

function portInUse(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(true));
    // No host: binds [::] dual-stack, as the servers do, so any holder conflicts.
    probe.listen(port, () => probe.close(() => resolve(false)));
  });
}

function whoListens(port) {
  const result = spawnSync('ss', ['-Hltnp', `sport = :${port}`], {
    encoding: 'utf8',
  });
  const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(result.stdout ?? '');
  return match ? `${port} (pid ${match[2]}, ${match[1]})` : String(port);
}

async function waitForFreePorts(ports, maxMs) {
  const deadline = performance.now() + maxMs;
  let announced = false;
  for (;;) {
    const busy = [];
    for (const port of ports) if (await portInUse(port)) busy.push(port);
    if (busy.length === 0) return [];
    if (performance.now() >= deadline) return busy;
    if (!announced) {
      log(
        `nginx: ports ${busy.map(whoListens).join(', ')} in use; waiting up to ${maxMs / 1000} s`,
      );
      announced = true;
    }
    await sleep(1000);
  }
}

const LOCAL_PATH_DIRECTIVES =
  /^(\s*(?:pid|error_log|access_log|(?:client_body|proxy|fastcgi|uwsgi|scgi)_temp_path)\s+)(\/[^\s;]+)/gm;

/** The shipped config with `listen 80` moved to 127.0.0.1:port and its files moved into dir. */
function nginxConfigFor(port, dir) {
  const original = readFileSync(NGINX.config, 'utf8');
  let text = original.replace(
    /^(\s*)listen\s+80(?=[\s;])/m,
    `$1listen ${HOST}:${port}`,
  );
  if (text === original)
    throw new Error(`${NGINX.config} has no "listen 80" to move`);
  text = text.replace(
    LOCAL_PATH_DIRECTIVES,
    (_, head, path) => head + join(dir, basename(path)),
  );
  if (!/^\s*pid\s/m.test(text))
    text = `pid ${join(dir, 'nginx.pid')};\n${text}`;
  return text;
}

async function startNginx(dir) {
  const port = await freePort();
  const config = join(dir, 'nginx.conf');
  writeFileSync(config, nginxConfigFor(port, dir));
  const base = ['-e', join(dir, 'startup-error.log'), '-c', config];
  const check = spawnSync(NGINX.binary, ['-t', ...base], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t failed:\n${check.stderr}`);
  const server = await startServer({
    cmd: NGINX.binary,
    args: [...base, '-g', 'daemon off;'],
    port,
    cwd: dir,
    readyPath: '/nginx-health',
  });
  return { ...server, controlArgs: base };
}

async function stopNginx(nginx) {
  try {
    execFileSync(NGINX.binary, ['-s', 'quit', ...nginx.controlArgs], {
      stdio: 'pipe',
    });
    if (nginx.child.exitCode === null && nginx.child.signalCode === null) {
      await Promise.race([once(nginx.child, 'exit'), sleep(5_000)]);
    }
  } finally {
    await nginx.stop(); // whatever is left of the group
  }
}

/** Checks nginx spreads /api/randoms over the four servers we started. */
async function assertBalanced(nginx, servers) {
  const ours = new Map(servers.map((s) => [s.pid, s.port]));
  const ports = new Set();
  for (let i = 0; i < 8; i++) {
    const response = await getOk(urlOf(nginx.port, '/api/randoms?cant=1000'));
    const by = servedBy(response.headers);
    if (!by || ours.get(by.pid) !== by.port) {
      throw new Error(
        `nginx answered from ${response.headers['x-served-by']}, not one of our servers`,
      );
    }
    ports.add(by.port);
  }
  if (ports.size !== NGINX.upstreamPorts.length) {
    throw new Error(
      `8 requests through nginx reached only ports ${[...ports].join(', ')}`,
    );
  }
}

/**
 * The same path on the same four servers, direct and through nginx, in turn:
 * requests/s with `nginxConnections` clients going flat out, then latency at a
 * fixed `nginxRate` requests/s, well below capacity, where queueing does not
 * hide what the extra hop costs.
 */
async function proxyOverhead(nginx, profile, runIndex) {
  const path = `/api/randoms?cant=${profile.nginxCant}`;
  const targets = {
    direct: NGINX.upstreamPorts.map((port) => urlOf(port, path)), // connections shared out
    proxied: urlOf(nginx.port, path),
  };
  const flatOut = {
    connections: profile.nginxConnections,
    duration: profile.nginxS,
  };
  const paced = {
    connections: NGINX.upstreamPorts.length,
    overallRate: profile.nginxRate,
    duration: profile.nginxS,
  };
  for (const url of Object.values(targets)) {
    await runAutocannon({ url, ...flatOut, duration: profile.warmupS });
  }
  const order =
    runIndex % 2 === 0 ? ['direct', 'proxied'] : ['proxied', 'direct'];
  const results = {};
  for (const name of order) {
    log(
      `nginx: ${name}, ${flatOut.connections} connections flat out, then ${paced.overallRate} req/s`,
    );
    const saturated = await runAutocannon({ url: targets[name], ...flatOut });
    const fixed = await startAutocannon({ url: targets[name], ...paced })
      .result;
    const latency = latencyOf(fixed.responses);
    results[name] = {
      rps: saturated.rps,
      saturatedP99: saturated.p99,
      p50: latency.p50,
      p99: latency.p99,
      failures: [failures(saturated), failures(fixed)]
        .filter(Boolean)
        .join(', '),
    };
  }
  return results;
}

async function nginxBlock(profile, runIndex) {
  if (!NGINX.binary) return { skipped: 'nginx is not installed' };
  if (!existsSync(NGINX.config))
    return { skipped: `${NGINX.config} is missing` };
  const ports = [NGINX.singlePort, ...NGINX.upstreamPorts];
  const busy = await waitForFreePorts(ports, profile.portWaitMs);
  if (busy.length > 0) {
    return {
      skipped: `ports ${busy.map(whoListens).join(', ')} stayed in use (the config fixes them)`,
    };
  }
  log(`nginx: starting our FORK servers on ${ports.join(', ')}`);
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-nginx-'));
  chmodSync(dir, 0o755); // nginx workers run as nobody and use the temp dirs in here
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir); // also after Ctrl-C, which skips the finally below
  const servers = [];
  let nginx;
  try {
    const started = await Promise.allSettled(
      ports.map((port) =>
        startImplementation(IMPLEMENTATIONS[0], 'FORK', port),
      ),
    );
    for (const s of started)
      if (s.status === 'fulfilled') servers.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    for (const server of servers)
      assertOurs(server, await getOk(urlOf(server.port, '/health')));
    nginx = await startNginx(dir);
    await assertBalanced(nginx, servers.slice(1));
    return await proxyOverhead(nginx, profile, runIndex);
  } finally {
    if (nginx) await stopNginx(nginx);
    await Promise.all(servers.map((s) => s.stop()));
    removeDir();
    process.off('exit', removeDir);
  }
}

// ---------------------------------------------------------------------------
// Rounds

async function attempt(what, fn) {
  try {
    return await fn();
  } catch (error) {
    log(`${what} FAILED: ${error.message}`);
    return { error: `${what}: ${error.message.split('\n')[0]}` };
  }
}

async function benchRound(index, profile) {
  const order =
    index % 2 === 0 ? IMPLEMENTATIONS : [...IMPLEMENTATIONS].reverse();
  log(
    `round ${index + 1}/${profile.runs}: order ${order.map((i) => i.name).join(', ')}`,
  );
  const round = { ours: {}, reference: {} };
  for (const impl of order) {
    round[impl.name].fork = await attempt(`${impl.name} FORK`, () =>
      forkBlock(impl, profile),
    );
  }
  for (const impl of order) {
    round[impl.name].cluster = await attempt(`${impl.name} CLUSTER`, () =>
      clusterBlock(impl, profile),
    );
  }
  round.nginx = await attempt('nginx', () => nginxBlock(profile, index));
  if (round.nginx.skipped) log(`nginx SKIPPED: ${round.nginx.skipped}`);
  return round;
}

// ---------------------------------------------------------------------------
// Rows: what each line of the table reads from a round

const oursOverBase = (ours, base) => ours / base;
const baseOverOurs = (ours, base) => base / ours;

function defineRows(profile, workers) {
  const fork = (impl) => (round) => round[impl].fork;
  const cluster = (impl) => (round) => round[impl].cluster;
  const pick = (block, field) => (round) => block(round)?.[field];
  const both = (block, field) => ({
    ours: pick(block('ours'), field),
    base: pick(block('reference'), field),
  });
  const scaling = (impl) => (round) =>
    cluster(impl)(round)?.infoRps / fork(impl)(round)?.infoRps;
  const nginx = (side, field) => (round) => round.nginx?.[side]?.[field];

  const rows = [
    {
      label: `\`/api/randoms?cant=${profile.forkCant}\`, FORK, wall time per request`,
      unit: 'ms',
      ...both(fork, 'randomsMs'),
      ratio: baseOverOurs,
      target: { kind: 'ratio', min: 5, text: 'ref ÷ ours ≥ 5×' },
    },
    {
      label: `${profile.clusterConcurrency} concurrent \`cant=${profile.clusterCant}\`, CLUSTER, wall time of the batch`,
      unit: 'ms',
      ...both(cluster, 'batchMs'),
      ratio: baseOverOurs,
      target: { kind: 'ratio', min: 3, text: 'ref ÷ ours ≥ 3×' },
    },
    {
      label: `\`/api/info\` p99 while \`cant=${profile.loadCant}\` is computed, FORK`,
      unit: 'ms',
      ours: (round) => fork('ours')(round)?.underLoad?.p99,
      base: (round) => fork('reference')(round)?.underLoad?.p99,
      ratio: oursOverBase,
      target: { kind: 'ours', max: 20, text: 'ours < 20 ms' },
    },
    {
      label: '`/api/info` requests/s, FORK',
      unit: 'rps',
      ...both(fork, 'infoRps'),
      ratio: oursOverBase,
      target: { kind: 'ratio', min: 0.9, text: 'ours ÷ ref ≥ 0.9×' },
    },
    {
      label: '`/api/info` requests/s, CLUSTER',
      unit: 'rps',
      ...both(cluster, 'infoRps'),
      ratio: oursOverBase,
      target: { kind: 'ratio', min: 0.9, text: 'ours ÷ ref ≥ 0.9×' },
    },
    {
      label: '`/api/info` scaling, CLUSTER ÷ FORK requests/s',
      unit: '×',
      ours: scaling('ours'),
      base: scaling('reference'),
      ratio: oursOverBase,
      target: { kind: 'report', text: 'report (ours ÷ ref)' },
    },
    {
      label: `\`/api/randoms?cant=${profile.nginxCant}\` requests/s, 4 servers: through nginx (ours column) vs direct (baseline)`,
      unit: 'rps',
      ours: nginx('proxied', 'rps'),
      base: nginx('direct', 'rps'),
      ratio: oursOverBase,
      target: { kind: 'report', text: 'report (nginx ÷ direct)' },
    },
    {
      label: `\`/api/randoms?cant=${profile.nginxCant}\` p99 at a fixed ${profile.nginxRate} req/s, 4 servers: through nginx (ours column) vs direct (baseline)`,
      unit: 'ms',
      ours: nginx('proxied', 'p99'),
      base: nginx('direct', 'p99'),
      ratio: oursOverBase,
      target: { kind: 'report', text: 'report (nginx ÷ direct)' },
    },
    {
      label: 'idle RSS, FORK server',
      unit: 'MiB',
      ...both(fork, 'rssMiB'),
      ratio: oursOverBase,
      target: { kind: 'ours', max: 100, text: 'ours < 100 MiB' },
    },
    {
      label: 'RSS 1 s after the row 1 requests, FORK (pool threads still up)',
      unit: 'MiB',
      ...both(fork, 'rssAfterComputeMiB'),
      ratio: oursOverBase,
      target: { kind: 'report', text: 'report (ours ÷ ref)' },
    },
    {
      label: 'idle RSS, CLUSTER primary',
      unit: 'MiB',
      ...both(cluster, 'primaryMiB'),
      ratio: oursOverBase,
      target: { kind: 'report', text: 'report (ours ÷ ref)' },
    },
  ];
  for (let w = 0; w < workers; w++) {
    rows.push({
      label: `idle RSS, CLUSTER worker ${w + 1}`,
      unit: 'MiB',
      ours: (round) => cluster('ours')(round)?.workersMiB?.[w],
      base: (round) => cluster('reference')(round)?.workersMiB?.[w],
      ratio: oursOverBase,
      target: { kind: 'report', text: 'report (ours ÷ ref)' },
    });
  }
  rows.push(
    {
      label: 'start to first answered request, FORK',
      unit: 'ms',
      ...both(fork, 'startupMs'),
      ratio: oursOverBase,
      target: { kind: 'report', text: 'report (ours ÷ ref)' },
    },
    {
      label: 'start to first answered request, CLUSTER',
      unit: 'ms',
      ...both(cluster, 'startupMs'),
      ratio: oursOverBase,
      target: { kind: 'report', text: 'report (ours ÷ ref)' },
    },
  );
  return rows;
}

// ---------------------------------------------------------------------------
// Statistics and verdicts

const isFiniteNumber = (v) => typeof v === 'number' && Number.isFinite(v);

function stats(values) {
  if (values.length === 0) return null;
  const { min, max } = spread(values);
  return { median: median(values), min, max, n: values.length };
}

function summarizeRow(row, rounds) {
  const pairs = rounds.map((round) => ({
    ours: row.ours(round),
    base: row.base(round),
  }));
  const ours = pairs.map((p) => p.ours).filter(isFiniteNumber);
  const base = pairs.map((p) => p.base).filter(isFiniteNumber);
  // Ratios are taken within a round, then their median: the machine is shared and noisy.
  const ratios = pairs
    .filter(
      (p) =>
        isFiniteNumber(p.ours) &&
        isFiniteNumber(p.base) &&
        p.ours > 0 &&
        p.base > 0,
    )
    .map((p) => row.ratio(p.ours, p.base));
  return { ours: stats(ours), base: stats(base), ratio: stats(ratios) };
}

function verdict(row, summary) {
  const { target } = row;
  if (target.kind === 'report') return 'report';
  const value =
    target.kind === 'ratio' ? summary.ratio?.median : summary.ours?.median;
  if (value === undefined) return 'n/a';
  const pass =
    target.kind === 'ratio' ? value >= target.min : value < target.max;
  return pass ? 'PASS' : 'FAIL';
}

function describeMiss(row, summary) {
  const { target } = row;
  if (target.kind === 'ratio') {
    const got = summary.ratio.median;
    return `${row.label}: ${got.toFixed(3)}× (target ${target.text}; ${((1 - got / target.min) * 100).toFixed(1)}% short)`;
  }
  const got = summary.ours.median;
  return `${row.label}: ${formatValue(got, row.unit)} (target ${target.text}; ${((got / target.max - 1) * 100).toFixed(1)}% over)`;
}

// ---------------------------------------------------------------------------
// Markdown

function formatNumber(value) {
  if (!isFiniteNumber(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatValue(value, unit) {
  if (!isFiniteNumber(value)) return '–';
  return unit === '×'
    ? `${value.toFixed(2)}×`
    : `${formatNumber(value)} ${unit}`;
}

const formatRatio = (value) =>
  isFiniteNumber(value) ? `${value.toFixed(2)}×` : '–';

/** The median ratio, with a third decimal when rounding would hide which side of the target it is on. */
function ratioCell(row, value) {
  const text = formatRatio(value);
  const { kind, min } = row.target;
  const shown = Number.parseFloat(text);
  if (
    kind === 'ratio' &&
    isFiniteNumber(value) &&
    shown >= min !== value >= min
  ) {
    return `${value.toFixed(3)}×`;
  }
  return text;
}

function formatRange(s, format) {
  if (!s) return '–';
  return s.n === 1 ? format(s.min) : `${format(s.min)}–${format(s.max)}`;
}

function renderTable(rows, summaries) {
  const lines = [
    '| # | measure | ours (median) | baseline (median) | ratio, same round (median) | target | result | spread: ours · baseline · ratio (min–max) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  rows.forEach((row, i) => {
    const s = summaries[i];
    const result = verdict(row, s);
    const number = (v) => formatValue(v, row.unit);
    lines.push(
      `| ${i + 1} | ${row.label} | ${number(s.ours?.median)} | ${number(s.base?.median)} | ${ratioCell(row, s.ratio?.median)} | ${row.target.text} | ${result === 'FAIL' ? '**FAIL**' : result} | ${formatRange(s.ours, number)} · ${formatRange(s.base, number)} · ${formatRange(s.ratio, formatRatio)} |`,
    );
  });
  return lines.join('\n');
}

function collectNotes(rounds, rows, summaries, profile) {
  const notes = [];
  const misses = rows
    .map((row, i) => ({ row, s: summaries[i] }))
    .filter(({ row, s }) => verdict(row, s) === 'FAIL')
    .map(({ row, s }) => describeMiss(row, s));
  notes.push(
    misses.length === 0
      ? 'All targets met.'
      : `**Targets missed (${misses.length}):**\n${misses.map((m) => `  - ${m}`).join('\n')}`,
  );
  const loads = (impl) =>
    rounds.map((r) => r[impl].fork?.underLoad).filter(Boolean);
  const windows = ['ours', 'reference'].map(
    (impl) =>
      `${impl} ${loads(impl)
        .map((l) => `${l.requests} answers in ${Math.round(l.windowMs)} ms`)
        .join(', ')}`,
  );
  const computed = loads('ours').map((l) =>
    isFiniteNumber(l.computeMs)
      ? `${Math.round(l.computeMs)} ms`
      : `still running at the ${profile.loadWindowMaxS} s cap`,
  );
  notes.push(
    `Row 3 windows: ${windows.join('; ')}. Ours computed cant=${profile.loadCant} in ${computed.join(', ') || '–'}. The reference's window ends at the ${profile.loadWindowMaxS} s cap, before its child is done; the server is then stopped.`,
  );
  const nginxMedian = (side, field) =>
    formatValue(
      median(
        rounds.map((r) => r.nginx?.[side]?.[field]).filter(isFiniteNumber),
      ),
      'ms',
    );
  notes.push(
    `Rows 7–8, medians: p50 at ${profile.nginxRate} req/s direct ${nginxMedian('direct', 'p50')}, through nginx ${nginxMedian('proxied', 'p50')}; p99 flat out (autocannon, whole ms) direct ${nginxMedian('direct', 'saturatedP99')}, through nginx ${nginxMedian('proxied', 'saturatedP99')}.`,
  );
  const served = ['ours', 'reference'].map(
    (impl) =>
      `${impl} ${rounds.map((r) => r[impl].cluster?.batchServedBy ?? '–').join(', ')}`,
  );
  notes.push(
    `Row 2: workers that served each round's batches: ${served.join('; ')}.`,
  );
  for (const [i, round] of rounds.entries()) {
    const blocks = [
      ['ours FORK', round.ours.fork],
      ['ours CLUSTER', round.ours.cluster],
      ['reference FORK', round.reference.fork],
      ['reference CLUSTER', round.reference.cluster],
    ];
    for (const [name, block] of blocks) {
      if (block?.error) notes.push(`Round ${i + 1}: **${block.error}**`);
      const failed = [block?.infoFailures, block?.underLoad?.failures].filter(
        Boolean,
      );
      if (failed.length > 0) {
        notes.push(
          `Round ${i + 1}: ${name}: /api/info failures: ${failed.join(', ')}`,
        );
      }
    }
    const { nginx } = round;
    if (nginx?.error) notes.push(`Round ${i + 1}: **${nginx.error}**`);
    if (nginx?.skipped)
      notes.push(`Round ${i + 1}: nginx rows SKIPPED: ${nginx.skipped}`);
    for (const side of ['direct', 'proxied']) {
      if (nginx?.[side]?.failures) {
        notes.push(
          `Round ${i + 1}: nginx rows, ${side}: failures: ${nginx[side].failures}`,
        );
      }
    }
  }
  return notes;
}

function nginxVersion() {
  if (!NGINX.binary) return 'not installed';
  const result = spawnSync(NGINX.binary, ['-v'], { encoding: 'utf8' });
  return (result.stderr || result.stdout)
    .trim()
    .replace(/^nginx version:\s*/, '');
}

function commandLine() {
  if (process.env.npm_lifecycle_event === 'bench') {
    const extra = process.argv.slice(2).join(' ');
    return `npm run bench${extra ? ` -- ${extra}` : ''}`;
  }
  return ['node', 'bench/run.js', ...process.argv.slice(2)].join(' ');
}

function machineBlock(context) {
  const cpus = os.cpus();
  const minutes = Math.floor(context.durationS / 60);
  const seconds = Math.round(context.durationS % 60);
  return [
    '```text',
    `date:      ${new Date().toISOString()}`,
    `command:   ${commandLine()}`,
    `profile:   ${context.quick ? 'quick (smoke run, smaller workloads)' : 'full'}, ${context.runs} round(s), ours/reference alternating`,
    `duration:  ${minutes} min ${seconds} s`,
    `cpu:       ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores (availableParallelism ${os.availableParallelism()})`,
    `memory:    ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB total`,
    `node:      ${process.version}`,
    `kernel:    ${os.type()} ${os.release()} (${os.version()})`,
    `nginx:     ${nginxVersion()}`,
    `load avg:  ${context.loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} after (1/5/15 min)`,
    '```',
  ].join('\n');
}

function renderReport(rounds, profile, context) {
  const workers = Math.max(
    0,
    ...rounds.flatMap((r) => [
      r.ours.cluster?.workersMiB?.length ?? 0,
      r.reference.cluster?.workersMiB?.length ?? 0,
    ]),
  );
  const rows = defineRows(profile, workers);
  const summaries = rows.map((row) => summarizeRow(row, rounds));
  const notes = collectNotes(rounds, rows, summaries, profile);
  const report = [
    'Baseline: `bench/reference-server.js` (Express, one `child_process.fork` per `/api/randoms`), same mode, same round — except rows 7–8, where the baseline is the same four servers of ours reached directly.',
    '',
    renderTable(rows, summaries),
    '',
    ...notes.map((note) => (note.startsWith('**') ? note : `- ${note}`)),
    '',
    machineBlock(context),
  ].join('\n');
  const failed = summaries.some((s, i) => verdict(rows[i], s) === 'FAIL');
  return { report, failed };
}

function writeBetweenMarkers(file, content) {
  // Prettier leaves the generated block alone, so the next run's diff is only figures.
  const block = [
    MARK_START,
    '<!-- prettier-ignore-start -->',
    content,
    '<!-- prettier-ignore-end -->',
    MARK_END,
  ].join('\n');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = text.indexOf(MARK_START);
  const end = text.indexOf(MARK_END);
  const updated =
    start !== -1 && end > start
      ? text.slice(0, start) + block + text.slice(end + MARK_END.length)
      : `${text}${text && !text.endsWith('\n') ? '\n' : ''}${text ? '\n' : '# Benchmarks\n\n'}${block}\n`;
  writeFileSync(file, updated);
}

// ---------------------------------------------------------------------------

async function main() {
  const { quick, profile, out } = readOptions();
  const build = await snapshotBuild();
  process.once('exit', () => rmSync(build, { recursive: true, force: true }));
  IMPLEMENTATIONS = [
    { name: 'ours', script: join(build, 'dist', 'main.js') },
    REFERENCE,
  ];
  log(`benchmarking the build copied to ${build}`);
  const loadBefore = os.loadavg();
  const rounds = [];
  for (let i = 0; i < profile.runs; i++)
    rounds.push(await benchRound(i, profile));
  const durationS = (performance.now() - benchStart) / 1000;
  const { report } = renderReport(rounds, profile, {
    quick,
    runs: profile.runs,
    durationS,
    loadBefore,
  });
  process.stdout.write(`${report}\n`);
  if (out) {
    writeBetweenMarkers(out, report);
    log(`wrote the table into ${out}`);
  }
  const broken = rounds.some((r) =>
    [
      r.ours.fork,
      r.ours.cluster,
      r.reference.fork,
      r.reference.cluster,
      r.nginx,
    ].some((block) => block?.error),
  );
  log(
    `done in ${durationS.toFixed(0)} s${broken ? ', with failed measurements' : ''}`,
  );
  process.exitCode = broken ? 1 : 0;
}

main().catch((error) => {
  log(`bench failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
