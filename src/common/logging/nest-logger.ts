import type { LoggerService } from '@nestjs/common';
import type { Logger } from './logger.js';

/**
 * Nest's start-up listing (modules initialised, routes mapped), once per process
 * and so once per cluster worker: debug, not info.
 */
const START_UP_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** Nest's LoggerService on the process's pino logger; the context becomes a field. */
export class NestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = contextOf(params);
    if (context !== undefined && START_UP_CONTEXTS.has(context))
      this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
  }

  error(message: unknown, ...params: unknown[]): void {
    // Nest passes (message, stack?, context?).
    const context = contextOf(params);
    const stack = params.find(
      (param) => typeof param === 'string' && param !== context,
    );
    this.logger.error({ context, stack }, String(message));
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.logger.warn({ context: contextOf(params) }, String(message));
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.logger.debug({ context: contextOf(params) }, String(message));
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.logger.trace({ context: contextOf(params) }, String(message));
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.logger.fatal({ context: contextOf(params) }, String(message));
  }
}

/** Nest puts the context last. */
function contextOf(params: unknown[]): string | undefined {
  const last = params.at(-1);
  return typeof last === 'string' ? last : undefined;
}
