// The markdown report: per row the medians, the median of the ratios taken within each
// round, the spreads and the verdict; then the notes, by row id, and the machine.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { NGINX } from '../test/support/nginx.js';
import { quantile, type Block, type Row } from './blocks.js';

/** One block's figures in one round: a set per column, and its notes. */
export interface Measured {
  ours?: Record<string, number | undefined>;
  base?: Record<string, number | undefined>;
  notes: string[];
  failed?: boolean;
}

const HOLDS: Record<string, (value: number, limit: number) => boolean> = {
  '≥': (value, limit) => value >= limit,
  '≤': (value, limit) => value <= limit,
  '<': (value, limit) => value < limit,
};

function format(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '–';
  if (unit === '×') return `${value.toFixed(2)}×`;
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const text = value.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
  return unit ? `${text} ${unit}` : text;
}

/** The median and the spread min–max of the finite values. */
function summary(values: number[], unit: string): [string, string] {
  const kept = values.filter(Number.isFinite);
  if (kept.length === 0) return ['–', '–'];
  const range = [...new Set([Math.min(...kept), Math.max(...kept)])];
  return [
    format(quantile(kept, 0.5), unit),
    range.map((v) => format(v, unit)).join('–'),
  ];
}

/** The table line of `row`, and whether it missed its target. */
function renderRow(
  row: Row,
  [x, y]: string[],
  rounds: Measured[],
): [string, boolean] {
  const read = (f?: Record<string, number | undefined>): number =>
    f ? (row.value(f) ?? NaN) : NaN;
  const ours = rounds.map((r) => read(r.ours));
  const base = rounds.map((r) => read(r.base));
  // Ratios are taken within a round, then their median: the machine is shared and noisy.
  const ratios = ours.map((o, i) => (row.ratio ? base[i] / o : o / base[i]));
  const [a, b] = row.ratio ? [y, x] : [x, y];
  let [target, result] = [`report (${a} ÷ ${b})`, 'report'];
  if (row.target) {
    const [op, limit] = row.target.split(' ');
    const onRatio = limit.endsWith('×');
    const judged = quantile(
      (onRatio ? ratios : ours).filter(Number.isFinite),
      0.5,
    );
    target = onRatio
      ? `${a} ÷ ${b} ${row.target}`
      : `${x} ${op} ${format(parseFloat(limit), row.unit)}`;
    result = Number.isNaN(judged)
      ? 'n/a'
      : HOLDS[op](judged, parseFloat(limit))
        ? 'PASS'
        : '**FAIL**';
  }
  const [[om, os], [bm, bs], [rm, rs]] = [
    summary(ours, row.unit),
    summary(base, row.unit),
    summary(ratios, '×'),
  ];
  return [
    `| ${row.id} | ${row.label} | ${om} | ${bm} | ${rm} | ${target} | ${result} | ${os} · ${bs} · ${rs} |`,
    result === '**FAIL**',
  ];
}

export function renderReport(
  blocks: Block[],
  rounds: Map<string, Measured>[],
  machine: string,
): string {
  const [lines, notes, missed] = [
    [] as string[],
    [] as string[],
    [] as string[],
  ];
  for (const block of blocks) {
    const results = rounds.map((round) => round.get(block.id) ?? { notes: [] });
    for (const row of block.rows) {
      const [line, failed] = renderRow(row, block.names, results);
      lines.push(line);
      if (failed) missed.push(`\`${row.id}\``);
    }
    const said = results.flatMap((r, i) =>
      r.notes.map((note) => `round ${i + 1}, ${note}`),
    );
    if (said.length)
      notes.push(
        `- \`${block.id}\` (${block.rows.map((r) => `\`${r.id}\``).join(', ')}): ${said.join('; ')}.`,
      );
  }
  const others = blocks
    .filter((b) => b.baseline)
    .map(
      (b) => `${b.rows.map((r) => `\`${r.id}\``).join(', ')}: ${b.baseline}`,
    );
  return [
    `Baseline: \`bench/reference-server.js\` (Express, one \`child_process.fork\` per \`/api/randoms\`), same mode, same round — except ${others.join('; ')}.`,
    '',
    '| row | measure | ours (median) | baseline (median) | ratio, same round (median) | target | result | spread: ours · baseline · ratio (min–max) |',
    '|---|---|---|---|---|---|---|---|',
    ...lines,
    '',
    missed.length
      ? `- **Targets missed: ${missed.join(', ')}.**`
      : '- All targets met.',
    ...notes,
    '',
    machine,
  ].join('\n');
}

export function machineBlock(
  quick: boolean,
  runs: number,
  seconds: number,
  loadBefore: number[],
): string {
  const args = process.argv.slice(2).join(' ');
  const nginx = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  const cpus = os.cpus();
  const loads = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  return [
    '```text',
    `date:      ${new Date().toISOString()}`,
    `command:   ${process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args && ` -- ${args}`}` : `tsx bench/run.ts ${args}`.trim()}`,
    `profile:   ${quick ? 'quick (smoke run, smaller workloads)' : 'full'}, ${runs} round(s), ours/baseline alternating`,
    `duration:  ${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`,
    `cpu:       ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores (availableParallelism ${os.availableParallelism()})`,
    `memory:    ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB total`,
    `node:      ${process.version}`,
    `kernel:    ${os.type()} ${os.release()}`,
    `nginx:     ${nginx.error ? 'not installed' : nginx.stderr.trim().replace(/^nginx version:\s*/, '')}`,
    `load avg:  ${loads(loadBefore)} before, ${loads(os.loadavg())} after (1/5/15 min)`,
    '```',
  ].join('\n');
}

/** Puts `content` between the markers in `file` (or appends them); prettier leaves it alone. */
export function writeBetweenMarkers(file: string, content: string): void {
  const [open, close] = ['<!-- bench:start -->', '<!-- bench:end -->'];
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${open}\n<!-- prettier-ignore-start -->\n${content}\n<!-- prettier-ignore-end -->\n${close}`;
  const [start, end] = [text.indexOf(open), text.indexOf(close)];
  writeFileSync(
    file,
    start !== -1 && end > start
      ? text.slice(0, start) + block + text.slice(end + close.length)
      : `${text.trimEnd()}\n\n${block}\n`,
  );
}
