// Assembles src/randoms/count.wat into src/randoms/count.wasm, which `nest build` and
// `nest start` copy into dist/ (nest-cli.json's assets). `npm run build` runs it first; the
// binary is committed, so that `nest start` works on a fresh clone too, and a test checks it
// is exactly what this assembles. The assembler is the `wabt` npm package, pinned.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import initWabt from 'wabt';

const ROOT = join(import.meta.dirname, '..');
const SOURCE = join(ROOT, 'src', 'randoms', 'count.wat');
export const COUNT_WASM = join(ROOT, 'src', 'randoms', 'count.wasm');

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
  writeFileSync(COUNT_WASM, await assembleCountWasm());
}
