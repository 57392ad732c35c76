// `npm run bench`: our built server against the "usual solution" (bench/reference-server.js)
// and the other baselines the blocks name, in rounds on this machine, then a markdown table.
//   tsx bench/run.ts [--runs N] [--quick] [--only BLOCK,...] [--out FILE]
// --runs: rounds (default 3, 1 with --quick), each column first in turn; --quick: smaller
// workloads; --only: these blocks; --out: also write the table into FILE between its markers.
// Exit code 2 for a bad option, 1 when a measurement failed (not for a missed target).
import * as fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MAIN, ROOT, stopAll } from '../test/support/processes.js';
import { BLOCKS, type Side } from './blocks.js';
import { machineBlock, renderReport, writeBetweenMarkers } from './report.js';
import type { Round } from './report.js';

const log = (line: string): void => {
  const s = (performance.now() / 1000).toFixed(1).padStart(5);
  process.stderr.write(`[bench +${s}s] ${line}\n`);
};

/** The options, or one line on stderr and exit 2. */
function options(): {
  runs: number;
  quick: boolean;
  only: string[];
  out?: string;
} {
  const ids = BLOCKS.map((b) => b.id);
  try {
    const { values } = parseArgs({
      options: {
        runs: { type: 'string' },
        quick: { type: 'boolean', default: false },
        only: { type: 'string', default: ids.join(',') },
        out: { type: 'string' },
      },
    });
    const { runs = values.quick ? '1' : '3', only } = values;
    if (!/^[1-9]\d*$/.test(runs))
      throw new Error(`--runs must be an integer >= 1, got "${runs}"`);
    const unknown = only.split(',').filter((id) => !ids.includes(id));
    if (unknown.length)
      throw new Error(
        `--only takes blocks among ${ids.join(', ')}, got "${unknown.join(',')}"`,
      );
    return { ...values, runs: Number(runs), only: only.split(',') };
  } catch (error) {
    const usage = '[--runs N] [--quick] [--only BLOCK,...] [--out FILE]';
    console.error(`error: ${(error as Error).message} (usage: ${usage})`);
    process.exit(2);
  }
}

/**
 * dist/ copied into a temp folder beside package.json ("type": "module"), node_modules and
 * views, so that a build started meanwhile (it empties dist/ first) cannot change the code
 * under the run. Removed at exit.
 */
function copyOfBuild(): string {
  if (![MAIN, join(ROOT, 'dist/randoms/count.wasm')].every(fs.existsSync))
    throw new Error(
      'no complete build in dist/: run `npm run build` (`npm run bench` does)',
    );
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'bench-build-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  for (const name of ['node_modules', 'views'])
    fs.symlinkSync(join(ROOT, name), join(dir, name));
  return join(dir, 'dist', 'main.js');
}

async function main(): Promise<void> {
  const { runs, quick, only, out } = options();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => {
      const code = 128 + os.constants.signals[signal];
      void stopAll().finally(() => process.exit(code));
    });
  const [ours, loadBefore] = [copyOfBuild(), os.loadavg()];
  const reference = join(ROOT, 'bench', 'reference-server.js');
  const logFile = join(ours, '..', '..', 'servers.log');
  const logs = fs.openSync(logFile, 'a');
  log(
    `benchmarking the build copied to ${ours}; the servers log to ${logFile}`,
  );
  const blocks = BLOCKS.filter((b) => only.includes(b.id));
  const rounds: Round[] = [];
  for (let i = 1; i <= runs; i++) {
    log(`round ${i} of ${runs}, ${i % 2 ? 'ours' : 'baselines'} first`);
    const round: Round = { ours: {}, base: {}, notes: {} };
    const sides: Side[] = i % 2 ? ['ours', 'base'] : ['base', 'ours'];
    for (const block of blocks)
      for (const side of sides) {
        const name = block.names[side === 'ours' ? 0 : 1];
        const note = (line: string): void =>
          void (round.notes[block.id] ??= []).push(
            `round ${i}, ${name}: ${line}`,
          );
        const main = side === 'base' && !block.baseline ? reference : ours;
        try {
          log(`${block.id} ${name}: measuring`);
          const context = {
            side,
            quick,
            main,
            logs,
            column: round[side],
            note,
          };
          Object.assign(round[side], await block.measure(context));
        } catch (error) {
          log(
            `${block.id} ${name}: FAILED: ${(error as Error).stack ?? String(error)}`,
          );
          note(
            `**${String((error as Error).message ?? error).split('\n')[0]}**`,
          );
          process.exitCode = 1;
        } finally {
          await stopAll(); // whatever the block started
        }
      }
    rounds.push(round);
  }
  const setting = `${quick ? 'quick (smoke run, smaller workloads)' : 'full'}, ${runs} round(s), ours/baseline alternating`;
  const report = renderReport(
    blocks,
    rounds,
    machineBlock(setting, loadBefore),
  );
  process.stdout.write(`${report}\n`);
  if (out) writeBetweenMarkers(out, report);
}

main()
  .catch((error: unknown) => {
    log(
      `bench failed: ${error instanceof Error ? error.stack : String(error)}`,
    );
    process.exitCode = 1;
  })
  .finally(() => stopAll());
