// npm run lab:up -- [--hosts=N] [--workers=N]   (NGINX_PORT, default 80)
// npm run lab:status
// npm run lab:down
// The lab of scripts/lab/lab.ts on 10.213.0.0/24. Root only; a mistake is one line and exit 2.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Lab } from './lab.js';

const ROOT = join(import.meta.dirname, '..', '..');
const USAGE =
  'usage: npm run lab:up -- [--hosts=N] [--workers=N] | npm run lab:status | npm run lab:down';

function fail(message: string): never {
  process.stderr.write(`lab: ${message}\n`);
  process.exit(2);
}

function count(
  value: string | undefined,
  flag: string,
  fallback: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
    fail(
      `${flag} must be an integer from 1 to ${max}, got "${value}" (${USAGE})`,
    );
  return Number(value);
}

const [command, ...rest] = process.argv.slice(2);
let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    args: rest,
    options: { hosts: { type: 'string' }, workers: { type: 'string' } },
  }));
} catch (error) {
  fail(`${(error as Error).message.split('\n')[0]} (${USAGE})`);
}
if (!['up', 'status', 'down'].includes(command ?? '')) fail(USAGE);
if (process.getuid?.() !== 0)
  fail(
    'needs root: it creates network namespaces, a bridge and veth links (run it as root)',
  );
const nginxPort = count(process.env.NGINX_PORT, 'NGINX_PORT', 80, 65535);

const lab = new Lab({
  prefix: 'lbs',
  net: '10.213.0',
  dir: '/tmp/lbs-lab',
  nginxPort,
  main: join(ROOT, 'dist', 'main.js'),
  workers:
    values.workers === undefined
      ? undefined
      : count(values.workers as string, '--workers', 2, 64),
});

if (command === 'down') {
  lab.down();
  console.log('lab: down (namespaces, bridge, processes and nginx removed)');
} else if (command === 'status') {
  console.log(await lab.status());
} else {
  const hosts = count(values.hosts as string | undefined, '--hosts', 3, 80);
  try {
    await lab.up(hosts);
  } catch (error) {
    lab.down();
    fail(
      `could not bring the lab up: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  console.log(await lab.status());
  console.log(
    `\ntry: curl -si http://127.0.0.1:${nginxPort}/api/randoms?cant=1000 | grep -i x-served-by\n` +
      'then: npm run lab:status, and npm run lab:down to remove everything',
  );
}
