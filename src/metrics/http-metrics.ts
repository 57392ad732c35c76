import type { Registry } from 'prom-client';

type Labels = { method: string; route: string; status: string };

interface Series {
  labels: Labels;
  count: number;
  sum: number;
  /** Observations by bucket, not yet cumulative; the last one is above every bound. */
  buckets: number[];
}

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * http_requests_total{method,route,status} and http_request_duration_seconds,
 * as prom-client's Counter and Histogram would serve them, counted in plain
 * numbers: prom-client's label children validate and hash their labels on
 * every call, which on a small request costs as much as the rest of this
 * file. The registry reads them at each scrape, and the cluster's figures add
 * up as prom-client's own do.
 */
export class HttpMetrics {
  private readonly series = new Map<string, Series>();

  constructor(
    registry: Registry,
    private readonly bounds: readonly number[],
  ) {
    const metric = (
      name: string,
      help: string,
      type: 'counter' | 'histogram',
      values: () => Value[],
    ): void =>
      registry.registerMetric({
        name,
        help,
        type,
        aggregator: 'sum',
        get: () =>
          Promise.resolve({
            name,
            help,
            type,
            aggregator: 'sum',
            values: values(),
          }),
      } as unknown as Parameters<Registry['registerMetric']>[0]);
    metric(
      'http_requests_total',
      'HTTP requests answered, by method, matched route pattern and status',
      'counter',
      () =>
        [...this.series.values()].map(({ labels, count }) => ({
          labels,
          value: count,
        })),
    );
    const name = 'http_request_duration_seconds';
    metric(
      name,
      'Time from a request arriving to its answer finishing, in seconds',
      'histogram',
      () =>
        [...this.series.values()].flatMap((series) =>
          this.histogramValues(name, series),
        ),
    );
  }

  observe(
    method: string,
    route: string,
    status: number,
    seconds: number,
  ): void {
    const key = `${method} ${status} ${route}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = {
        labels: { method, route, status: String(status) },
        count: 0,
        sum: 0,
        buckets: new Array<number>(this.bounds.length + 1).fill(0),
      };
      this.series.set(key, series);
    }
    series.count++;
    series.sum += seconds;
    let bucket = 0;
    while (bucket < this.bounds.length && seconds > this.bounds[bucket])
      bucket++;
    series.buckets[bucket]++;
  }

  private histogramValues(
    name: string,
    { labels, count, sum, buckets }: Series,
  ): Value[] {
    let below = 0;
    return [
      ...this.bounds.map((le, i) => ({
        labels: { le, ...labels },
        value: (below += buckets[i]),
        metricName: `${name}_bucket`,
      })),
      {
        labels: { le: '+Inf', ...labels },
        value: count,
        metricName: `${name}_bucket`,
      },
      { labels, value: sum, metricName: `${name}_sum` },
      { labels, value: count, metricName: `${name}_count` },
    ];
  }
}
