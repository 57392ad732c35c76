// npm run -s nginx:hosts -- --listen=PORT --randoms=H:P[,H:P...] --rest=H:P[,H:P...]
//                          [--name=NAME] [--out=FILE]
// Prints (or writes) a complete nginx.conf balancing the given hosts. A mistake is one line
// on stderr and exit code 2.
import { writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { renderSite, type Site } from './config.js';
import { hostsSite } from './sites.js';

const USAGE =
  'usage: npm run -s nginx:hosts -- --listen=PORT --randoms=H:P[,H:P...] --rest=H:P[,H:P...] [--name=NAME] [--out=FILE]';

class UsageError extends Error {}

const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function port(text: string, what: string): string {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535)
    throw new UsageError(`${what} needs a port from 1 to 65535, got "${text}"`);
  return String(Number(text));
}

/** `10.0.0.1:8081`, `[fd00::1]:8081` or `app1.lan:8081`, as nginx writes it. */
function peer(text: string, flag: string): string {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):([^:]+)$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const ok =
    host !== undefined &&
    (match?.[1] !== undefined
      ? isIP(host) === 6
      : isIP(host) === 4 || HOSTNAME.test(host));
  if (!ok || !match)
    throw new UsageError(
      `${flag} takes HOST:PORT entries (IPv6 as [ADDR]:PORT), got "${text}"`,
    );
  return `${match[1] !== undefined ? `[${host}]` : host}:${port(match[3], `${flag} "${text}"`)}`;
}

function peers(value: string | undefined, flag: string): string[] {
  if (!value)
    throw new UsageError(
      `${flag} is required: one or more HOST:PORT, comma-separated`,
    );
  return value.split(',').map((entry) => peer(entry.trim(), flag));
}

function listen(value: string | undefined): string {
  if (!value)
    throw new UsageError('--listen is required: PORT or ADDRESS:PORT');
  return /^\d+$/.test(value)
    ? port(value, '--listen')
    : peer(value, '--listen');
}

type Parsed = { help: true } | { help: false; out?: string; site: Site };

function options(argv: string[]): Parsed {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        listen: { type: 'string' },
        randoms: { type: 'string' },
        rest: { type: 'string' },
        name: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  if (values.help) return { help: true };
  const name = values.name ?? 'randoms-to-hosts';
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/i.test(name))
    throw new UsageError(
      `--name takes letters, digits and dashes (it names files), got "${name}"`,
    );
  return {
    help: false,
    out: values.out,
    site: hostsSite({
      name,
      listen: listen(values.listen),
      randoms: peers(values.randoms, '--randoms'),
      rest: peers(values.rest, '--rest'),
    }),
  };
}

try {
  const parsed = options(process.argv.slice(2));
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
  } else if (parsed.out) {
    writeFileSync(parsed.out, renderSite(parsed.site));
  } else {
    process.stdout.write(renderSite(parsed.site));
  }
} catch (error) {
  const message =
    error instanceof UsageError
      ? `${error.message} (${USAGE.replace('usage: ', 'see: ')})`
      : `cannot write the config: ${(error as Error).message}`;
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}
