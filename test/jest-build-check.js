// globalSetup of the suites that run the build (e2e: the pool's threads; process, chaos:
// the whole server): a src/ file newer than its dist/ counterpart would test old code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

function staleSource() {
  const src = join(ROOT, 'src');
  for (const entry of readdirSync(src, {
    recursive: true,
    withFileTypes: true,
  })) {
    if (!entry.isFile() || !/(?<!\.spec|\.d)\.ts$|\.wasm$/.test(entry.name))
      continue;
    const source = join(entry.parentPath, entry.name);
    const built = join(
      ROOT,
      'dist',
      relative(src, source).replace(/\.ts$/, '.js'),
    );
    if (
      !existsSync(built) ||
      statSync(built).mtimeMs < statSync(source).mtimeMs
    )
      return relative(ROOT, source);
  }
  return undefined;
}

export default function checkBuild() {
  const stale = staleSource();
  if (stale === undefined) return;
  process.stderr.write(
    `\ndist/ is older than ${stale}: run \`npm run build\` first (\`npm test\` builds by itself)\n`,
  );
  process.exit(1);
}
