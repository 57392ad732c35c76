// Reusable helpers for the benchmark runner: server lifecycle, timed requests,
// autocannon runs, process-tree memory and small statistics.
// Linux only: process groups and /proc are used to find and measure processes.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';

const HOST = '127.0.0.1';
const OUTPUT_LIMIT = 64 * 1024;

// ---------------------------------------------------------------------------
// Safety: benchmark traffic only ever goes to this machine.

function assertLoopback(url) {
  for (const one of [url].flat()) {
    const { hostname } = new URL(one);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) {
      throw new Error(`refusing to send benchmark traffic to ${hostname}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Clean-up guard: every process group we start dies with this process.

const startedGroups = new Set();
let guardInstalled = false;

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is already gone
  }
}

function killAllGroups() {
  for (const pgid of startedGroups) killGroup(pgid, 'SIGKILL');
  startedGroups.clear();
}

function installCleanupGuard() {
  if (guardInstalled) return;
  guardInstalled = true;
  // 'exit' handlers must be synchronous, hence SIGKILL rather than a graceful stop.
  process.once('exit', killAllGroups);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
    process.once(signal, () => {
      killAllGroups();
      process.exit(code);
    });
  }
}

// ---------------------------------------------------------------------------
// /proc helpers

function readProcStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or ')'.
    const close = stat.lastIndexOf(')');
    const command = stat.slice(stat.indexOf('(') + 1, close);
    const [state, ppid, pgrp] = stat.slice(close + 2).split(' ');
    return { pid, command, state, ppid: Number(ppid), pgrp: Number(pgrp) };
  } catch {
    return null; // the process vanished between listing and reading
  }
}

function listProcesses() {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProcStat(Number(name)))
    .filter(Boolean);
}

// Zombies are ignored: nothing here may reap orphans, and they hold no memory.
function liveGroupMembers(pgid) {
  return listProcesses().filter((p) => p.pgrp === pgid && p.state !== 'Z');
}

function readRssKb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function readCmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .join(' ')
      .trim();
  } catch {
    return '';
  }
}

/**
 * RSS of a process and all its descendants (cluster workers, forked children…).
 * @returns {{ totalKb: number, processes: Array<{pid, ppid, rssKb, command}> }}
 */
export function rssOfTree(rootPid) {
  const all = listProcesses().filter((p) => p.state !== 'Z');
  const tree = [];
  const queue = all.filter((p) => p.pid === rootPid);
  while (queue.length > 0) {
    const proc = queue.shift();
    tree.push(proc);
    queue.push(...all.filter((p) => p.ppid === proc.pid));
  }
  const processes = tree.map(({ pid, ppid }) => ({
    pid,
    ppid,
    rssKb: readRssKb(pid),
    command: readCmdline(pid),
  }));
  const totalKb = processes.reduce((sum, p) => sum + p.rssKb, 0);
  return { totalKb, processes };
}

// ---------------------------------------------------------------------------
// HTTP helpers

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * One GET on a fresh connection (no keep-alive pool), timed until the body ends.
 * `timeoutMs` bounds socket inactivity, which here is the server's compute time.
 * @returns {Promise<{ status: number, ms: number, headers: object, body: string }>}
 */
export function timedGet(url, { timeoutMs = 120_000 } = {}) {
  assertLoopback(url);
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          ms: performance.now() - start,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('timeout', () =>
      req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
  });
}

/** Parses `X-Served-By: <port>:<pid>` from a response's headers. */
export function servedBy(headers) {
  const value = headers['x-served-by'];
  if (!value) return null;
  const [port, pid] = String(value).split(':').map(Number);
  return { port, pid };
}

function summarizeAutocannon(raw) {
  return {
    rps: raw.requests.average,
    p50: raw.latency.p50,
    p99: raw.latency.p99,
    errors: raw.errors, // includes timeouts
    timeouts: raw.timeouts,
    non2xx: raw.non2xx,
    total: raw.requests.total,
    raw,
  };
}

/**
 * Runs autocannon and keeps the figures the report needs (latencies in ms).
 * `opts` goes straight to autocannon; defaults: 10 connections for 5 s.
 * `opts.url` may be an array: connections are then shared out across the URLs.
 * @returns {Promise<{ rps, p50, p99, errors, timeouts, non2xx, total, raw }>}
 */
export async function runAutocannon(opts) {
  return startAutocannon(opts).result;
}

/**
 * Like runAutocannon, but returns at once: `stop()` ends the run early (the
 * figures then cover the time it ran; autocannon notices at its next sample,
 * every `sampleInt` ms), `result` resolves with the summary.
 * The summary also has `responses`: every answer as `{ at, ms, status }`, `at` on the
 * performance.now() clock when it arrived, `ms` its latency at full resolution
 * (autocannon's own percentiles are whole milliseconds).
 * @returns {{ stop(): void, result: Promise<object> }}
 */
export function startAutocannon(opts) {
  assertLoopback(opts.url);
  const tracker = autocannon({ connections: 10, duration: 5, ...opts });
  const responses = [];
  tracker.on('response', (_client, status, _bytes, ms) => {
    responses.push({ at: performance.now(), ms, status });
  });
  return {
    stop: () => tracker.stop(),
    result: Promise.resolve(tracker).then((raw) => ({
      ...summarizeAutocannon(raw),
      responses,
    })),
  };
}

// ---------------------------------------------------------------------------
// Server lifecycle

function captureOutput(child) {
  let output = '';
  const append = (chunk) => {
    output = (output + chunk).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => output;
}

async function waitForReady({ url, child, deadline }) {
  while (performance.now() < deadline) {
    if (
      child.exitCode !== null ||
      child.signalCode !== null ||
      child.spawnError
    ) {
      const reason =
        child.spawnError?.message ??
        `exit ${child.exitCode ?? child.signalCode}`;
      throw new Error(`server exited before it was ready (${reason})`);
    }
    try {
      const remaining = Math.max(
        1,
        Math.min(1_000, deadline - performance.now()),
      );
      const { status } = await timedGet(url, { timeoutMs: remaining });
      if (status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  throw new Error(`server not ready at ${url} within the timeout`);
}

async function stopGroup(pgid, graceMs) {
  killGroup(pgid, 'SIGTERM');
  const deadline = performance.now() + graceMs;
  while (liveGroupMembers(pgid).length > 0) {
    if (performance.now() >= deadline) {
      killGroup(pgid, 'SIGKILL');
      break;
    }
    await sleep(25);
  }
  startedGroups.delete(pgid);
}

/**
 * Spawns a server in its own process group and waits until `readyPath` answers 200.
 * `args` may be a function of the port, e.g. `(port) => ['dist/main.js', '--port', port]`.
 * @returns {Promise<{ child, pid, port, startupMs, output(): string, stop(): Promise<void> }>}
 */
export async function startServer({
  cmd = process.execPath,
  args = [],
  env = {},
  port,
  readyPath = '/health',
  timeoutMs = 30_000,
  stopGraceMs = 5_000,
  cwd,
}) {
  installCleanupGuard();
  port ??= await freePort();
  const argv = (typeof args === 'function' ? args(port) : args).map(String);

  const start = performance.now();
  const child = spawn(cmd, argv, {
    cwd,
    env: { ...process.env, ...env },
    detached: true, // own process group, so stop() reaches workers and forked children
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.once('error', (err) => {
    child.spawnError = err;
  });
  const output = captureOutput(child);
  const pid = child.pid;
  if (pid) startedGroups.add(pid);

  let stopping;
  const stop = () =>
    (stopping ??= pid ? stopGroup(pid, stopGraceMs) : Promise.resolve());

  try {
    await waitForReady({
      url: `http://${HOST}:${port}${readyPath}`,
      child,
      deadline: start + timeoutMs,
    });
  } catch (err) {
    await stop();
    err.message += `\n--- ${cmd} ${argv.join(' ')} output ---\n${output()}`;
    throw err;
  }

  return {
    child,
    pid,
    port,
    startupMs: performance.now() - start,
    output,
    stop,
  };
}

// ---------------------------------------------------------------------------
// Statistics

/** The q-quantile (0..1) of `values`, interpolating linearly between samples. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lower = Math.floor(pos);
  const upper = Math.ceil(pos);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (pos - lower);
}

export function median(values) {
  return quantile(values, 0.5);
}

/** Min–max and interquartile range (linear interpolation between samples). */
export function spread(values) {
  const q1 = quantile(values, 0.25);
  const q3 = quantile(values, 0.75);
  return {
    min: Math.min(...values),
    max: Math.max(...values),
    q1,
    q3,
    iqr: q3 - q1,
  };
}
