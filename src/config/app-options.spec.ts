import { describe, expect, it } from '@jest/globals';
import { availableParallelism } from 'node:os';
import {
  DEFAULT_GRACE_MS,
  parseAppOptions,
  UsageError,
} from './app-options.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  parseAppOptions(argv, env);

describe('parseAppOptions', () => {
  it('defaults to FORK on 8080 with one worker per processor', () => {
    expect(parse([])).toMatchObject({
      args: [],
      port: 8080,
      mode: 'FORK',
      workers: availableParallelism(),
      help: false,
      maxCant: 1_000_000_000,
      graceMs: DEFAULT_GRACE_MS,
      maxQueueMs: 3000,
      maxPendingJobs: 1024,
    });
  });

  it.each([
    [['--port', '9000'], 9000],
    [['--port=9001'], 9001],
    [['-p', '9002'], 9002],
    [['-p=9003'], 9003],
  ])('reads the port from %j', (argv, port) => {
    expect(parse(argv).port).toBe(port);
  });

  it('takes PORT from the environment when no flag is given, and the flag over it', () => {
    expect(parse([], { PORT: '7000' }).port).toBe(7000);
    expect(parse(['--port', '7001'], { PORT: '7000' }).port).toBe(7001);
  });

  it.each(['fork', 'FORK', 'Fork', 'cluster', 'CLUSTER', 'cLuStEr'])(
    'accepts --mode=%s in any case',
    (mode) => {
      expect(parse([`--mode=${mode}`]).mode).toBe(mode.toUpperCase());
    },
  );

  it('reads --workers and keeps the raw arguments', () => {
    const options = parse(['--mode', 'CLUSTER', '--workers', '3']);
    expect(options.workers).toBe(3);
    expect(options.args).toEqual(['--mode', 'CLUSTER', '--workers', '3']);
  });

  it('binds every interface unless --host names an IPv4 or IPv6 address', () => {
    expect(parse([]).host).toBeUndefined();
    expect(parse(['--host', '10.0.0.5']).host).toBe('10.0.0.5');
    expect(parse(['--host=::1']).host).toBe('::1');
  });

  it('trusts loopback proxies by default, else the addresses and CIDRs of TRUST_PROXY', () => {
    expect(parse([]).trustProxy).toEqual(['loopback']);
    expect(
      parse([], { TRUST_PROXY: '10.213.0.1, 10.0.0.0/8,fd00::/8,loopback' })
        .trustProxy,
    ).toEqual(['10.213.0.1', '10.0.0.0/8', 'fd00::/8', 'loopback']);
  });

  it.each(['nginx', '10.0.0.1/33', '10.0.0/8', '::1/129', '10.0.0.1/8/8', ','])(
    'rejects TRUST_PROXY=%j, naming it',
    (value) => {
      expect(() => parse([], { TRUST_PROXY: value })).toThrow(
        /^TRUST_PROXY takes comma-separated addresses or CIDRs/,
      );
    },
  );

  it('reads LOG_LEVEL, LOG_FORMAT and METRICS, in any case, and rejects anything else', () => {
    expect(parse([])).toMatchObject({
      logLevel: 'info',
      logFormat: undefined,
      metrics: true,
    });
    expect(
      parse([], { LOG_LEVEL: 'Debug', LOG_FORMAT: 'JSON', METRICS: 'off' }),
    ).toMatchObject({ logLevel: 'debug', logFormat: 'json', metrics: false });
    expect(() => parse([], { LOG_LEVEL: 'loud' })).toThrow(
      /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"$/,
    );
    expect(() => parse([], { LOG_FORMAT: 'xml' })).toThrow(
      /^LOG_FORMAT must be one of json, pretty/,
    );
    expect(() => parse([], { METRICS: 'yes' })).toThrow(
      /^METRICS must be one of on, off/,
    );
  });

  it('sees --help', () => {
    expect(parse(['--help']).help).toBe(true);
  });

  it.each([
    [['--port', '0'], /^--port must be an integer from 1 to 65535, got "0"$/],
    [['--port', '65536'], /^--port must be an integer from 1 to 65535/],
    [['--port', 'abc'], /^--port must be an integer/],
    [['--port', '80.5'], /^--port must be an integer/],
    [['--port'], /^--port must be an integer/],
    [['-p', '1e3'], /^--port must be an integer/],
    [['--port', '1', '--port', '2'], /^--port was given more than once/],
    [
      ['--mode', 'THREADS'],
      /^--mode must be FORK or CLUSTER \(any case\), got "THREADS"$/,
    ],
    [['--mode'], /^--mode must be FORK or CLUSTER/],
    [
      ['--workers', '0'],
      /^--workers must be an integer from 1 to 1024, got "0"$/,
    ],
    [['--workers', '-1'], /^unknown option -1/],
    [['--workers', 'two'], /^--workers must be an integer/],
    [
      ['--verbose'],
      /^unknown option --verbose; allowed: --port\/-p, --mode, --workers, --host, --help$/,
    ],
    [
      ['--host', 'localhost'],
      /^--host must be an IPv4 or IPv6 address, got "localhost"$/,
    ],
    [['--host', '300.1.1.1'], /^--host must be an IPv4 or IPv6 address/],
    [['--host'], /^--host must be an IPv4 or IPv6 address, got ""$/],
    [['8080'], /^unexpected argument "8080"/],
  ])('rejects %j with one line naming the flag', (argv, message) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(message);
  });

  it('rejects a bad PORT from the environment, naming it', () => {
    expect(() => parse([], { PORT: 'http' })).toThrow(
      /^PORT must be an integer/,
    );
  });

  it('reads the tuning variables and rejects bad ones', () => {
    const options = parse([], {
      RANDOMS_MAX_CANT: '5000',
      RANDOMS_THREADS: '3',
      RANDOMS_MAX_QUEUE_MS: '1500',
      RANDOMS_MAX_PENDING: '7',
      SHUTDOWN_GRACE_MS: '250',
    });
    expect(options).toMatchObject({
      maxCant: 5000,
      poolThreads: 3,
      maxQueueMs: 1500,
      maxPendingJobs: 7,
      graceMs: 250,
    });
    expect(() => parse([], { RANDOMS_THREADS: '0' })).toThrow(
      /^RANDOMS_THREADS must be/,
    );
    expect(() => parse([], { RANDOMS_MAX_QUEUE_MS: '3s' })).toThrow(
      /^RANDOMS_MAX_QUEUE_MS must be an integer from 1 to 3600000, got "3s"$/,
    );
  });

  it('gives every serving process a pool of one thread per processor', () => {
    expect(parse([]).poolThreads).toBe(availableParallelism());
    expect(parse(['--mode=CLUSTER', '--workers=8']).poolThreads).toBe(
      availableParallelism(),
    );
  });
});
