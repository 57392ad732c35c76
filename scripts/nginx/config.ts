// Renders a complete nginx.conf for one site: /api/randoms to one group of peers, everything
// else to another. The shipped files in nginx/ are renderings of this (scripts/nginx/sites.ts,
// checked by test/nginx-config.process-spec.ts), and so is what `npm run nginx:hosts` prints.

/** A peer as nginx's `server` directive takes it: `127.0.0.1:8081`, `[::1]:8081`, `app1.lan:8081`. */
export type Peer = string;

export interface Site {
  /** File name without `.conf`; also names its pid file, logs and temp folders. */
  name: string;
  /** Where the pid file, logs and temp folders go: `<dir>/nginx-<name>.*`. */
  dir?: string;
  /** `80`, or `ADDRESS:PORT`. */
  listen: string;
  /** Peers of /api/randoms: one node cluster, or several instances or hosts. */
  randoms: Peer[];
  /** Peers of everything else. */
  rest: Peer[];
  /** The comment lines at the top, after the file's name: what runs behind it. */
  about: string[];
}

/** Per client address, beyond its burst: 429 (loopback exempt). */
const RANDOMS_RATE_PER_S = 10;
export const RANDOMS_BURST = 20;
/** A connect that takes longer means an unreachable peer: try the next one. */
export const CONNECT_TIMEOUT_MS = 500;
/**
 * Longest wait for an answer to start. The app bounds it: /api/randoms admits a
 * request only while its queue holds under RANDOMS_MAX_QUEUE_MS (3 s) of work.
 */
export const READ_TIMEOUT_S = 10;
/** Passive health checks: after this many failures within FAIL_TIMEOUT_S, a peer rests that long. */
const MAX_FAILS = 2;
export const FAIL_TIMEOUT_S = 2;

/** Headers of every answer nginx writes itself, as the app writes them on its own. */
const OWN_ANSWER_HEADERS = [
  'X-Served-By $server_port:$pid', // nginx port : worker pid
  'Cache-Control no-store',
  'X-Content-Type-Options nosniff',
  'X-Frame-Options DENY',
  'Referrer-Policy no-referrer',
  `Content-Security-Policy "default-src 'none'; frame-ancestors 'none'"`,
];

const ownAnswer = (
  status: number,
  message: string,
  error: string,
  extra: string[] = [],
): string[] => [
  'default_type application/json;',
  ...[...OWN_ANSWER_HEADERS, ...extra].map((h) => `add_header ${h} always;`),
  `return ${status} '{"statusCode":${status},"message":"${message}","error":"${error}"}';`,
];

const indent = (lines: string[], depth: number): string[] =>
  lines.map((line) => (line ? `${'    '.repeat(depth)}${line}` : ''));

const block = (head: string, body: string[]): string[] => [
  `${head} {`,
  ...indent(body, 1),
  '}',
];

function randomsUpstream(peers: Peer[]): { lines: string[]; tries: number } {
  if (peers.length === 1) {
    return {
      tries: 2,
      lines: [
        '# One node:cluster (one listening socket; its primary hands connections to its',
        '# workers). The address is listed TWICE on purpose: nginx retries a failed request',
        '# (proxy_next_upstream) only on ANOTHER peer of the group, and with a single peer it',
        '# never retries. With the address twice, a request whose connection failed (a',
        '# worker died mid-request, connection reset) is retried once on the same cluster,',
        '# where another worker answers -- verified: a reset became a 200.',
        '# Passive health checks are OFF here (max_fails=0): both entries are the same',
        '# cluster, so marking one down protects nothing, and with checks on, two failed',
        '# requests (two worker crashes, or the cluster restarting) got BOTH entries marked',
        '# down: every /api/randoms answered 502 for fail_timeout although the cluster was',
        '# serving again (verified). A refused connect to a peer costs nginx microseconds.',
        ...block('upstream randoms', [
          'zone randoms 64k;                      # state shared by all nginx workers',
          `server ${peers[0]} max_fails=0;`,
          `server ${peers[0]} max_fails=0;     # same cluster, listed twice: see above`,
          keepaliveLine(peers),
          "keepalive_timeout 4s;                  # below the app's (Node's 5 s)",
        ]),
      ],
    };
  }
  return {
    tries: peers.length,
    lines: [
      `# ${peers.length} peers, plain round robin (equal weights): each gets every ${ordinal(peers.length)} request,`,
      `# in turn -- ${peers.length * 100} sequential requests give exactly 100 each. Not least_conn/hash:`,
      '# they would not spread evenly by count. The zone makes the round-robin position',
      '# shared by all nginx workers; without it each keeps its own rotation and the spread',
      '# is only roughly even.',
      '#',
      `# Passive health checks: a peer that fails ${MAX_FAILS} times within ${FAIL_TIMEOUT_S} s (refused or reset`,
      `# connection, a connect over ${CONNECT_TIMEOUT_MS} ms, 502/503/504 -- each of those requests is retried on`,
      `# the next peer, see proxy_next_upstream) gets no traffic for ${FAIL_TIMEOUT_S} s, then one request to`,
      '# probe it. So a dead or unreachable peer costs one failed try every few seconds, not',
      '# every Nth request, and a peer that is back gets traffic again within about',
      `# ${FAIL_TIMEOUT_S + 1} s. The window is short on purpose: a restarted instance is back in ~1 s, and`,
      '# long windows overlapping during a rolling restart are what loses requests',
      '# (measured: fail_timeout=5s failed 163 of 705 requests while PM2 restarted four).',
      '#',
      '# The backup entries are the same peers with the checks off. nginx uses them only',
      '# when every primary entry is marked down at once (all restarted within the window):',
      '# instead of answering "no live upstreams" it then tries each in turn. They never',
      '# receive traffic while one primary entry is up, so the spread above is untouched.',
      ...block('upstream randoms', [
        'zone randoms 64k;',
        ...peers.map(
          (peer) =>
            `server ${peer} max_fails=${MAX_FAILS} fail_timeout=${FAIL_TIMEOUT_S}s;`,
        ),
        ...peers.map((peer) => `server ${peer} backup max_fails=0;`),
        keepaliveLine(peers),
        "keepalive_timeout 4s;                  # below the app's (Node's 5 s)",
      ]),
    ],
  };
}

function restUpstream(peers: Peer[]): string[] {
  return [
    peers.length === 1
      ? "# One server. A one-server group is never marked down (nginx ignores max_fails there):\n# when it is down, clients get the app's error shape for 502 below."
      : `# ${peers.length} servers, round robin, with the same passive checks as /api/randoms.`,
    ...block('upstream rest', [
      'zone rest 64k;',
      ...peers.map((peer) =>
        peers.length === 1
          ? `server ${peer};`
          : `server ${peer} max_fails=${MAX_FAILS} fail_timeout=${FAIL_TIMEOUT_S}s;`,
      ),
      keepaliveLine(peers),
      "keepalive_timeout 4s;                  # below the app's (Node's 5 s)",
    ]),
  ].flatMap((line) => line.split('\n'));
}

const onLoopback = (peer: Peer): boolean =>
  /^(127\.|\[::1\]:|localhost:)/.test(peer);

/**
 * Idle upstream connections each nginx worker keeps: many to peers on this
 * machine, few to hosts across a network. A request sent on a kept connection
 * to a host that has just become unreachable waits out proxy_read_timeout
 * instead of failing its connect within proxy_connect_timeout; in the lab, 32
 * kept connections stalled most requests for the whole of a partition, 4
 * caught a handful (SCALE-OUT.md).
 */
function idleConnections(peers: Peer[]): number {
  return peers.every(onLoopback) ? 32 : 4;
}

const keepaliveLine = (peers: Peer[]): string =>
  `${`keepalive ${idleConnections(peers)};`.padEnd(39)}# idle connections kept per nginx worker${peers.every(onLoopback) ? '' : ': few, see DEPLOYMENT.md'}`;

function ordinal(n: number): string {
  const suffix =
    n % 100 >= 11 && n % 100 <= 13
      ? 'th'
      : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

export function renderSite(site: Site): string {
  const prefix = `${site.dir ?? '/tmp'}/nginx-${site.name}`;
  const file = `nginx/${site.name}.conf`;
  const randoms = randomsUpstream(site.randoms);
  const oneCluster = site.randoms.length === 1;
  const runAs = site.listen === '80' ? ', as root (port 80)' : '';

  const header = [
    `# ${file}`,
    '#',
    ...site.about.map((line) => `# ${line}`.trimEnd()),
    '#',
    '# Complete nginx.conf: it includes no other file and needs nothing from /etc/nginx or',
    `# /var/lib/nginx. Its pid file, logs and temp dirs are ${prefix}.*`,
    `# Run from the repository root${runAs}:`,
    `#   nginx -t        -c "$PWD/${file}"   # test the file`,
    `#   nginx           -c "$PWD/${file}"   # start (daemonizes)`,
    `#   nginx -s reload -c "$PWD/${file}"   # reload after a change, no dropped request`,
    `#   nginx -s quit   -c "$PWD/${file}"   # graceful stop (in-flight requests finish)`,
    `#   nginx -g 'daemon off;' -c "$PWD/${file}"   # foreground, Ctrl+C stops`,
    `#   tail -f ${prefix}.access.log   # upstream= shows who served`,
    '#',
    '# Generated by scripts/nginx/config.ts (npm run nginx:render, npm run nginx:hosts):',
    '# change the generator and render again rather than editing this file.',
  ];

  const http = [
    '# Own minimal MIME map instead of including /etc/nginx/mime.types.',
    ...block('types', [
      'text/html         html htm;',
      'text/plain        txt;',
      'application/json  json;',
    ]),
    'default_type application/octet-stream;',
    '',
    'server_tokens off;                 # "Server: nginx", no version',
    'reset_timedout_connection on;',
    "# nginx closes a client's keep-alive connection after 1000 requests by default; a",
    '# load balancer in front of busy clients (or a load test) then sees needless',
    '# reconnects and, at that instant, errors (measured by npm run bench).',
    'keepalive_requests 10000;',
    'client_header_timeout 10s;',
    'client_body_timeout 10s;',
    'client_max_body_size 1m;           # the API takes no request bodies',
    '',
    '# Temp dirs of this instance (nginx creates them), so /var/lib/nginx is not needed.',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
      (kind) => `${`${kind}_temp_path`.padEnd(21)} ${prefix}.${kind};`,
    ),
    '',
    'log_format upstream_log \'$remote_addr [$time_local] "$request" $status $body_bytes_sent \'',
    "                        'rt=$request_time upstream=$upstream_addr '",
    "                        'ustatus=$upstream_status urt=$upstream_response_time rid=$request_id_out';",
    `access_log ${prefix}.access.log upstream_log;`,
    '',
    '# /api/randoms answers ~15 KB of JSON: compress it for clients that accept gzip.',
    '# (Skipped by nginx when the app already sent a Content-Encoding.)',
    'gzip on;',
    'gzip_proxied any;',
    'gzip_vary on;',
    'gzip_min_length 1024;',
    'gzip_types application/json;       # text/html is always included',
    '',
    "# X-Request-Id: the client's own, else nginx's $request_id; the app keeps it only when it",
    '# is a sane token, echoes it, and logs it with the request.',
    ...block('map $http_x_request_id $request_id_out', [
      '""        $request_id;',
      'default   $http_x_request_id;',
    ]),
    '',
    `# A fair share of /api/randoms per client address: ${RANDOMS_RATE_PER_S} requests a second, bursts of`,
    `# ${RANDOMS_BURST} answered at once (nodelay), 429 + Retry-After beyond. Each address has its own`,
    '# bucket, so one client over its limit does not slow another. Loopback clients have an',
    '# empty key, which nginx does not limit: local scripts and health checks pass.',
    ...block('geo $randoms_limited', [
      'default        1;',
      '127.0.0.0/8    0;',
      '::1            0;',
    ]),
    ...block('map $randoms_limited $randoms_client', [
      '0   "";',
      '1   $binary_remote_addr;',
    ]),
    `limit_req_zone $randoms_client zone=randoms_per_client:10m rate=${RANDOMS_RATE_PER_S}r/s;`,
    'limit_req_status 429;',
    'limit_req_log_level warn;',
    '',
    ...randoms.lines,
    '',
    ...restUpstream(site.rest),
    '',
    ...block('server', [
      `listen ${site.listen} default_server;`,
      'server_name _;',
      '',
      '# Upstream keep-alive: HTTP/1.1 and no "Connection: close" towards the app.',
      'proxy_http_version 1.1;',
      'proxy_set_header Connection "";',
      'proxy_set_header Host $host;',
      'proxy_set_header X-Real-IP $remote_addr;',
      'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      'proxy_set_header X-Forwarded-Proto $scheme;',
      'proxy_set_header X-Request-Id $request_id_out;',
      '# Response headers of the app (X-Served-By: <port>:<pid>, security headers,',
      '# Retry-After, X-Request-Id) pass through untouched.',
      '',
      `proxy_connect_timeout ${CONNECT_TIMEOUT_MS}ms;   # refused shows at once; unreachable, after this`,
      `proxy_send_timeout ${READ_TIMEOUT_S}s;`,
      `proxy_read_timeout ${READ_TIMEOUT_S}s;`,
      '',
      '# Retry a request whose connection failed or timed out on the next peer, as long as',
      '# nothing has reached the client yet; the number of tries bounds the whole wait.',
      'proxy_next_upstream error timeout;',
      `proxy_next_upstream_tries ${Math.max(2, site.rest.length)};`,
      '',
      "# Errors nginx itself produces answer in the app's error shape. proxy_intercept_errors",
      '# is off, so an error the app sends (503 + Retry-After when its queue is full) reaches',
      '# the client as it is.',
      'error_page 429 = @too_many_requests;',
      'error_page 502 = @bad_gateway;',
      'error_page 504 = @gateway_timeout;',
      '',
      '# Every /api/randoms request: the exact path plus any case variant or sub-path',
      '# (Express matches routes case-insensitively and ignores a trailing slash, so',
      '# /API/Randoms/ would otherwise be computed by the rest group).',
      ...block('location ~* ^/api/randoms(?:/|$)', [
        `limit_req zone=randoms_per_client burst=${RANDOMS_BURST} nodelay;`,
        'proxy_pass http://randoms;',
        '',
        ...(oneCluster
          ? [
              '# Retry on the second entry (= the same cluster) when the connection failed, timed',
              '# out, or the gateway errors. NOT http_503: the app answers 503 + Retry-After when',
              '# its queue is full; the "other peer" here is the same cluster, so an immediate',
              '# retry would only add load. The 503 and its Retry-After go to the client.',
              'proxy_next_upstream error timeout http_502 http_504;',
            ]
          : [
              '# Retry on the next peer when the connection failed, timed out, or the peer answered',
              '# 502/503/504. http_503 included on purpose: an instance answers 503 + Retry-After',
              '# when ITS queue is full, and the others have queues of their own; a 503 is',
              '# answered at once, so a retry costs the busy one nothing. When every try gets',
              '# 503, the last 503 (with its Retry-After) goes to the client.',
              'proxy_next_upstream error timeout http_502 http_503 http_504;',
            ]),
        `proxy_next_upstream_tries ${randoms.tries};       # each entry once at most`,
      ]),
      '',
      '# Prometheus scrapes the instances directly (README, "Metrics"); nothing outside',
      '# reads them here, in any letter case.',
      ...block(
        'location ~* ^/metrics(?:/|$)',
        ownAnswer(
          404,
          'Cannot $request_method the requested path',
          'Not Found',
        ),
      ),
      '',
      ...block('location /', ['proxy_pass http://rest;']),
      '',
      '# Liveness of nginx itself (the apps have GET /health, /livez, /readyz).',
      ...block('location = /nginx-health', [
        'access_log off;',
        ...ownAnswer(200, 'ok', 'none').slice(0, -1),
        `return 200 '{"status":"ok"}';`,
      ]),
      '',
      ...block(
        'location @too_many_requests',
        ownAnswer(429, 'Too Many Requests', 'Too Many Requests', [
          'Retry-After 1',
        ]),
      ),
      '',
      ...block(
        'location @bad_gateway',
        ownAnswer(502, 'Bad Gateway', 'Bad Gateway'),
      ),
      '',
      ...block(
        'location @gateway_timeout',
        ownAnswer(504, 'Gateway Timeout', 'Gateway Timeout'),
      ),
    ]),
  ];

  return [
    ...header,
    '',
    'worker_processes auto;',
    `pid ${prefix}.pid;`,
    `error_log ${prefix}.error.log warn;`,
    "# Started as root, the workers run as nginx's built-in default user (nobody).",
    '',
    ...block('events', ['worker_connections 1024;']),
    '',
    ...block('http', http),
    '',
  ].join('\n');
}
