import { request } from 'node:http';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

/**
 * One GET to 127.0.0.1 on a fresh connection (no agent), so that successive
 * requests are spread by the cluster's or nginx's balancing. Bounded by `timeoutMs`.
 */
export function get(
  port: number,
  path: string,
  {
    timeoutMs = 10_000,
    signal,
    headers,
  }: {
    timeoutMs?: number;
    signal?: AbortSignal;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers,
        agent: false,
        timeout: timeoutMs,
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}

export function getJson<T = unknown>(
  port: number,
  path: string,
  options?: { timeoutMs?: number; signal?: AbortSignal },
): Promise<HttpResult & { json: T }> {
  return get(port, path, options).then((result) => ({
    ...result,
    json: JSON.parse(result.body) as T,
  }));
}

/** `X-Served-By: <port>:<pid>` split into its parts. */
export function servedByOf(result: HttpResult): { port: number; pid: number } {
  const [port, pid] = String(result.headers['x-served-by'])
    .split(':')
    .map(Number);
  return { port, pid };
}

/** How many draws an /api/randoms answer counts: the sum of its values. */
export function sumCounts(body: string | Record<string, number>): number {
  const counts =
    typeof body === 'string'
      ? (JSON.parse(body) as Record<string, number>)
      : body;
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** The value of one sample in Prometheus' text format (`series` with its labels), or undefined. */
export function metricSample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}
