// PM2 (v7) process file for challenge 15. CommonJS (.cjs) because package.json says
// "type": "module"; PM2 loads *.config.cjs with require().
// Build first (`npm run build`): every app runs dist/main.js.
//
// Apps                      port  what                          namespace
//   api-8080                8080  single process (FORK)         lb-front
//   api-8081                8081  the app's own node:cluster    lb-node-cluster
//   api-8082 .. api-8085    8082-8085 single processes (FORK)   lb-upstream
//   api-pm2-cluster         8086  PM2 cluster mode, one FORK    lb-pm2-cluster
//                                 server per CPU, sharing 8086
//
// Scenario 1, nginx/randoms-to-node-cluster.conf:
//   npx pm2 start ecosystem.config.cjs --only "api-8080,api-8081"
// Scenario 2, nginx/randoms-to-upstream.conf:
//   npx pm2 start ecosystem.config.cjs --only "api-8080,api-8082,api-8083,api-8084,api-8085"
// PM2's own cluster mode:
//   npx pm2 start ecosystem.config.cjs --only api-pm2-cluster
// `start` with the file restarts the listed apps that already run. --only takes names
// separated by commas or spaces for start/restart/reload with the file, but
// `pm2 stop|delete ecosystem.config.cjs --only "a,b"` silently matches nothing (PM2 7
// compares --only with ONE name there), so stop by name(s) or namespace:
//   npx pm2 ls                                    # list by PM2
//   ps -ef --forest | grep -E '[P]M2|[d]ist/main.js'   # list by the OS (8081: primary + workers)
//   npx pm2 stop lb-upstream                      # the 4 upstream instances (namespace)
//   npx pm2 delete api-8080 api-8081              # several names at once
//   npx pm2 delete ecosystem.config.cjs           # every app of this file
//   npx pm2 kill                                  # all apps and the PM2 daemon
//   npx pm2 reload lb-upstream                    # behind nginx: no failed request
//   npx pm2 reload api-pm2-cluster                # zero-downtime, one instance at a time
//   npx pm2 sendSignal SIGHUP api-8081            # the app's rolling restart of its workers
// (`pm2 reload` of a fork-mode app is a plain restart: its port is closed for about a
//  second. Behind randoms-to-upstream.conf nginx retries another instance meanwhile;
//  for api-8081 use the SIGHUP above, which never closes the port.)
//
// Watch mode (restart when the build output or the views change), for every app:
//   PM2_WATCH=1 npx pm2 start ecosystem.config.cjs --only "api-8080,api-8081"
//   then rebuild (`npm run build`, or `npx nest build --watch` in another terminal).
// `npx pm2 start ecosystem.config.cjs --watch` also works: it watches the whole project
// folder minus ignore_watch below. `npx pm2 stop <name> --watch` stops app and watching.
// PM2_WATCH is only read here, when PM2 loads this file (start/restart/reload with the file).
'use strict';

const WATCH = process.env.PM2_WATCH === '1' || process.env.PM2_WATCH === 'true';

// Settings every app shares.
const common = {
  cwd: __dirname,
  script: 'dist/main.js', // relative to cwd
  node_args: [],
  env: { NODE_ENV: 'production' }, // each app adds its PROCESS_TITLE

  // Zero-downtime start/reload: the app calls process.send('ready') once it listens;
  // PM2 waits up to listen_timeout for it (and then carries on anyway).
  wait_ready: true,
  listen_timeout: 10000,
  // PM2 stops an app with SIGINT, then SIGKILL after kill_timeout. The app drains
  // in-flight requests for up to 10 s (SHUTDOWN_GRACE_MS) before exiting, so PM2 must
  // wait longer than that.
  kill_timeout: 12000,

  // Crash handling: growing delay between restarts, give up after 10 restarts that
  // each lived less than min_uptime.
  autorestart: true,
  exp_backoff_restart_delay: 100,
  min_uptime: 5000,
  max_restarts: 10,
  max_memory_restart: '512M',

  time: true, // timestamp every log line (`pm2 logs <name>`; files: ~/.pm2/logs/<name>-{out,error}-<id>.log)

  // Watch mode: see the header. Paths are relative to cwd.
  watch: WATCH ? ['dist', 'views'] : false,
  watch_delay: 1000, // let the build finish writing before restarting
  ignore_watch: [
    'node_modules',
    '.git',
    'src',
    'test',
    'logs',
    'coverage',
    '**/*.log',
    '**/*.map',
    '**/*.tsbuildinfo',
  ],
};

// PM2 renames its processes `node /abs/path/dist/main.js` (the same for every app, and
// the flags no longer show in `ps`; /proc/<pid>/comm becomes "node /abs/path", so
// `ps -C node` finds none of them). PROCESS_TITLE, which PM2's process container
// reads, gives each process the command line it stands for instead, so
// `pgrep -af 'dist/main.js'` / `ps -ef | grep port=8081` tell the apps apart.
// (Workers of the 8081 cluster inherit the title of their primary.)
const title = (port, mode) => `node dist/main.js --port=${port} --mode=${mode}`;

/** One PM2 process in fork mode running the app on `port` in `mode`. */
function server(name, port, mode, namespace, extra = {}) {
  return {
    ...common,
    name,
    namespace,
    exec_mode: 'fork',
    instances: 1,
    args: [`--port=${port}`, `--mode=${mode}`],
    env: { ...common.env, PROCESS_TITLE: title(port, mode) },
    ...extra,
  };
}

module.exports = {
  apps: [
    // Everything but /api/randoms, in both nginx scenarios.
    server('api-8080', 8080, 'FORK', 'lb-front'),

    // Scenario 1: ONE PM2 process, the primary of the app's own node:cluster (workers =
    // os.availableParallelism(); add '--workers=N' to args to change). exec_mode stays
    // 'fork': PM2 must not be the cluster primary here, the app is.
    // treekill false: PM2 signals only the primary, which drains and stops its workers
    // itself (with the default tree kill, PM2 would also signal every worker directly,
    // racing the primary's own shutdown and respawn logic). If the primary is SIGKILLed,
    // node:cluster workers exit on their own when its IPC channel closes.
    server('api-8081', 8081, 'CLUSTER', 'lb-node-cluster', { treekill: false }),

    // Scenario 2: four single processes behind nginx's upstream.
    server('api-8082', 8082, 'FORK', 'lb-upstream'),
    server('api-8083', 8083, 'FORK', 'lb-upstream'),
    server('api-8084', 8084, 'FORK', 'lb-upstream'),
    server('api-8085', 8085, 'FORK', 'lb-upstream'),

    // PM2's cluster mode: PM2 is the node:cluster primary and starts one instance per CPU,
    // all sharing port 8086. Each instance is a cluster worker, so the app serves as a
    // single process whatever --mode says (FORK given, as the challenge asks).
    // `pm2 reload api-pm2-cluster` restarts them one by one with no downtime.
    {
      ...common,
      name: 'api-pm2-cluster',
      namespace: 'lb-pm2-cluster',
      exec_mode: 'cluster',
      instances: 'max',
      args: ['--port=8086', '--mode=FORK'],
      env: { ...common.env, PROCESS_TITLE: title(8086, 'FORK') },
      merge_logs: true, // one log file for all instances
    },
  ],
};
