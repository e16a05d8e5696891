/**
 * `npm run bench [name…]`: run every registered benchmark (or those named) and
 * print their figures with ratios against the peers.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatFigure, type Benchmark } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();

let failed = false;
for (const file of files) {
  const mod = (await import(join(here, file))) as { default: Benchmark };
  const b = mod.default;
  if (wanted.length > 0 && !wanted.includes(b.name)) continue;
  process.stdout.write(`# ${b.name}\n`);
  try {
    for (const f of await b.run()) process.stdout.write(`  ${formatFigure(f)}\n`);
  } catch (err) {
    failed = true;
    process.stdout.write(`  failed: ${(err as Error).message}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
