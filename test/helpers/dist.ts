/**
 * dist/ as the zx scripts use it (`import … from 'hashiship'` resolves there): built
 * afresh when src/ changed since the last build.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

/** The newest modification time below `dir` (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Run `npm run build` when dist/cli.js is older than any file of src/. */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(join(root, 'dist/cli.js')).mtimeMs;
  } catch {
    /* not built yet */
  }
  if (built >= newest(join(root, 'src'))) return;
  const b = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stdout}${b.stderr}`);
}
