import { Controller, Get, Header, Render } from '@nestjs/common';
import { formatBytes } from './format-bytes.js';
import { InfoService, type ServerInfo } from './info.service.js';

export interface InfoView {
  title: string;
  info: ServerInfo;
  memoryRssText: string;
  argumentsText: string;
}

@Controller()
export class InfoController {
  constructor(private readonly infoService: InfoService) {}

  @Get('info')
  @Render('info')
  @Header('Cache-Control', 'no-store')
  page(): InfoView {
    const info = this.infoService.snapshot();
    return {
      title: `Server info · port ${info.port}`,
      info,
      memoryRssText: formatBytes(info.memoryRss),
      argumentsText:
        info.arguments.length > 0 ? info.arguments.join(' ') : '(none)',
    };
  }

  @Get('api/info')
  @Header('Cache-Control', 'no-store')
  json(): ServerInfo {
    return this.infoService.snapshot();
  }
}
