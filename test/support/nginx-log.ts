import { existsSync, readFileSync, statSync } from 'node:fs';

interface AccessLogEntry {
  path: string;
  status: number;
  /** The peers nginx tried, in order (`$upstream_addr`): more than one means a retry. */
  upstreams: string[];
}

/** The access log named in a shipped nginx config, read from a given offset on. */
export class AccessLog {
  private readonly start: number;

  constructor(private readonly file: string) {
    this.start = existsSync(file) ? statSync(file).size : 0;
  }

  /** The access log of the nginx config file at `configPath`. */
  static of(configPath: string): AccessLog {
    const config = readFileSync(configPath, 'utf8');
    const file = /^\s*access_log\s+(\S+)\s+\w+;/m.exec(config)?.[1];
    if (!file) throw new Error('the nginx config names no access_log');
    return new AccessLog(file);
  }

  /** Entries written since this object was made. */
  entries(): AccessLogEntry[] {
    if (!existsSync(this.file)) return [];
    const text = readFileSync(this.file).subarray(this.start).toString('utf8');
    return text
      .split('\n')
      .map((line) =>
        /"GET (\S+) [^"]*" (\d{3}) .* upstream=(.*?) ustatus=/.exec(line),
      )
      .filter((match) => match !== null)
      .map(([, path, status, upstreams]) => ({
        path,
        status: Number(status),
        upstreams: upstreams.split(/[,:] (?=\d|unix)/).map((s) => s.trim()),
      }));
  }
}
