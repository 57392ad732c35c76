// The markdown report: per row the medians, the median of the ratios taken within each
// round, the spreads and the verdict; then the notes by block and row id, and the machine.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { NGINX } from '../test/support/nginx.js';
import { quantile, type Block, type Figures, type Row } from './blocks.js';

/** Every block's figures of one round, by column and block id, and what the blocks noted. */
export interface Round {
  ours: Record<string, Figures>;
  base: Record<string, Figures>;
  notes: Record<string, string[]>;
}

const HOLDS: Record<string, (value: number, limit: number) => boolean> = {
  '≥': (value, limit) => value >= limit,
  '≤': (value, limit) => value <= limit,
  '<': (value, limit) => value < limit,
};

function format(value: number, unit: string): string {
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
  const range = new Set([Math.min(...kept), Math.max(...kept)]);
  const spread = [...range].map((v) => format(v, unit)).join('–');
  return [format(quantile(kept, 0.5), unit), spread];
}

/** The table line of `row`, and whether it missed its target. */
function line(row: Row, block: Block, rounds: Round[]): [string, boolean] {
  const read = (r: Round, side: 'ours' | 'base'): number => {
    const figures = r[side][block.id];
    return (figures && row.value(figures, r[side])) ?? NaN;
  };
  const [ours, base] = [
    rounds.map((r) => read(r, 'ours')),
    rounds.map((r) => read(r, 'base')),
  ];
  // Ratios are taken within a round, then their median: the machine is shared and noisy.
  const ratios = rounds.map((r, i) => {
    if (typeof row.ratio !== 'function')
      return row.ratio ? base[i] / ours[i] : ours[i] / base[i];
    const [mine, theirs] = [r.ours[block.id], r.base[block.id]];
    return mine && theirs ? row.ratio(mine, theirs) : NaN;
  });
  const [x, y] = block.names;
  const [a, b] = row.ratio === 'base/ours' ? [y, x] : [x, y];
  let [target, result] = [`report (${a} ÷ ${b})`, 'report'];
  if (row.target) {
    const [op, limit] = row.target.split(' ');
    const onRatio = limit.endsWith('×');
    const judged = quantile(onRatio ? ratios : ours, 0.5);
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
  const spread = `${os} · ${bs} · ${rs}`;
  const cells = [row.id, row.label, om, bm, rm, target, result, spread];
  return [`| ${cells.join(' | ')} |`, result === '**FAIL**'];
}

export function renderReport(
  blocks: Block[],
  rounds: Round[],
  machine: string[],
): string {
  const [lines, missed, notes]: string[][] = [[], [], []];
  for (const block of blocks) {
    for (const row of block.rows) {
      const [text, failed] = line(row, block, rounds);
      lines.push(text);
      if (failed) missed.push(`\`${row.id}\``);
    }
    const said = rounds.flatMap((r) => r.notes[block.id] ?? []);
    const ids = block.rows.map((r) => `\`${r.id}\``).join(', ');
    if (said.length)
      notes.push(`- \`${block.id}\` (${ids}): ${said.join('; ')}.`);
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
    ...machine,
  ].join('\n');
}

/** What ran where: the fenced block under the table. */
export function machineBlock(
  setting: string,
  seconds: number,
  loadBefore: number[],
): string[] {
  const args = process.argv.slice(2).join(' ');
  const nginx = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  const cpus = os.cpus();
  const loads = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  const version = nginx.stderr?.trim().replace(/^nginx version:\s*/, '');
  return [
    '```text',
    `date:      ${new Date().toISOString()}`,
    `command:   ${process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args && ` -- ${args}`}` : `tsx bench/run.ts ${args}`.trim()}`,
    `profile:   ${setting}`,
    `duration:  ${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`,
    `cpu:       ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores (availableParallelism ${os.availableParallelism()})`,
    `memory:    ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB total`,
    `node:      ${process.version}`,
    `kernel:    ${os.type()} ${os.release()}`,
    `nginx:     ${nginx.error ? 'not installed' : version}`,
    `load avg:  ${loads(loadBefore)} before, ${loads(os.loadavg())} after (1/5/15 min)`,
    '```',
  ];
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
