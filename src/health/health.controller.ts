import { Controller, Get, Header } from '@nestjs/common';

export interface HealthStatus {
  status: 'ok';
}

/** Liveness for nginx, PM2 and tests: answers from the event loop, never touches the compute pool. */
@Controller('health')
export class HealthController {
  @Get()
  @Header('Cache-Control', 'no-store')
  check(): HealthStatus {
    return { status: 'ok' };
  }
}
