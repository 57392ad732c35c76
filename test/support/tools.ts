import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, ROOT } from './processes.js';

export const BIN = join(ROOT, 'node_modules', '.bin');

interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of the project's dev tools (pm2, forever, nodemon) to completion, bounded in time. */
export function runTool(
  tool: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): ToolResult {
  const result = spawnSync(join(BIN, tool), args, {
    cwd: ROOT,
    env: childEnv(env),
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  const outcome = {
    status: result.status,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
  };
  if (result.error)
    throw new Error(`${tool} ${args.join(' ')}: ${result.error.message}`);
  return outcome;
}

export function runToolOrThrow(
  tool: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs?: number,
): string {
  const result = runTool(tool, args, env, timeoutMs);
  if (result.status !== 0) {
    throw new Error(
      `${tool} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** ecosystem.config.cjs names each app after its port: `api-8080`. */
export const appOf = (port: number): string => `api-${port}`;
/** ecosystem.config.cjs's app in PM2's own cluster mode (PM2_CLUSTER_PORT). */
export const PM2_CLUSTER_APP = 'api-pm2-cluster';

export interface Pm2Process {
  name: string;
  pid: number;
  pm_id: number;
  pm2_env: {
    status: string;
    exec_mode: string;
    restart_time: number;
    namespace?: string;
  };
}

/** A PM2 daemon of the test's own (throwaway PM2_HOME), so a developer's PM2 is never touched. */
export class Pm2Sandbox {
  readonly home = mkdtempSync(join(tmpdir(), 'lbs-pm2-'));

  run(args: string[], timeoutMs?: number): string {
    return runToolOrThrow('pm2', args, { PM2_HOME: this.home }, timeoutMs);
  }

  list(): Pm2Process[] {
    const out = this.run(['jlist']);
    return JSON.parse(out.slice(out.indexOf('['))) as Pm2Process[];
  }

  online(name?: string): Pm2Process[] {
    return this.list().filter(
      (app) =>
        (name === undefined || app.name === name) &&
        app.pm2_env.status === 'online',
    );
  }

  /** Always call in afterAll: kills the daemon and every app it runs. */
  kill(): void {
    try {
      runTool('pm2', ['kill'], { PM2_HOME: this.home }, 30_000);
    } finally {
      rmSync(this.home, { recursive: true, force: true });
    }
  }
}
