import { Controller, Get, Header, Render } from '@nestjs/common';
import { formatBytes, formatDuration } from './format.js';
import { InfoService, type ServerInfo } from './info.service.js';

export interface InfoView {
  title: string;
  info: ServerInfo;
  memoryRssText: string;
  argumentsText: string;
  /** The cluster's workers, as the page lists them. */
  workers?: {
    id: number;
    pid: number;
    uptime: string;
    memoryRss: string;
    requestsServed: string;
    self: boolean;
  }[];
}

@Controller()
export class InfoController {
  constructor(private readonly infoService: InfoService) {}

  @Get('info')
  @Render('info')
  @Header('Cache-Control', 'no-store')
  async page(): Promise<InfoView> {
    const info = await this.infoService.snapshot();
    return {
      title: `Server info · port ${info.port}`,
      info,
      memoryRssText: formatBytes(info.memoryRss),
      argumentsText:
        info.arguments.length > 0 ? info.arguments.join(' ') : '(none)',
      workers: info.cluster?.workers.map((worker) => ({
        id: worker.id,
        pid: worker.pid,
        uptime: formatDuration(worker.uptimeSeconds),
        memoryRss: formatBytes(worker.memoryRss),
        requestsServed: worker.requestsServed.toLocaleString('en-US'),
        self: worker.pid === info.pid,
      })),
    };
  }

  @Get('api/info')
  @Header('Cache-Control', 'no-store')
  json(): Promise<ServerInfo> {
    return this.infoService.snapshot();
  }
}
