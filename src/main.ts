import { fileURLToPath } from 'node:url';
import { readOptionsOrExit } from './config/cli.js';
import { runProcess } from './cluster/process-model.js';

const options = readOptionsOrExit(process.argv.slice(2), process.env);
const entry = fileURLToPath(import.meta.url);

// The server module is imported lazily so that a CLUSTER primary never loads Nest.
runProcess(options, entry, async () => {
  const { startServer } = await import('./server.js');
  await startServer(options);
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
