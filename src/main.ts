import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runPrimary } from './cluster/primary.js';
import { createLogger } from './common/logging/logger.js';
import { readOptionsOrExit } from './config/cli.js';

async function bootstrap(): Promise<void> {
  const options = readOptionsOrExit(process.argv.slice(2), process.env);
  // A process that is already a cluster worker (ours, or PM2's `-i`) serves, whatever
  // --mode says: a cluster never nests.
  if (options.mode === 'CLUSTER' && cluster.isPrimary) {
    const logger = await createLogger({
      level: options.logLevel,
      format: options.logFormat,
      base: { role: 'primary' },
    });
    runPrimary({
      count: options.workers,
      graceMs: options.graceMs,
      exec: fileURLToPath(import.meta.url),
      args: [...options.args],
      log: (line, level = 'info') => logger[level](line),
    });
    return;
  }
  // Nest's start-up allocates enough to grow V8's young generation to its
  // 16 MiB semi-spaces, which a serving process then keeps: ~15 MiB of an idle
  // server's RSS. V8 reads this factor each time it would grow them, so set
  // before Nest loads it keeps them at their initial size.
  setFlagsFromString('--semi-space-growth-factor=1');
  // Loaded only here, so that a CLUSTER primary never loads Nest.
  const { runServer } = await import('./cluster/server.js');
  await runServer(options);
}

void bootstrap();
