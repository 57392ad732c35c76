// `npm run bench`: our built server against the "usual solution" (bench/reference-server.js)
// and the other baselines the blocks name, in rounds on this machine, then a markdown table.
//   tsx bench/run.ts [--runs N] [--quick] [--only BLOCK,...] [--out FILE]   (or BENCH_RUNS, BENCH_QUICK=1, BENCH_OUT)
// --runs: rounds (default 3), the columns in alternating order; --quick: one round, smaller
// workloads; --only: these blocks (fork, cluster, nginx, admission, kernel, cost); --out: also write the table into FILE between <!-- bench:start --> and
// <!-- bench:end -->. Exit code 1 only when a measurement itself failed, not for a missed target.
import * as fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, stopAll } from '../test/support/processes.js';
import { waitFor } from '../test/support/wait.js';
import {
  type Block,
  BLOCKS,
  type Context,
  type Figures,
  profileOf,
  type Side,
} from './blocks.js';
import {
  machineBlock,
  renderReport,
  writeBetweenMarkers,
  type Measured,
} from './report.js';

const started = performance.now();
const log = (line: string): void =>
  void process.stderr.write(
    `[bench +${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`,
  );

/** The options, or one line on stderr and exit 2. */
function readOptions(): {
  quick: boolean;
  runs: number;
  out?: string;
  blocks: Block[];
} {
  const { env } = process;
  try {
    const { values } = parseArgs({
      options: {
        runs: { type: 'string' },
        quick: { type: 'boolean' },
        only: { type: 'string' },
        out: { type: 'string' },
      },
    });
    const quick = values.quick ?? /^(1|true|yes)$/i.test(env.BENCH_QUICK ?? '');
    const runs = values.runs ?? env.BENCH_RUNS ?? (quick ? '1' : '3');
    if (!/^[1-9]\d*$/.test(runs))
      throw new Error(`--runs must be an integer >= 1, got "${runs}"`);
    const only = values.only?.split(',');
    const unknown = only?.filter((id) => !BLOCKS.some((b) => b.id === id));
    if (unknown?.length)
      throw new Error(
        `--only takes blocks among ${BLOCKS.map((b) => b.id).join(', ')}, got "${unknown.join(',')}"`,
      );
    const blocks = BLOCKS.filter((b) => !only || only.includes(b.id));
    return {
      quick,
      runs: Number(runs),
      out: values.out ?? env.BENCH_OUT,
      blocks,
    };
  } catch (error) {
    console.error(
      `error: ${(error as Error).message} (usage: [--runs N] [--quick] [--only BLOCK,...] [--out FILE])`,
    );
    process.exit(2);
  }
}

/**
 * dist/ copied into a temp folder beside package.json ("type": "module"),
 * node_modules and views, so that a build running meanwhile (it empties dist/
 * first) cannot change the code under the run.
 */
function snapshotBuild(): Promise<string> {
  const dist = join(ROOT, 'dist');
  const stamp = (): string =>
    fs
      .readdirSync(dist, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map(
        (e) =>
          `${join(e.parentPath, e.name)}:${fs.statSync(join(e.parentPath, e.name)).mtimeMs}`,
      )
      .join('\n');
  const copy = (): string | false => {
    const before =
      ['main.js', 'randoms/count.wasm'].every((f) =>
        fs.existsSync(join(dist, f)),
      ) && stamp();
    if (!before) return false;
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'bench-build-'));
    process.once('exit', () =>
      fs.rmSync(dir, { recursive: true, force: true }),
    );
    fs.cpSync(dist, join(dir, 'dist'), { recursive: true });
    if (stamp() !== before) return false; // a build ran meanwhile
    fs.copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    for (const name of ['node_modules', 'views'])
      fs.symlinkSync(join(ROOT, name), join(dir, name));
    return join(dir, 'dist', 'main.js');
  };
  return waitFor(copy, {
    timeoutMs: 60_000,
    intervalMs: 1_000,
    what: 'a complete build in dist/ (`npm run build`)',
  });
}

/** Every block, its columns in turn (ours first in even rounds); a failure is noted, not fatal. */
async function round(
  index: number,
  blocks: Block[],
  ctx: Omit<Context, 'side' | 'earlier' | 'log' | 'note'>,
): Promise<Map<string, Measured>> {
  const results = new Map<string, Measured>();
  const earlier = {
    ours: new Map<string, Figures>(),
    base: new Map<string, Figures>(),
  };
  const order: Side[] = index % 2 ? ['base', 'ours'] : ['ours', 'base'];
  for (const block of blocks) {
    const measured: Measured = { notes: [] };
    for (const side of order) {
      const name = block.names[side === 'ours' ? 0 : 1];
      const say = (line: string): void => log(`${block.id} ${name}: ${line}`);
      try {
        say('measuring');
        const figures = await block.measure({
          ...ctx,
          side,
          earlier: earlier[side],
          log: say,
          note: (line) => void measured.notes.push(`${name}: ${line}`),
        });
        measured[side] = figures;
        if (figures) earlier[side].set(block.id, figures);
      } catch (error) {
        say(`FAILED: ${(error as Error).stack ?? String(error)}`);
        measured.notes.push(
          `${name}: **${String((error as Error).message ?? error).split('\n')[0]}**`,
        );
        measured.failed = true;
      } finally {
        await stopAll(); // whatever the block left running
      }
    }
    results.set(block.id, measured);
  }
  return results;
}

async function main(): Promise<void> {
  const { quick, runs, out, blocks } = readOptions();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(
      signal,
      () =>
        void stopAll().finally(() =>
          process.exit(128 + os.constants.signals[signal]),
        ),
    );
  const ours = await snapshotBuild();
  const logFile = join(ours, '..', '..', 'servers.log');
  const logs = fs.openSync(logFile, 'a');
  log(
    `benchmarking the build copied to ${ours}; the servers log to ${logFile}`,
  );
  const loadBefore = os.loadavg();
  const rounds: Map<string, Measured>[] = [];
  for (let i = 0; i < runs; i++) {
    log(`round ${i + 1} of ${runs}, ${i % 2 ? 'baselines' : 'ours'} first`);
    rounds.push(
      await round(i, blocks, { profile: profileOf(quick), ours, logs }),
    );
  }
  const machine = machineBlock(
    quick,
    runs,
    (performance.now() - started) / 1000,
    loadBefore,
  );
  const report = renderReport(blocks, rounds, machine);
  process.stdout.write(`${report}\n`);
  if (out) writeBetweenMarkers(out, report);
  process.exitCode = rounds.some((r) => [...r.values()].some((b) => b.failed))
    ? 1
    : 0;
}

main()
  .catch((error: unknown) => {
    log(
      `bench failed: ${error instanceof Error ? error.stack : String(error)}`,
    );
    process.exitCode = 1;
  })
  .finally(() => stopAll());
