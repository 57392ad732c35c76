import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { get } from './http.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'main.js');

/** The environment children get: no Jest flags, no coloured logs. */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  delete env.NODE_OPTIONS;
  delete env.JEST_WORKER_ID;
  return env;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  exited: Promise<Exit>;
  /** Signals the whole process group, waits for the exit, SIGKILLs after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

/** What stopAll() ends: process groups, and whatever else a helper started (nginx's files). */
const cleanups = new Set<() => void | Promise<unknown>>();

/** Registers `cleanup` to run at the next stopAll(); returns a function that runs it now, once. */
export function onStopAll(
  cleanup: () => void | Promise<unknown>,
): () => Promise<void> {
  cleanups.add(cleanup);
  return async () => {
    if (cleanups.delete(cleanup)) await cleanup();
  };
}

/** Ends everything a spec started and has not stopped: for afterAll/afterEach. */
export async function stopAll(): Promise<void> {
  const pending = [...cleanups];
  cleanups.clear();
  await Promise.all(pending.map((cleanup) => Promise.resolve(cleanup())));
}

/** Spawns `command` in its own process group, so that stopping it also ends everything it started. */
export function spawnTracked(
  command: string,
  args: string[],
  {
    env,
    cwd = ROOT,
    outputTo,
  }: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    /** A file descriptor for its stdout and stderr, instead of output(), which then stays empty. */
    outputTo?: number;
  } = {},
): Spawned {
  const child = spawn(command, args, {
    cwd,
    env: childEnv(env),
    detached: true,
    stdio: ['ignore', outputTo ?? 'pipe', outputTo ?? 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const pid = child.pid ?? -1;
  const stopGroup = async (
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 15_000,
  ): Promise<Exit> => {
    signalGroup(pid, signal);
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), timeoutMs);
    const exit = await exited;
    clearTimeout(timer);
    // Anything the leader left behind in its group goes too.
    signalGroup(pid, 'SIGKILL');
    return exit;
  };
  const untrack = onStopAll(() => stopGroup('SIGKILL', 5_000));
  void exited.then(untrack);
  return {
    child,
    pid,
    output: () => output,
    exited,
    async stop(signal, timeoutMs) {
      const exit = await stopGroup(signal, timeoutMs);
      await untrack();
      return exit;
    },
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

export interface ServerProcess extends Spawned {
  port: number;
  /** From the spawn until /health first answered 200. */
  startupMs: number;
}

/** Spawns `node dist/main.js` with `args` (plus `--port`) and waits until /health answers. */
export async function spawnServer(
  args: string[] = [],
  {
    port,
    env,
    main = MAIN,
    timeoutMs = 20_000,
    intervalMs,
    outputTo,
  }: {
    port?: number;
    env?: NodeJS.ProcessEnv;
    /** Another build of the server (the benchmark runs a copy of dist/). */
    main?: string;
    timeoutMs?: number;
    /** How often /health is polled until it answers (the benchmark times the start-up). */
    intervalMs?: number;
    outputTo?: number;
  } = {},
): Promise<ServerProcess> {
  const listenPort = port ?? (await freePort());
  const started = performance.now();
  const spawned = spawnTracked(
    process.execPath,
    [main, '--port', String(listenPort), ...args],
    { env, outputTo },
  );
  await waitForHealth(listenPort, { timeoutMs, intervalMs, of: spawned });
  return {
    ...spawned,
    port: listenPort,
    startupMs: performance.now() - started,
  };
}

/**
 * Waits (bounded) until something on `port` answers GET /health with 200. With
 * `of`, the process expected to answer: its early exit fails the wait at once,
 * and its output is part of any failure.
 */
export async function waitForHealth(
  port: number,
  {
    timeoutMs = 20_000,
    intervalMs,
    what = `port ${port} to answer /health`,
    of,
  }: {
    timeoutMs?: number;
    intervalMs?: number;
    what?: string;
    of?: Spawned;
  } = {},
): Promise<void> {
  let exit: Exit | undefined;
  void of?.exited.then((value) => (exit = value));
  await waitFor(
    async () => {
      if (exit) throw new Error(`it exited early (${JSON.stringify(exit)})`);
      return (await get(port, '/health', { timeoutMs: 1_000 })).status === 200;
    },
    { timeoutMs, intervalMs, what },
  ).catch((error: Error) => {
    if (!of) throw error;
    throw new Error(`${error.message}\n--- its output ---\n${of.output()}`);
  });
}

/** The fields of /proc/<pid>/stat after the command name, numbered as in proc(5) from 3 (state). */
export function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // exited meanwhile
  }
}

/**
 * Every live (non-zombie) process with its parent, read from /proc. Not
 * `pgrep`: a synchronous spawn blocks the caller's event loop for
 * milliseconds, tens of them on busy cores, which the benchmark's latency
 * probes, sharing that loop with its RSS sampling, then counted as the
 * server's.
 */
export function processTable(): { pid: number; ppid: number }[] {
  const table: { pid: number; ppid: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // fields[0] is the state (proc(5) field 3), fields[1] the parent's pid.
    const fields = statFields(Number(entry));
    if (fields && fields[0] !== 'Z')
      table.push({ pid: Number(entry), ppid: Number(fields[1]) });
  }
  return table;
}

/** Live (non-zombie) children of `pid`, in pid order. */
export function childPids(pid: number, table = processTable()): number[] {
  return table
    .filter((row) => row.ppid === pid)
    .map((row) => row.pid)
    .sort((a, b) => a - b);
}

/** Waits (bounded) until `primaryPid` has exactly `count` live children, and returns them. */
export function workersOf(
  primaryPid: number,
  count: number,
  timeoutMs = 20_000,
): Promise<number[]> {
  return waitFor(
    () => {
      const pids = childPids(primaryPid);
      return pids.length === count && pids;
    },
    { timeoutMs, what: `${count} workers under pid ${primaryPid}` },
  );
}

/** Resolves once a CLUSTER primary has said that every first worker listens. */
export async function allWorkersListening(
  server: { output(): string },
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(() => server.output().includes('worker(s) listening'), {
    timeoutMs,
    what: 'every worker to listen',
  });
}

/** True while `pid` is in the process table and not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  const fields = statFields(pid);
  return fields !== undefined && fields[0] !== 'Z';
}

export function waitForExitOf(
  pids: number[],
  timeoutMs = 15_000,
): Promise<true> {
  return waitFor(() => pids.every((pid) => !isAlive(pid)), {
    timeoutMs,
    what: `processes ${pids.join(', ')} to exit`,
  });
}

export interface LogLine {
  level: number;
  pid: number;
  role?: string;
  msg: string;
  [field: string]: unknown;
}

/** The JSON log lines in a process's output (it logs JSON when stdout is not a terminal). */
export function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}
