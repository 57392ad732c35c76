import autocannon, { type Client, type ResponseHead } from 'autocannon';
import { get } from './http.js';

export interface LoadOptions {
  /** Always 127.0.0.1: the load never leaves the machine. Several ports share the connections out. */
  port: number | number[];
  path: string;
  connections?: number;
  /** Seconds of load; or `amount` requests in all, whichever the test needs. */
  durationSec?: number;
  amount?: number;
  /** Seconds before a request counts as timed out (a failure). */
  timeoutSec?: number;
  /** Requests per second across all connections, instead of flat out. */
  overallRate?: number;
  /** Which answers count as served; by default any 2xx. */
  accept?: (status: number, headers: Record<string, string>) => boolean;
  /**
   * Behave as browsers, curl and Go's client do (RFC 9112 §9.3.1): a request
   * whose reused keep-alive connection closed before any of its answer came is
   * sent again on a fresh one, and counts as `retriedByClient`, not failed.
   * For the one race no server can avoid: nginx closing its idle client
   * connections on `nginx -s reload` as a request arrives on one.
   */
  retryOnReusedConnection?: boolean;
}

export interface LoadResult {
  /** Requests that got an answer, an error or a timeout, or were lost. */
  sent: number;
  /** Everything in `sent` that was not an accepted answer. */
  failed: number;
  accepted: number;
  /** Answers that `accept` refused (non-2xx by default), by status. */
  refused: Record<number, number>;
  /** Connection errors (refused, reset) with a request on the connection. */
  errors: number;
  timeouts: number;
  /** Requests whose connection was closed under them without an answer or an error. */
  lost: number;
  /** With `retryOnReusedConnection`: requests sent again because their reused connection closed first. */
  retriedByClient: number;
  /** Answers by status, accepted or not. */
  statuses: Record<number, number>;
  /** Answers by the instance that gave them, their `X-Served-By` (`<port>:<pid>`). */
  byInstance: Record<string, number>;
  /** Requests still open when the load generator stopped: not counted in `sent`. */
  cutByStop: number;
  /** Every answer's latency, in order, at full resolution (autocannon's histogram keeps whole ms). */
  latenciesMs: number[];
  /** When each of those answers arrived, on the performance.now() clock. */
  answeredAtMs: number[];
  durationSec: number;
}

export interface RunningLoad extends Promise<LoadResult> {
  /** Ends the load now (the requests then open are `cutByStop`). */
  stop(): void;
}

/** What failed, as `N × kind` (a refused status, errors, timeouts, lost); '' when nothing did. */
export const failuresOf = (r: LoadResult): string =>
  Object.entries({
    ...r.refused,
    errors: r.errors,
    timeouts: r.timeouts,
    lost: r.lost,
  })
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} × ${kind}`)
    .join(', ');

/** The `q` quantile of the finite `values`, interpolated between the two nearest. */
export function quantile(values: number[], q: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const [low, high] = [sorted[Math.floor(at)], sorted[Math.ceil(at)]];
  return low + (high - low) * (at % 1);
}

const is2xx = (status: number): boolean => status >= 200 && status < 300;

/**
 * Runs autocannon against 127.0.0.1 and accounts for every request itself,
 * because autocannon's totals miss two ways a request can fail: a connection
 * that the server closes cleanly (FIN) while a request is on it is reopened
 * silently, so that request is neither answered nor an error; and autocannon
 * keeps writing on a connection whose last answer said `Connection: close`.
 * The first is counted here as `lost`. The second is a client bug (RFC 9112
 * §9.6: a client that receives "close" MUST stop sending on that connection),
 * so each client is made to reconnect instead, as browsers, Node's agent and
 * nginx do; otherwise every keep-alive connection moved off a draining
 * process would lose the one request autocannon wrote after being told.
 */
export function runLoad(options: LoadOptions): RunningLoad {
  const accept = options.accept ?? ((status) => is2xx(status));
  const result: LoadResult = {
    sent: 0,
    failed: 0,
    accepted: 0,
    refused: {},
    errors: 0,
    timeouts: 0,
    lost: 0,
    retriedByClient: 0,
    statuses: {},
    byInstance: {},
    cutByStop: 0,
    latenciesMs: [],
    answeredAtMs: [],
    durationSec: 0,
  };
  const clients: { pending: boolean }[] = [];
  const urlOf = (port: number): string =>
    `http://127.0.0.1:${port}${options.path}`;

  function instrument(client: Client): void {
    const state = {
      pending: false,
      closeAnnounced: false,
      /** Whether any of the pending request's answer has come. */
      answering: false,
      answeredOnConnection: 0,
      lastConnectionReused: false,
    };
    let head: Record<string, string> = {};
    clients.push(state);
    /** A pending request a compliant client would send again, rather than fail. */
    const retriable = (reused: boolean): boolean =>
      options.retryOnReusedConnection === true && reused && !state.answering;

    const connect = client._connect.bind(client);
    client._connect = (): void => {
      state.lastConnectionReused = state.answeredOnConnection > 0;
      state.answeredOnConnection = 0;
      connect();
    };

    const doRequest = client._doRequest.bind(client);
    client._doRequest = (...args: unknown[]): void => {
      if (state.closeAnnounced && !client.destroyed) {
        state.closeAnnounced = false;
        // Reconnects, and sends the next request on the new connection.
        return client._resetConnection();
      }
      return doRequest(...args);
    };

    client.on('request', () => {
      // autocannon reopens a connection the server closed and writes the next
      // request without a word about the one that was on it.
      if (state.pending) {
        if (retriable(state.lastConnectionReused)) result.retriedByClient++;
        else result.lost++;
      }
      state.pending = true;
      state.answering = false;
    });
    client.on('headers', (info: ResponseHead) => {
      state.answering = true;
      head = {};
      for (let i = 0; i + 1 < info.headers.length; i += 2)
        head[info.headers[i].toLowerCase()] = info.headers[i + 1];
      if (!info.shouldKeepAlive) state.closeAnnounced = true;
    });
    client.on('response', (status: number, _bytes: number, ms: number) => {
      state.pending = false;
      state.answeredOnConnection++;
      result.latenciesMs.push(ms);
      result.answeredAtMs.push(performance.now());
      result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      const by = head['x-served-by'] ?? '-';
      result.byInstance[by] = (result.byInstance[by] ?? 0) + 1;
      if (accept(status, head)) result.accepted++;
      else result.refused[status] = (result.refused[status] ?? 0) + 1;
    });
    client.on('connError', () => {
      if (state.pending) {
        if (retriable(state.answeredOnConnection > 0)) result.retriedByClient++;
        else result.errors++;
      }
      state.pending = false;
    });
    client.on('timeout', () => {
      result.timeouts++;
      state.pending = false;
    });
  }

  const instance = autocannon({
    url:
      typeof options.port === 'number'
        ? urlOf(options.port)
        : options.port.map(urlOf),
    connections: options.connections ?? 8,
    ...(options.amount === undefined
      ? { duration: options.durationSec ?? 5 }
      : { amount: options.amount }),
    overallRate: options.overallRate,
    timeout: options.timeoutSec ?? 10,
    setupClient: instrument,
  });
  const done = Promise.resolve(instance).then((run) => {
    result.cutByStop = clients.filter((client) => client.pending).length;
    const refused = Object.values(result.refused).reduce((a, b) => a + b, 0);
    result.sent =
      result.accepted + refused + result.errors + result.timeouts + result.lost;
    result.failed = result.sent - result.accepted;
    result.durationSec = run.duration;
    return result;
  });
  return Object.assign(done, { stop: () => instance.stop() });
}

/**
 * `loops` clients that each send one request after another, every one on a
 * fresh connection (what a connection-per-request client or a balancer without
 * keep-alive does), until `until` settles. Each connection is handed out
 * anew, so a process that exits with one on its way is seen here.
 */
export async function freshConnectionLoad({
  port,
  path,
  loops,
  until,
}: {
  port: number;
  path: string;
  loops: number;
  until: Promise<unknown>;
}): Promise<{ sent: number; failures: string[] }> {
  let running = true;
  void until.finally(() => (running = false));
  let sent = 0;
  const failures: string[] = [];
  const loop = async (): Promise<void> => {
    while (running) {
      sent++;
      try {
        const res = await get(port, path, { timeoutMs: 10_000 });
        if (res.status !== 200) failures.push(`HTTP ${res.status}`);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: loops }, loop));
  return { sent, failures };
}
