import {
  parseAppOptions,
  UsageError,
  USAGE,
  type AppOptions,
} from './app-options.js';

/** Parses the command line; a user's mistake ends the process with one line and exit code 2. */
export function readOptionsOrExit(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): AppOptions {
  try {
    const options = parseAppOptions(argv, env);
    if (options.help) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    return options;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message} (see --help)\n`);
    process.exit(2);
  }
}
