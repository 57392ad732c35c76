import { cpus, platform } from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import { gather, underOurPrimary } from '../cluster/gather.js';
import { APP_CONFIG } from '../config/app.config.js';
import type { AppOptions, Mode } from '../config/app-options.js';
import { PROJECT_ROOT } from '../config/paths.js';
import { describeRole, effectiveMode } from '../cluster/process-role.js';
import type { WorkerStats } from '../metrics/metrics.service.js';

export interface ClusterInfo {
  primaryPid: number;
  /** Workers the primary started to replace others. */
  restarts: number;
  workers: ({ id: number; pid: number } & WorkerStats)[];
}

export interface ServerInfo {
  arguments: string[];
  platform: NodeJS.Platform;
  nodeVersion: string;
  /** Resident set size of this process, in bytes. */
  memoryRss: number;
  execPath: string;
  pid: number;
  projectFolder: string;
  processors: number;
  mode: Mode;
  port: number;
  role: string;
  /** Under our own cluster primary: every live worker, gathered through it. */
  cluster?: ClusterInfo;
}

/** How long a gathered view of the cluster is shown again rather than asked anew. */
const CLUSTER_VIEW_MS = 1_000;
/**
 * How long an RSS reading is shown again: reading it is a read of /proc, a
 * tenth of what /api/info costs, and a figure 100 ms old reads the same.
 */
const RSS_READING_MS = 100;

@Injectable()
export class InfoService {
  /** Everything but the RSS is fixed for the life of the process, so it is read once. */
  private readonly fixed: Omit<ServerInfo, 'memoryRss' | 'cluster'>;
  private clusterView?: { at: number; view: Promise<ClusterInfo | undefined> };
  private rss = { at: -Infinity, bytes: 0 };

  constructor(@Inject(APP_CONFIG) config: AppOptions) {
    this.fixed = {
      arguments: [...config.args],
      platform: platform(),
      nodeVersion: process.version,
      execPath: process.execPath,
      pid: process.pid,
      projectFolder: PROJECT_ROOT.replace(/\/$/, ''),
      processors: cpus().length,
      mode: effectiveMode(),
      port: config.port,
      role: describeRole(),
    };
  }

  async snapshot(): Promise<ServerInfo> {
    const info: ServerInfo = { ...this.fixed, memoryRss: this.memoryRss() };
    if (!underOurPrimary()) return info;
    const cluster = await this.cluster();
    return cluster ? { ...info, cluster } : info;
  }

  private memoryRss(): number {
    const now = performance.now();
    if (now - this.rss.at > RSS_READING_MS)
      this.rss = { at: now, bytes: process.memoryUsage.rss() };
    return this.rss.bytes;
  }

  /**
   * The cluster as the primary gathers it, at most a second old: a page a
   * person reads, not worth asking every worker on every request.
   */
  private cluster(): Promise<ClusterInfo | undefined> {
    const now = performance.now();
    if (!this.clusterView || now - this.clusterView.at > CLUSTER_VIEW_MS) {
      this.clusterView = {
        at: now,
        view: gather<WorkerStats>('info').then(
          ({ primary, workers }) => ({
            primaryPid: primary.pid,
            restarts: primary.restarts,
            workers: workers
              .map(({ id, pid, report }) => ({ id, pid, ...report }))
              .sort((a, b) => a.id - b.id),
          }),
          () => undefined, // the page shows this process alone
        ),
      };
    }
    return this.clusterView.view;
  }
}
