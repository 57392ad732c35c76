import {
  Controller,
  Get,
  Inject,
  NotFoundException,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { Response } from 'express';
import { APP_CONFIG } from '../config/app.config.js';
import type { AppOptions } from '../config/app-options.js';
import { MetricsService } from './metrics.service.js';

/** Prometheus scrapes this on each instance; nginx never serves it to the outside. */
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppOptions,
  ) {}

  @Get()
  async scrape(@Res({ passthrough: true }) res: Response): Promise<string> {
    if (!this.config.metrics) throw new NotFoundException();
    try {
      const { text, contentType } = await this.metrics.exposition();
      res.setHeader('Content-Type', contentType);
      res.setHeader('Cache-Control', 'no-store');
      return text;
    } catch (error) {
      res.setHeader('Retry-After', '1');
      throw new ServiceUnavailableException(
        `the cluster's metrics could not be gathered: ${(error as Error).message}`,
      );
    }
  }
}
