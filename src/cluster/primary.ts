import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { primaryEnv, serveGathers } from './gather.js';

function listening(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onListening = (): void => {
      worker.off('exit', onExit);
      resolve();
    };
    const onExit = (): void => {
      worker.off('listening', onListening);
      reject(new Error(`worker ${worker.id} exited before listening`));
    };
    worker.once('listening', onListening);
    worker.once('exit', onExit);
  });
}

export interface PrimaryOptions {
  /** How many workers to keep running. */
  count: number;
  /**
   * The script and arguments workers run. Explicit, because under a process
   * manager `process.argv[1]` is the manager's wrapper, not our entry point.
   */
  exec: string;
  args: string[];
  /** How long a worker may take to drain before it is force-killed. */
  graceMs: number;
  /** A worker that dies sooner than this after starting counts towards a crash loop. */
  youngMs?: number;
  /** Consecutive young deaths after which the primary gives up with exit code 1. */
  maxYoungDeaths?: number;
  /** First respawn delay after a young death; doubles with each further one. */
  backoffMs?: number;
  maxBackoffMs?: number;
  signals?: NodeJS.Signals[];
  log?: PrimaryLog;
}

export type PrimaryLog = (
  line: string,
  level?: 'debug' | 'info' | 'warn' | 'error',
) => void;

const DEFAULTS = {
  youngMs: 5_000,
  maxYoungDeaths: 5,
  backoffMs: 250,
  maxBackoffMs: 4_000,
  signals: ['SIGTERM', 'SIGINT'] as NodeJS.Signals[],
  log: ((line) => console.log(line)) as PrimaryLog,
};

/**
 * The CLUSTER primary: it serves no HTTP and creates no Nest application; it
 * only keeps `count` workers alive, replaces them one at a time on SIGHUP, and
 * takes them all down on SIGTERM/SIGINT. Modelled on throng's lib/throng.js.
 */
export function runPrimary(options: PrimaryOptions): void {
  const opts: Required<PrimaryOptions> = { ...DEFAULTS, ...options };
  const log = opts.log;
  const startedAt = new Map<number, number>();
  /** Workers we asked to stop: their exit is expected, not a crash. */
  const retiring = new Set<number>();
  let shuttingDown = false;
  let restarting = false;
  let youngDeaths = 0;
  let restarts = 0;
  const pendingRespawns = new Set<NodeJS.Timeout>();

  function fork(): Worker {
    const worker = cluster.fork(primaryEnv());
    startedAt.set(worker.id, Date.now());
    log(`worker ${worker.id} started with pid ${worker.process.pid}`, 'debug');
    return worker;
  }

  function liveWorkers(): Worker[] {
    return Object.values(cluster.workers ?? {}).filter(
      (worker): worker is Worker => worker !== undefined && !worker.isDead(),
    );
  }

  function stop(worker: Worker): void {
    retiring.add(worker.id);
    worker.process.kill('SIGTERM');
    setTimeout(() => {
      if (!worker.isDead()) {
        log(
          `worker ${worker.id} (pid ${worker.process.pid}) did not drain in ${opts.graceMs} ms, killing it`,
          'warn',
        );
        worker.process.kill('SIGKILL');
      }
    }, opts.graceMs).unref();
  }

  function respawn(
    worker: Worker,
    lived: number,
    code: number | null,
    signal: string | null,
  ): void {
    youngDeaths = lived < opts.youngMs ? youngDeaths + 1 : 0;
    const cause = signal ? `signal ${signal}` : `code ${code}`;
    if (youngDeaths >= opts.maxYoungDeaths) {
      log(
        `crash loop: ${youngDeaths} workers in a row died within ${opts.youngMs} ms of starting (last: ${cause}); giving up`,
        'error',
      );
      shutdown(1);
      return;
    }
    const delay =
      youngDeaths === 0
        ? 0
        : Math.min(opts.backoffMs * 2 ** (youngDeaths - 1), opts.maxBackoffMs);
    log(
      `worker ${worker.id} (pid ${worker.process.pid}) died (${cause}) after ${lived} ms; respawning in ${delay} ms`,
      'warn',
    );
    const timer = setTimeout(() => {
      pendingRespawns.delete(timer);
      if (shuttingDown) return;
      restarts++;
      fork();
    }, delay);
    pendingRespawns.add(timer);
  }

  function shutdown(exitCode: number, signal?: NodeJS.Signals): void {
    if (shuttingDown) return;
    shuttingDown = true;
    for (const timer of pendingRespawns) clearTimeout(timer);
    const workers = liveWorkers();
    log(
      `${signal ?? 'shutdown'}: stopping ${workers.length} worker(s), grace ${opts.graceMs} ms`,
    );
    const exit = (): void => {
      log(`all workers stopped, exiting with code ${exitCode}`);
      process.exit(exitCode);
    };
    if (workers.length === 0) return exit();
    let left = workers.length;
    for (const worker of workers) {
      worker.once('exit', () => {
        if (--left === 0) exit();
      });
      stop(worker);
    }
  }

  /** SIGHUP: replace each worker in turn, the new one listening before the old one drains. */
  async function rollingRestart(): Promise<void> {
    if (restarting || shuttingDown) return;
    restarting = true;
    log('SIGHUP: rolling restart');
    try {
      for (const old of liveWorkers()) {
        if (shuttingDown) return;
        const fresh = fork();
        restarts++;
        await listening(fresh);
        const exited = once(old, 'exit');
        stop(old);
        await exited;
        log(`worker ${old.id} replaced by worker ${fresh.id}`);
      }
      log('rolling restart complete');
    } catch (error) {
      log(`rolling restart stopped: ${(error as Error).message}`, 'error');
    } finally {
      restarting = false;
    }
  }

  cluster.on('listening', (worker, address) => {
    log(
      `worker ${worker.id} (pid ${worker.process.pid}) listening on port ${address.port}`,
    );
  });
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? Date.now());
    startedAt.delete(worker.id);
    if (
      retiring.delete(worker.id) ||
      shuttingDown ||
      worker.exitedAfterDisconnect
    )
      return;
    respawn(worker, lived, code, signal);
  });
  for (const signal of opts.signals) {
    process.on(signal, () => shutdown(0, signal));
  }
  process.on('SIGHUP', () => void rollingRestart());
  serveGathers(liveWorkers, () => restarts);

  cluster.setupPrimary({ exec: opts.exec, args: opts.args });
  log(`forking ${opts.count} worker(s)`, 'debug');
  const first = Array.from({ length: opts.count }, fork);
  // Under PM2 (wait_ready) the primary is the process PM2 watches: it is ready
  // once every first worker listens, not when the workers say so to us.
  void Promise.all(first.map(listening)).then(
    () => {
      log(
        `all ${opts.count} worker(s) listening (pids ${first.map((worker) => worker.process.pid).join(', ')}); primary pid ${process.pid}: SIGHUP replaces them one by one, SIGTERM stops them`,
      );
      process.send?.('ready');
    },
    () => undefined, // a worker died first: respawn() deals with it
  );
}
