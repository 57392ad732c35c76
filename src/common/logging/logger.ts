import { pino, type DestinationStream, type Logger } from 'pino';

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

/** What the kernel writes to a pipe in one piece (POSIX: at least 512; Linux: 4096). */
const PIPE_BUF = 4096;
/** Longest a line waits in a LineBatch before it is written. */
const LINGER_MS = 20;

/**
 * pino's destination for JSON lines on stdout. Request lines (`append`) are
 * gathered and written once PIPE_BUF bytes of whole lines wait, or LINGER_MS
 * after the first: one write(2) per many requests rather than one each (a
 * write per line was most of what logging cost a small request). Any other
 * line (`write`: start-up, drain, errors) goes out at once, after what waits.
 * Each write is whole lines of at most PIPE_BUF bytes, atomic on a pipe, so
 * the processes of a cluster, which share one stdout, never interleave
 * mid-line. Whatever waits goes out when the process exits.
 */
class LineBatch implements DestinationStream {
  private readonly out = pino.destination({ dest: 1, sync: true });
  private chunk = '';
  private bytes = 0;
  private timer?: NodeJS.Timeout;
  private readonly flushPending = (): void => this.flush();

  write(line: string): void {
    this.append(line);
    this.flush();
  }

  append(line: string): void {
    const size = Buffer.byteLength(line);
    if (this.bytes + size > PIPE_BUF) this.flush();
    this.chunk += line;
    this.bytes += size;
    if (this.timer === undefined) {
      this.timer = setTimeout(this.flushPending, LINGER_MS).unref();
      process.once('exit', this.flushPending);
    }
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    process.off('exit', this.flushPending);
    if (this.bytes === 0) return;
    this.out.write(this.chunk);
    [this.chunk, this.bytes] = ['', 0];
  }
}

/** The process's logger: JSON lines on stdout, or readable one-liners. */
export async function createLogger({
  level,
  format,
  base,
}: LoggerOptions): Promise<Logger> {
  const options = { level, base: { pid: process.pid, ...base } };
  if ((format ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'json') {
    return pino(options, new LineBatch());
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

/** A log line's fields, already JSON: `"key":value` pairs joined by commas. */
export type JsonFields = string;

/**
 * Writes the line `logger[level](fields, msg)` would write, from fields the
 * caller serialised itself, to the same destination (so a terminal still gets
 * it pretty; a LineBatch batches it). For the one line written on every
 * request: pino's generic serialisation of an object costs twice as much as building the line
 * (2.3 µs against 1.2 µs a line here), on a request that costs ~200 µs in all.
 */
export function jsonLineWriter(
  logger: Logger,
): (level: 'info' | 'error', fields: JsonFields, msg: string) => void {
  const internals = logger as unknown as Record<symbol, unknown>;
  const stream = internals[pino.symbols.streamSym] as DestinationStream;
  const bindings = internals[pino.symbols.chindingsSym] as string;
  return (level, fields, msg) => {
    if (!logger.isLevelEnabled(level)) return;
    const line = `{"level":${logger.levels.values[level]},"time":${Date.now()}${bindings},${fields},"msg":${JSON.stringify(msg)}}\n`;
    if (stream instanceof LineBatch) stream.append(line);
    else stream.write(line);
  };
}
