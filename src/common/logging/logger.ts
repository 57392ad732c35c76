import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';
export const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level: LogLevel;
  /** Undefined: readable one-liners on a terminal, JSON lines otherwise. */
  format: LogFormat | undefined;
  /** Fields on every line of this process. */
  base: Record<string, unknown>;
}

/**
 * The process's logger: JSON lines on stdout, or readable one-liners. Each line
 * is one write(2) of less than PIPE_BUF, so the lines of a cluster's processes,
 * which share one stdout, never interleave.
 */
export async function createLogger({
  level,
  format,
  base,
}: LoggerOptions): Promise<Logger> {
  const options = { level, base: { pid: process.pid, ...base } };
  if ((format ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'json') {
    return pino(options, pino.destination({ dest: 1, sync: true }));
  }
  // Only a terminal reader pays for pretty printing (and its module's memory).
  const { default: pretty } = await import('pino-pretty');
  return pino(
    options,
    pretty({
      sync: true,
      singleLine: true,
      colorize: process.stdout.isTTY && !process.env.NO_COLOR,
      translateTime: 'HH:MM:ss.l',
      ignore: 'hostname',
    }),
  );
}

/** The injection token of the process's logger. */
export const APP_LOGGER = Symbol('APP_LOGGER');
