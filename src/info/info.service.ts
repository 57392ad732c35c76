import { cpus, platform } from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/app.config.js';
import type { AppOptions, Mode } from '../config/app-options.js';
import { PROJECT_ROOT } from '../config/paths.js';
import { describeRole, effectiveMode } from '../cluster/process-role.js';

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
}

@Injectable()
export class InfoService {
  /** Everything but the RSS is fixed for the life of the process, so it is read once. */
  private readonly fixed: Omit<ServerInfo, 'memoryRss'>;

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

  snapshot(): ServerInfo {
    return { ...this.fixed, memoryRss: process.memoryUsage.rss() };
  }
}
