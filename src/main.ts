import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { runPrimary } from './cluster/primary.js';
import { readOptionsOrExit } from './config/cli.js';

async function bootstrap(): Promise<void> {
  const options = readOptionsOrExit(process.argv.slice(2), process.env);
  // A process that is already a cluster worker (ours, or PM2's `-i`) serves, whatever
  // --mode says: a cluster never nests.
  if (options.mode === 'CLUSTER' && cluster.isPrimary) {
    runPrimary({
      count: options.workers,
      graceMs: options.graceMs,
      exec: fileURLToPath(import.meta.url),
      args: [...options.args],
    });
    return;
  }
  // Loaded only here, so that a CLUSTER primary never loads Nest.
  const { runServer } = await import('./cluster/server.js');
  await runServer(options);
}

void bootstrap();
