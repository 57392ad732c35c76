import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Counter,
  Gauge,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';
import { answerReports, gather, underOurPrimary } from '../cluster/gather.js';
import { APP_CONFIG } from '../config/app.config.js';
import { HttpMetrics } from './http-metrics.js';
import type { AppOptions } from '../config/app-options.js';

/** A worker's report for /info: who it is and what it has done. */
export interface WorkerStats {
  uptimeSeconds: number;
  memoryRss: number;
  requestsServed: number;
}

type Snapshot = MetricObjectWithValues<MetricValue<string>>[];

const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Where most answers fall: a health check in microseconds, cant=1e9 in about a second. */
const DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * This process's counters, in a registry of its own, and GET /metrics' text:
 * its own figures, or under our cluster primary the sum over every worker,
 * gathered through the primary (cluster/gather.ts) and added up with
 * prom-client's AggregatorRegistry.aggregate.
 */
@Injectable()
export class MetricsService implements OnApplicationBootstrap {
  readonly registry = new Registry();
  readonly drawsTotal: Counter;
  readonly jobsRejected: Counter;
  readonly jobsCancelled: Counter;
  private readonly http: HttpMetrics;
  private served = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: AppOptions) {
    const registers = [this.registry];
    if (config.metrics) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters, which promtool rejects; the same figures
      // stand by type in nodejs_active_{handles,requests,resources}.
      for (const name of MISNAMED_DEFAULTS)
        this.registry.removeSingleMetric(name);
    }
    this.http = new HttpMetrics(this.registry, DURATION_BUCKETS);
    this.drawsTotal = new Counter({
      name: 'randoms_draws_total',
      help: 'Random numbers drawn for /api/randoms',
      registers,
    });
    this.jobsRejected = new Counter({
      name: 'randoms_jobs_rejected_total',
      help: '/api/randoms requests refused with 503: the queued work exceeded RANDOMS_MAX_QUEUE_MS',
      registers,
    });
    this.jobsCancelled = new Counter({
      name: 'randoms_jobs_cancelled_total',
      help: '/api/randoms computations stopped because their client went away',
      registers,
    });
  }

  /** Jobs held by the pool right now, read at each scrape. */
  trackJobsInFlight(read: () => number): void {
    new Gauge({
      name: 'randoms_jobs_in_flight',
      help: '/api/randoms requests admitted and not yet answered',
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  onApplicationBootstrap(): void {
    if (!underOurPrimary()) return;
    answerReports({
      metrics: (): Promise<Snapshot> => this.registry.getMetricsAsJSON(),
      info: (): WorkerStats => ({
        uptimeSeconds: Math.round(process.uptime()),
        memoryRss: process.memoryUsage.rss(),
        requestsServed: this.served,
      }),
    });
  }

  get requestsServed(): number {
    return this.served;
  }

  /** One answered request. */
  observe(
    method: string,
    route: string,
    status: number,
    seconds: number,
  ): void {
    this.served++;
    this.http.observe(method, route, status, seconds);
  }

  /** The Prometheus text of GET /metrics and its content type. */
  async exposition(): Promise<{ text: string; contentType: string }> {
    if (!underOurPrimary()) {
      return {
        text: await this.registry.metrics(),
        contentType: this.registry.contentType,
      };
    }
    const cluster = await gather<Snapshot>('metrics');
    const total = AggregatorRegistry.aggregate(
      cluster.workers.map((worker) => worker.report),
    );
    new Gauge({
      name: 'cluster_workers',
      help: 'Workers of the cluster that answered this scrape',
      registers: [total],
    }).set(cluster.workers.length);
    new Counter({
      name: 'cluster_worker_restarts_total',
      help: 'Workers the primary started to replace others (deaths, SIGHUP)',
      registers: [total],
    }).inc(cluster.primary.restarts);
    return { text: await total.metrics(), contentType: total.contentType };
  }
}
