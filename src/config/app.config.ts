import {
  type ConfigFactory,
  type ConfigFactoryKeyHost,
  getConfigToken,
  registerAs,
} from '@nestjs/config';
import type { AppOptions } from './app-options.js';

const NAMESPACE = 'app';

/** The injection token of the AppOptions this process was started with. */
export const APP_CONFIG = getConfigToken(NAMESPACE);

/** The options main.ts parsed, registered as the `app` namespace of @nestjs/config. */
export const appConfig = (
  options: AppOptions,
): ConfigFactory<AppOptions> & ConfigFactoryKeyHost<AppOptions> =>
  registerAs(NAMESPACE, (): AppOptions => options);
