import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { get } from './http.js';
import { waitFor } from './wait.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'main.js');

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

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

const running = new Set<Spawned>();

/** Spawns `command` in its own process group, so that stopping it also ends everything it started. */
export function spawnTracked(
  command: string,
  args: string[],
  { env, cwd = ROOT }: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Spawned {
  const child = spawn(command, args, {
    cwd,
    env: childEnv(env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const spawned: Spawned = {
    child,
    pid: child.pid ?? -1,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      signalGroup(spawned.pid, signal);
      const timer = setTimeout(
        () => signalGroup(spawned.pid, 'SIGKILL'),
        timeoutMs,
      );
      const exit = await exited;
      clearTimeout(timer);
      // Anything the leader left behind in its group goes too.
      signalGroup(spawned.pid, 'SIGKILL');
      running.delete(spawned);
      return exit;
    },
  };
  running.add(spawned);
  void exited.then(() => running.delete(spawned));
  return spawned;
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

/** Ends every process group a spec started and has not stopped: for afterAll/afterEach. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map((spawned) => spawned.stop('SIGKILL', 5_000)),
  );
}

export interface ServerProcess extends Spawned {
  port: number;
}

/** Starts `node dist/main.js` with `args` (plus `--port`) and waits until /health answers. */
export async function startServer(
  args: string[] = [],
  {
    port,
    env,
    timeoutMs = 20_000,
  }: { port?: number; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ServerProcess> {
  const listenPort = port ?? (await freePort());
  const spawned = spawnTracked(
    process.execPath,
    [MAIN, '--port', String(listenPort), ...args],
    { env },
  );
  const server = { ...spawned, port: listenPort };
  await waitUntilServing(server, timeoutMs);
  return server;
}

export async function waitUntilServing(
  server: ServerProcess,
  timeoutMs = 20_000,
): Promise<void> {
  let exit: Exit | undefined;
  void server.exited.then((value) => (exit = value));
  await waitFor(
    async () => {
      if (exit)
        throw new Error(
          `server exited early (${JSON.stringify(exit)}):\n${server.output()}`,
        );
      return (
        (await get(server.port, '/health', { timeoutMs: 1_000 })).status === 200
      );
    },
    { timeoutMs, what: `the server on port ${server.port} to answer /health` },
  ).catch((error: Error) => {
    throw new Error(
      `${error.message}\n--- server output ---\n${server.output()}`,
    );
  });
}

/** Waits (bounded) until something on `port` answers GET /health with 200. */
export function waitForHealth(
  port: number,
  { timeoutMs = 20_000, what = `port ${port} to answer /health` } = {},
): Promise<true> {
  return waitFor(
    async () =>
      (await get(port, '/health', { timeoutMs: 1_000 })).status === 200,
    { timeoutMs, what },
  );
}

/** Live (non-zombie) children of `pid`, from the process table. */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter(isAlive);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** True while `pid` is in the process table and not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
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
