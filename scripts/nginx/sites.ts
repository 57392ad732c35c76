// The topology the project ships, named once: the ports of each scenario, the example hosts,
// and the nginx files rendered from them (npm run nginx:render writes nginx/*.conf).
import type { Site } from './config.js';

/** Everything but /api/randoms, in every scenario. */
export const SINGLE_PORT = 8080;
/** Scenario 1: the app's own node:cluster. */
export const NODE_CLUSTER_PORT = 8081;
/** Scenario 2: four single processes. */
export const UPSTREAM_PORTS = [8082, 8083, 8084, 8085];
/** The example hosts, as `npm run lab:up` makes them: a node cluster on 8081 in each. */
const EXAMPLE_HOSTS = ['10.213.0.11', '10.213.0.12', '10.213.0.13'];

const local = (port: number): string => `127.0.0.1:${port}`;

const NODE_CLUSTER_SITE: Site = {
  name: 'randoms-to-node-cluster',
  listen: '80',
  randoms: [local(NODE_CLUSTER_PORT)],
  rest: [local(SINGLE_PORT)],
  about: [
    'Challenge 15, scenario 1 ("node cluster"):',
    `  /api/randoms    -> ${local(NODE_CLUSTER_PORT)}, ONE process that is a node:cluster`,
    `                     (node dist/main.js --port=${NODE_CLUSTER_PORT} --mode=CLUSTER)`,
    `  everything else -> ${local(SINGLE_PORT)}, one single process`,
    `                     (node dist/main.js --port=${SINGLE_PORT} --mode=FORK)`,
    `  (PM2: pm2 start ecosystem.config.cjs --only "api-${SINGLE_PORT},api-${NODE_CLUSTER_PORT}")`,
    'Only one nginx can own port 80 at a time: `-s quit` this one before starting',
    'nginx/randoms-to-upstream.conf (a reload keeps the file nginx was started with).',
    'Check it:',
    "  curl -si 'http://127.0.0.1/api/randoms?cant=1000' | grep -i x-served-by   # 8081:<worker pid>, varies",
    '  curl -si  http://127.0.0.1/api/info | grep -i x-served-by                  # 8080:<pid>, always the same',
  ],
};

const UPSTREAM_SITE: Site = {
  name: 'randoms-to-upstream',
  listen: '80',
  randoms: UPSTREAM_PORTS.map(local),
  rest: [local(SINGLE_PORT)],
  about: [
    'Challenge 15, scenario 2 ("nginx upstream"):',
    `  /api/randoms    -> upstream of 4 single processes on 127.0.0.1:${UPSTREAM_PORTS.join(', ')},`,
    '                     evenly (round robin): node dist/main.js --port=808X --mode=FORK',
    `  everything else -> ${local(SINGLE_PORT)}, one single process`,
    `                     (node dist/main.js --port=${SINGLE_PORT} --mode=FORK)`,
    `  (PM2: pm2 start ecosystem.config.cjs --only "${[SINGLE_PORT, ...UPSTREAM_PORTS].map((port) => `api-${port}`).join(',')}")`,
    'Only one nginx can own port 80 at a time: `-s quit` the other one first.',
    'Check it:',
    "  for i in $(seq 400); do curl -s -o /dev/null -D - 'http://127.0.0.1/api/randoms?cant=1000' \\",
    '    | grep -i x-served-by; done | cut -d: -f2 | sort | uniq -c    # 100 each for 8082..8085',
  ],
};

/** The hosts config for `peers`, as `npm run nginx:hosts` and the lab render it. */
export function hostsSite({
  name = 'randoms-to-hosts',
  listen = '80',
  randoms,
  rest,
}: {
  name?: string;
  listen?: string;
  randoms: string[];
  rest: string[];
}): Site {
  return {
    name,
    listen,
    randoms,
    rest,
    about: [
      'Several hosts behind one nginx (DEPLOYMENT.md): each host runs the app, typically',
      `a node cluster on ${NODE_CLUSTER_PORT} (node dist/main.js --port=${NODE_CLUSTER_PORT} --mode=CLUSTER, or PM2's`,
      `ecosystem.config.cjs), and one of them the single server on ${SINGLE_PORT} as well.`,
      `  /api/randoms    -> ${randoms.join(', ')}`,
      `  everything else -> ${rest.join(', ')}`,
      'On each host, TRUST_PROXY=<this nginx address> lets the app believe X-Forwarded-For.',
      `Rendered by: npm run -s nginx:hosts -- --listen=${listen} --randoms=${randoms.join(',')} \\`,
      `               --rest=${rest.join(',')} --name=${name}`,
    ],
  };
}

const HOSTS_SITE: Site = hostsSite({
  randoms: EXAMPLE_HOSTS.map((host) => `${host}:${NODE_CLUSTER_PORT}`),
  rest: [`${EXAMPLE_HOSTS[0]}:${SINGLE_PORT}`],
});

/** The files in nginx/, each the rendering of its site. */
export const SHIPPED_SITES: Site[] = [
  NODE_CLUSTER_SITE,
  UPSTREAM_SITE,
  HOSTS_SITE,
];
