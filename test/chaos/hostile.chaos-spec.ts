import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
} from '@jest/globals';
import { recordFigures } from '../support/report.js';
import { get, getJson } from '../support/http.js';
import { startNginx } from '../support/nginx.js';
import {
  SINGLE_PORT,
  UPSTREAM_PORTS,
  waitForFreePorts,
} from '../support/ports.js';
import { rawGet, type RawResponse } from '../support/raw-http.js';
import {
  spawnServer,
  stopAll,
  type ServerProcess,
} from '../support/processes.js';

const CANARY = `chaos-canary-${process.pid}-${Date.now()}`;
const MARKUP = /<\s*(script|img|svg|iframe)|onerror|alert\(/i;

/** [request target, expected status]: sent byte for byte. */
const HOSTILE: [string, number][] = [
  ['/api/randoms?cant=%', 400],
  ['/api/randoms?cant=%zz', 400],
  ['/api/randoms?cant[]=1', 400],
  ['/api/randoms?cant[0]=1', 400],
  [`/api/randoms?cant=${'9'.repeat(5000)}`, 400],
  [`/api/randoms?cant=1${'0'.repeat(4999)}`, 400],
  ['/api/randoms?cant=NaN', 400],
  ['/api/randoms?cant=Infinity', 400],
  ['/api/randoms?cant=-Infinity', 400],
  ['/api/randoms?cant=0x10', 400],
  ['/api/randoms?cant=1e3', 400],
  ['/api/randoms?cant=1.0', 400],
  ['/api/randoms?cant=-1', 400],
  ['/api/randoms?cant=0', 400],
  ['/api/randoms?cant=%2B5', 400],
  ['/api/randoms?cant=5%00', 400],
  ['/api/randoms?cant=%D9%A1%D9%A2%D9%A3', 400], // ١٢٣, Arabic-Indic digits
  ['/api/randoms?cant=%EF%BC%91%EF%BC%92', 400], // １２, fullwidth digits
  ['/api/randoms?cant=1&cant=2', 400],
  ['/api/randoms?cant=5&cant=5', 400],
  ['/api/randoms?cant=5&__proto__=1', 400],
  ['/api/randoms?constructor=1', 400],
  ['/api/randoms?cant=%3Cscript%3Ealert(1)%3C/script%3E', 400],
  ['/api/randoms?cant=<script>alert(1)</script>', 400],
  ['/../../etc/passwd', 404],
  ['/..%2f..%2fetc%2fpasswd', 404],
  ['/%2e%2e/%2e%2e/etc/passwd', 404],
  ['/info/../../package.json', 404],
  ['/views/info.hbs', 404],
  ['/..%5c..%5cpackage.json', 404],
  ['/api/randoms/..%2f..%2f..%2fetc%2fpasswd', 404],
  ['/%00', 404],
  ['/%zz', 404],
  [`/${'a'.repeat(8 * 1024)}`, 404],
  [`/api/${'%2e%2e/'.repeat(1300)}`, 404],
  ['/info/<script>alert(1)</script>', 404],
  ['/info/%3Cscript%3Ealert(1)%3C%2Fscript%3E', 404],
  ['/<img%20src=x%20onerror=alert(1)>', 404],
  ['/info%3Csvg%20onload=alert(1)%3E', 404],
];

/** Pages that ignore their query: they answer, but must not reflect it. */
const REFLECTION: string[] = [
  '/info?<script>alert(1)</script>',
  '/info?name=%3Cscript%3Ealert(1)%3C%2Fscript%3E',
  '/api/info?x=<svg%20onload=alert(1)>',
  '/health?<img%20src=x%20onerror=alert(1)>',
];

function problemsWith(
  target: string,
  expected: number,
  res: RawResponse,
): string[] {
  const problems: string[] = [];
  const what = `${target.slice(0, 60)} → ${res.status}`;
  if (res.status !== expected) problems.push(`${what}: expected ${expected}`);
  if (!res.headers['content-type']?.startsWith('application/json'))
    problems.push(`${what}: content-type ${res.headers['content-type']}`);
  if (res.headers['x-content-type-options'] !== 'nosniff')
    problems.push(`${what}: no nosniff`);
  if (MARKUP.test(res.body)) problems.push(`${what}: reflects markup`);
  if (target.length > 3 && res.body.includes(target.slice(1)))
    problems.push(`${what}: echoes the target`);
  try {
    const body = JSON.parse(res.body) as Record<string, unknown>;
    if (
      Object.keys(body).sort().join() !== 'error,message,statusCode' ||
      body.statusCode !== res.status ||
      typeof body.error !== 'string'
    )
      problems.push(`${what}: not Nest's error shape: ${res.body}`);
  } catch {
    problems.push(`${what}: not JSON: ${res.body.slice(0, 80)}`);
  }
  return problems;
}

function securityProblems(what: string, headers: RawResponse['headers']) {
  const problems: string[] = [];
  if (headers['x-content-type-options'] !== 'nosniff')
    problems.push(`${what}: no X-Content-Type-Options: nosniff`);
  if (
    headers['x-frame-options'] !== 'DENY' &&
    !/frame-ancestors 'none'/.test(headers['content-security-policy'] ?? '')
  )
    problems.push(`${what}: framing allowed`);
  if (!headers['referrer-policy']) problems.push(`${what}: no Referrer-Policy`);
  if (headers['x-powered-by'] !== undefined)
    problems.push(`${what}: X-Powered-By ${headers['x-powered-by']}`);
  return problems;
}

describe('chaos, hostile input and headers (FORK server)', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await spawnServer(['--mode=FORK'], {
      env: { CHAOS_SECRET: CANARY, API_TOKEN: CANARY },
    });
  });
  afterAll(stopAll);

  it('malformed queries, path traversal, 8 KB paths and markup get a 4xx in Nest’s shape, reflect nothing, and the server lives on', async () => {
    const problems: string[] = [];
    for (const [target, expected] of HOSTILE) {
      const res = await rawGet(server.port, target);
      problems.push(...problemsWith(target, expected, res));
    }
    for (const target of REFLECTION) {
      const res = await rawGet(server.port, target);
      if (res.status >= 500) problems.push(`${target} → ${res.status}`);
      if (MARKUP.test(res.body)) problems.push(`${target}: reflects markup`);
    }
    const health = await getJson<{ status: string }>(server.port, '/api/info');
    const sent = HOSTILE.length + REFLECTION.length;
    recordFigures({
      item: 8,
      name: 'Hostile input: malformed cant, repeated keys, traversal, 8 KB paths, markup in paths and queries',
      sent,
      failed: problems.length,
      notes: `${HOSTILE.length} targets answered 400/404 as Nest's { statusCode, message, error } without echoing the path, ${REFLECTION.length} pages ignoring a scripted query; the same process answered afterwards`,
    });

    expect(problems).toEqual([]);
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ pid: server.pid });
  });

  it('security headers on every response, no X-Powered-By, nothing from the environment in /info', async () => {
    const targets = [
      '/info',
      '/api/info',
      '/health',
      '/api/randoms?cant=5',
      '/api/randoms?cant=x',
      '/no-such-route',
    ];
    const problems: string[] = [];
    for (const target of targets) {
      const res = await rawGet(server.port, target);
      problems.push(...securityProblems(target, res.headers));
      if (res.body.includes(CANARY))
        problems.push(`${target}: shows the environment`);
    }
    const info = await getJson<Record<string, unknown>>(
      server.port,
      '/api/info',
    );
    // The fields README.md documents for /api/info, and nothing else.
    expect(Object.keys(info.json).sort()).toEqual(
      [
        'arguments',
        'execPath',
        'memoryRss',
        'mode',
        'nodeVersion',
        'pid',
        'platform',
        'port',
        'processors',
        'projectFolder',
        'role',
      ].sort(),
    );
    recordFigures({
      item: 9,
      name: 'Headers and /info: security headers on every answer, no X-Powered-By, no environment in /info',
      sent: targets.length + 1,
      failed: problems.length,
      notes: 'app answers: 200, 400, 404',
    });
    expect(problems).toEqual([]);
  });
});

describe('chaos, headers through nginx', () => {
  afterEach(stopAll);

  it('server_tokens off and the security headers on nginx’s own answers too (proxied, /nginx-health, 502)', async () => {
    await waitForFreePorts([SINGLE_PORT, ...UPSTREAM_PORTS]);
    await spawnServer(['--mode=FORK'], { port: SINGLE_PORT });
    // The upstream instances are down on purpose: nginx answers /api/randoms itself.
    const nginx = await startNginx('randoms-to-upstream.conf');
    const targets = [
      '/info',
      '/api/info',
      '/no-such-route',
      '/nginx-health',
      '/api/randoms?cant=5',
    ];
    const problems: string[] = [];
    const statuses: number[] = [];
    for (const target of targets) {
      const res = await get(nginx.port, target);
      statuses.push(res.status);
      const headers = res.headers as Record<string, string>;
      if (headers.server !== 'nginx')
        problems.push(`${target}: Server: ${headers.server}`);
      problems.push(...securityProblems(`nginx ${target}`, headers));
    }
    recordFigures({
      item: 9,
      name: 'Headers through nginx (randoms-to-upstream.conf): server_tokens off, security headers on proxied and nginx-made answers',
      sent: targets.length,
      failed: problems.length,
      notes: `answers ${statuses.join(', ')} (502 = nginx's own, upstream down)`,
    });
    expect(statuses).toEqual([200, 200, 404, 200, 502]);
    expect(problems).toEqual([]);
  });
});
