// Assembles src/randoms/count.wat into dist/randoms/count.wasm. `npm run build` runs it after
// `nest build` (which empties dist/). The assembler is the `wabt` npm package, pinned.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import initWabt from 'wabt';

const ROOT = join(import.meta.dirname, '..');
const SOURCE = join(ROOT, 'src', 'randoms', 'count.wat');
const TARGET = join(ROOT, 'dist', 'randoms', 'count.wasm');

/** The binary of count.wat: what the build writes, and what the kernel's spec loads. */
export async function assembleCountWasm(): Promise<Uint8Array> {
  const wabt = await initWabt();
  const module = wabt.parseWat('count.wat', readFileSync(SOURCE, 'utf8'));
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === import.meta.filename) {
  const bytes = await assembleCountWasm();
  mkdirSync(dirname(TARGET), { recursive: true });
  writeFileSync(TARGET, bytes);
}
