import {
  Controller,
  Get,
  Header,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { Response } from 'express';
import { Readiness } from './readiness.service.js';

export interface HealthStatus {
  status: 'ok';
}

/**
 * For nginx, PM2, Kubernetes and scripts; all answer from the event loop and
 * never touch the compute pool.
 */
@Controller()
export class HealthController {
  constructor(private readonly readiness: Readiness) {}

  /** Kept as it always was: the process answers. */
  @Get('health')
  @Header('Cache-Control', 'no-store')
  health(): HealthStatus {
    return { status: 'ok' };
  }

  /** Liveness: 200 while the process runs. */
  @Get('livez')
  @Header('Cache-Control', 'no-store')
  live(): HealthStatus {
    return { status: 'ok' };
  }

  /** Readiness: 200 while it takes new work, 503 from the moment it starts draining. */
  @Get('readyz')
  @Header('Cache-Control', 'no-store')
  ready(@Res({ passthrough: true }) res: Response): HealthStatus {
    if (!this.readiness.ready) {
      res.setHeader('Retry-After', '1');
      throw new ServiceUnavailableException(
        'draining: finishing the requests in flight before it exits',
      );
    }
    return { status: 'ok' };
  }
}
