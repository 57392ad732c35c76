import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import minimist from 'minimist';
import {
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
} from '../common/logging/logger.js';

const MODES = ['FORK', 'CLUSTER'] as const;
export type Mode = (typeof MODES)[number];

const DEFAULT_PORT = 8080;
const DEFAULT_MAX_CANT = 1_000_000_000;
const DEFAULT_MAX_QUEUE_MS = 3_000;
const DEFAULT_MAX_PENDING = 1_024;
export const DEFAULT_GRACE_MS = 10_000;
const DEFAULT_TRUST_PROXY = 'loopback';

export interface AppOptions {
  /** The command-line arguments as given, shown by /info. */
  readonly args: readonly string[];
  readonly port: number;
  /** Address to bind; undefined: every interface. */
  readonly host: string | undefined;
  /** Addresses and CIDRs of the balancers whose X-Forwarded-For is believed. */
  readonly trustProxy: readonly string[];
  readonly mode: Mode;
  readonly workers: number;
  readonly help: boolean;
  /** Largest `cant` accepted by /api/randoms. */
  readonly maxCant: number;
  /** Worker threads in each serving process's compute pool. */
  readonly poolThreads: number;
  /** How long the draws already queued in a process may take to finish before it answers 503. */
  readonly maxQueueMs: number;
  /** Requests for /api/randoms a process holds at once, whatever their size: the bound on memory. */
  readonly maxPendingJobs: number;
  /** How long a draining process (or a cluster primary) waits before force-killing. */
  readonly graceMs: number;
  readonly logLevel: LogLevel;
  /** Undefined: pretty on a terminal, JSON otherwise. */
  readonly logFormat: LogFormat | undefined;
  /** Whether requests and work are counted for GET /metrics. */
  readonly metrics: boolean;
}

export const USAGE = `Usage: node dist/main.js [--port|-p N] [--mode FORK|CLUSTER] [--workers N] [--host ADDR] [--help]

  -p, --port N      TCP port, 1-65535 (default: $PORT, else ${DEFAULT_PORT})
      --host ADDR   address to bind, IPv4 or IPv6 (default: every interface)
      --mode M      FORK (one process) or CLUSTER (node:cluster), any case (default: FORK)
      --workers N   CLUSTER workers, integer >= 1 (default: ${availableParallelism()}, the processors available)
      --help        print this help and exit

Environment:
  PORT                  the port when --port is not given
  RANDOMS_MAX_CANT      largest cant /api/randoms accepts (default ${DEFAULT_MAX_CANT})
  RANDOMS_THREADS       compute threads per serving process (default: the processors)
  RANDOMS_MAX_QUEUE_MS  answer 503 + Retry-After only when the draws already queued in the
                        process would take longer than this to finish (default ${DEFAULT_MAX_QUEUE_MS})
  RANDOMS_MAX_PENDING   most /api/randoms requests a process holds, whatever their size:
                        the bound on memory (default ${DEFAULT_MAX_PENDING})
  SHUTDOWN_GRACE_MS     how long a drain may take before the process is killed (default ${DEFAULT_GRACE_MS})
  TRUST_PROXY           comma-separated addresses or CIDRs of the balancers in front, whose
                        X-Forwarded-For is believed (default: ${DEFAULT_TRUST_PROXY})
  LOG_LEVEL             ${LOG_LEVELS.join(', ')} (default: info)
  LOG_FORMAT            json or pretty (default: pretty on a terminal, else json)
  METRICS               on or off: count requests and work for GET /metrics (default: on)`;

/** A mistake in how the program was invoked: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const KNOWN_FLAGS = new Set([
  'port',
  'p',
  'mode',
  'workers',
  'host',
  'help',
  'h',
  '_',
]);

export function parseAppOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): AppOptions {
  const parsed = minimist([...argv], {
    string: ['port', 'mode', 'workers', 'host'],
    boolean: ['help'],
    alias: { p: 'port', h: 'help' },
  });

  const unknown = Object.keys(parsed).filter((key) => !KNOWN_FLAGS.has(key));
  if (unknown.length > 0) {
    const flag = unknown[0].length === 1 ? `-${unknown[0]}` : `--${unknown[0]}`;
    throw new UsageError(
      `unknown option ${flag}; allowed: --port/-p, --mode, --workers, --host, --help`,
    );
  }
  if (parsed._.length > 0) {
    throw new UsageError(
      `unexpected argument "${parsed._[0]}"; options take the form --name=value`,
    );
  }

  const processors = Math.max(1, availableParallelism());
  const mode = parseMode(single(parsed.mode, '--mode'));
  const workers = integerIn(
    single(parsed.workers, '--workers'),
    '--workers',
    1,
    1024,
    processors,
  );
  // Every serving process may use all processors for one request; when several
  // requests (or workers) compete, the OS shares the cores between the threads.
  const poolThreads = integerIn(
    env.RANDOMS_THREADS,
    'RANDOMS_THREADS',
    1,
    256,
    processors,
  );
  return {
    args: [...argv],
    port: parsePort(single(parsed.port, '--port'), env.PORT),
    host: parseHost(single(parsed.host, '--host')),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    mode,
    workers,
    help: parsed.help === true,
    // Every count, and every thread's share of a request, fits a u32.
    maxCant: integerIn(
      env.RANDOMS_MAX_CANT,
      'RANDOMS_MAX_CANT',
      1,
      2 ** 32 - 1,
      DEFAULT_MAX_CANT,
    ),
    poolThreads,
    maxQueueMs: integerIn(
      env.RANDOMS_MAX_QUEUE_MS,
      'RANDOMS_MAX_QUEUE_MS',
      1,
      3_600_000,
      DEFAULT_MAX_QUEUE_MS,
    ),
    maxPendingJobs: integerIn(
      env.RANDOMS_MAX_PENDING,
      'RANDOMS_MAX_PENDING',
      1,
      100_000,
      DEFAULT_MAX_PENDING,
    ),
    graceMs: integerIn(
      env.SHUTDOWN_GRACE_MS,
      'SHUTDOWN_GRACE_MS',
      0,
      600_000,
      DEFAULT_GRACE_MS,
    ),
    logLevel: oneOf(env.LOG_LEVEL, 'LOG_LEVEL', LOG_LEVELS) ?? 'info',
    logFormat: oneOf(env.LOG_FORMAT, 'LOG_FORMAT', ['json', 'pretty'] as const),
    metrics:
      (oneOf(env.METRICS, 'METRICS', ['on', 'off'] as const) ?? 'on') === 'on',
  };
}

/** One of `allowed`, in any letter case; undefined when not given. */
function oneOf<T extends string>(
  value: string | undefined,
  name: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined || value === '') return undefined;
  const lower = value.toLowerCase();
  if ((allowed as readonly string[]).includes(lower)) return lower as T;
  throw new UsageError(
    `${name} must be one of ${allowed.join(', ')}, got "${value}"`,
  );
}

function single(value: unknown, flag: string): string | undefined {
  if (Array.isArray(value)) {
    throw new UsageError(`${flag} was given more than once; give it once`);
  }
  return value as string | undefined;
}

function parsePort(flag: string | undefined, env: string | undefined): number {
  if (flag !== undefined) return integerIn(flag, '--port', 1, 65535);
  if (env !== undefined && env !== '') return integerIn(env, 'PORT', 1, 65535);
  return DEFAULT_PORT;
}

function parseHost(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (isIP(value) === 0) {
    throw new UsageError(
      `--host must be an IPv4 or IPv6 address, got "${value}"`,
    );
  }
  return value;
}

/** Express's names for address ranges, besides addresses and CIDRs. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function parseTrustProxy(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [DEFAULT_TRUST_PROXY];
  return value.split(',').map((raw) => {
    const entry = raw.trim();
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address);
    const maxBits = family === 6 ? 128 : 32;
    const valid =
      PROXY_RANGES.has(entry) ||
      (family !== 0 &&
        extra === undefined &&
        (bits === undefined ||
          (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits)));
    if (!valid) {
      throw new UsageError(
        `TRUST_PROXY takes comma-separated addresses or CIDRs (10.0.0.1, 10.0.0.0/24, ::1, loopback), got "${entry}"`,
      );
    }
    return entry;
  });
}

function parseMode(value: string | undefined): Mode {
  if (value === undefined) return 'FORK';
  const mode = value.toUpperCase();
  if ((MODES as readonly string[]).includes(mode)) return mode as Mode;
  throw new UsageError(
    `--mode must be FORK or CLUSTER (any case), got "${value}"`,
  );
}

function integerIn(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
  fallback?: number,
): number {
  if (value === undefined || (fallback !== undefined && value === '')) {
    if (fallback === undefined) {
      throw new UsageError(`${name} needs a value: an integer ${min}-${max}`);
    }
    return fallback;
  }
  const n = /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${name} must be an integer from ${min} to ${max}, got "${value}"`,
    );
  }
  return n;
}
