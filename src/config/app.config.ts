import { registerAs } from '@nestjs/config';
import { parseAppOptions } from './app-options.js';

/**
 * The typed configuration of a serving process. main.ts has already parsed the
 * same argv and exited on a mistake, so this cannot fail in production.
 */
export const appConfig = registerAs('app', () =>
  parseAppOptions(process.argv.slice(2), process.env),
);
