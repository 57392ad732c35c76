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
  /**
   * JSON lines of one event-loop turn written together (a server's request
   * lines). A cluster primary writes each line at once: its lines, read with
   * its workers', tell the order of events across processes.
   */
  batched: boolean;
}

/** What the kernel writes to a pipe in one piece (POSIX: at least 512; Linux: 4096). */
const PIPE_BUF = 4096;

/**
 * pino's destination for JSON lines on stdout. The lines of one turn of the
 * event loop go out together, in writes of whole lines of at most PIPE_BUF
 * bytes: each is atomic on a pipe, so the processes of a cluster, which share
 * one stdout, never interleave mid-line, and a busy server makes one write(2)
 * per turn rather than one per request. Whatever is pending goes out when the
 * process exits.
 */
class LineBatch implements DestinationStream {
  private readonly out = pino.destination({ dest: 1, sync: true });
  private pending: string[] = [];

  constructor() {
    process.once('exit', () => this.flush());
  }

  write(line: string): void {
    if (this.pending.push(line) === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    let chunk = '';
    let bytes = 0;
    for (const line of this.pending) {
      const size = Buffer.byteLength(line);
      if (bytes + size > PIPE_BUF && bytes > 0) {
        this.out.write(chunk);
        [chunk, bytes] = ['', 0];
      }
      chunk += line;
      bytes += size;
    }
    if (bytes > 0) this.out.write(chunk);
    this.pending = [];
  }
}

/** The process's logger: JSON lines on stdout, or readable one-liners. */
export async function createLogger({
  level,
  format,
  base,
  batched,
}: LoggerOptions): Promise<Logger> {
  const options = { level, base: { pid: process.pid, ...base } };
  if ((format ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'json') {
    return pino(
      options,
      batched ? new LineBatch() : pino.destination({ dest: 1, sync: true }),
    );
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
