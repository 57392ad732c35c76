import { readOptionsOrExit } from './config/cli.js';
import { runProcess } from './cluster/process-model.js';

const options = readOptionsOrExit(process.argv.slice(2), process.env);

// The server module is imported lazily so that a CLUSTER primary never loads Nest.
void runProcess(options, async () => {
  const { startServer } = await import('./server.js');
  await startServer(options);
});
