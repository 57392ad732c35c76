// The markdown report: per row the medians, the median of the ratios taken within each
// round, the spreads and the verdict; then the notes by block and row id, and the machine.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { quantile } from '../test/support/load.js';
import { NGINX } from '../test/support/nginx.js';
import type { Block, Figures, Row } from './blocks.js';

/** One round: each column's figures by row id, and what each block noted. */
export interface Round {
  ours: Figures;
  base: Figures;
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
function line(row: Row, [x, y]: string[], rounds: Round[]): [string, boolean] {
  const ours = rounds.map((r) => r.ours[row.id] ?? NaN);
  const base = rounds.map((r) => r.base[row.id] ?? NaN);
  // Ratios are taken within a round, then their median: the machine is shared and noisy.
  const ratios = rounds.map((r, i) =>
    typeof row.ratio === 'function'
      ? row.ratio(r.ours, r.base)
      : row.ratio
        ? base[i] / ours[i]
        : ours[i] / base[i],
  );
  const [a, b] = row.ratio === 'base/ours' ? [y, x] : [x, y];
  let [target, result] = [`report (${a} ÷ ${b})`, 'report'];
  if (row.target) {
    const [op, limit] = row.target.split(' ');
    const onRatio = limit.endsWith('×');
    const judged = quantile(onRatio ? ratios : ours, 0.5);
    target = onRatio
      ? `${a} ÷ ${b} ${row.target}`
      : `${x} ${op} ${format(parseFloat(limit), row.unit)}`;
    if (Number.isNaN(judged)) result = 'n/a';
    else result = HOLDS[op](judged, parseFloat(limit)) ? 'PASS' : '**FAIL**';
  }
  const [[om, os], [bm, bs], [rm, rs]] = [
    summary(ours, row.unit),
    summary(base, row.unit),
    summary(ratios, '×'),
  ];
  const cells = [row.id, row.label, om, bm, rm, target, result];
  const failed = result === '**FAIL**';
  return [`| ${cells.join(' | ')} | ${os} · ${bs} · ${rs} |`, failed];
}

export function renderReport(
  blocks: Block[],
  rounds: Round[],
  machine: string[],
): string {
  const [lines, missed, notes]: string[][] = [[], [], []];
  const idsOf = (b: Block): string =>
    b.rows.map((r) => `\`${r.id}\``).join(', ');
  for (const block of blocks) {
    for (const row of block.rows) {
      const [text, failed] = line(row, block.names, rounds);
      lines.push(text);
      if (failed) missed.push(`\`${row.id}\``);
    }
    const said = rounds.flatMap((r) => r.notes[block.id] ?? []);
    if (said.length)
      notes.push(`- \`${block.id}\` (${idsOf(block)}): ${said.join('; ')}.`);
  }
  const others = blocks
    .filter((b) => b.baseline)
    .map((b) => `${idsOf(b)}: ${b.baseline}`);
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
export function machineBlock(setting: string, loadBefore: number[]): string[] {
  const args = process.argv.slice(2).join(' ');
  const byNpm = process.env.npm_lifecycle_event === 'bench';
  const nginx = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  const version = nginx.stderr?.trim().replace(/^nginx version:\s*/, '');
  const [cpus, seconds] = [os.cpus(), performance.now() / 1000];
  const loads = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  return [
    '```text',
    `date:      ${new Date().toISOString()}`,
    `command:   ${byNpm ? `npm run bench${args && ` -- ${args}`}` : `tsx bench/run.ts ${args}`.trim()}`,
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
