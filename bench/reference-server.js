// The "usual solution" of this challenge, kept deliberately naive as a baseline:
// Express, optional node:cluster, and one child_process.fork per /api/randoms request.
import cluster from 'node:cluster';
import { fork } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import express from 'express';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    mode: { type: 'string', default: 'FORK' },
  },
  strict: false, // tolerate flags meant for our server, e.g. --workers
});
const port = Number(values.port);
const mode = String(values.mode).toUpperCase();
const childPath = new URL('./reference-randoms-child.js', import.meta.url);

if (mode === 'CLUSTER' && cluster.isPrimary) {
  console.log(
    `primary ${process.pid}: forking ${os.availableParallelism()} workers`,
  );
  for (let i = 0; i < os.availableParallelism(); i++) cluster.fork();
  cluster.on('exit', (worker) => {
    console.log(`worker ${worker.process.pid} died, forking a new one`);
    cluster.fork();
  });
} else {
  const app = express();

  app.use((req, res, next) => {
    res.set('X-Served-By', `${port}:${process.pid}`);
    next();
  });

  app.get('/health', (req, res) => res.json({ status: 'ok' }));

  app.get('/api/info', (req, res) =>
    res.json({
      argv: process.argv.slice(2),
      platform: process.platform,
      nodeVersion: process.version,
      rss: process.memoryUsage().rss,
      execPath: process.execPath,
      pid: process.pid,
      cwd: process.cwd(),
      cpus: os.cpus().length,
    }),
  );

  app.get('/api/randoms', (req, res) => {
    const cant = Number(req.query.cant) || 100_000_000;
    const child = fork(childPath);
    child.send(cant);
    child.once('message', (counts) => res.json(counts));
    child.once('error', (err) => res.status(500).json({ error: err.message }));
  });

  app.listen(port, () =>
    console.log(`${mode} server ${process.pid} listening on port ${port}`),
  );
}
