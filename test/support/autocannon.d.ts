// The part of autocannon 8's programmatic API the chaos suite uses (it ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:net';

  /** What http-parser-js hands to kOnHeadersComplete; autocannon re-emits it as 'headers'. */
  export interface ResponseHead {
    statusCode: number;
    /** Flat list: name, value, name, value… */
    headers: string[];
    shouldKeepAlive: boolean;
  }

  /** One connection's client. Events: request, headers, response, connError, timeout, done. */
  export interface Client extends EventEmitter {
    conn: Socket;
    destroyed: boolean;
    _doRequest(...args: unknown[]): void;
    _resetConnection(): void;
    _connect(): void;
  }

  export interface Options {
    /** Several URLs share the connections out between them. */
    url: string | string[];
    connections?: number;
    duration?: number;
    amount?: number;
    /** Seconds before a request counts as timed out. */
    timeout?: number;
    pipelining?: number;
    /** Requests per second across all connections. */
    overallRate?: number;
    headers?: Record<string, string>;
    setupClient?: (client: Client) => void;
  }

  export interface Result {
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
    statusCodeStats: Record<string, { count: number }>;
  }

  export interface Instance extends EventEmitter, PromiseLike<Result> {
    stop(): void;
  }

  function autocannon(options: Options): Instance;
  export default autocannon;
}
