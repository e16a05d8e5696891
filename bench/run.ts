/**
 * `npm run bench [name…] [-- --short]`: run every registered benchmark (or those
 * named) and print their figures with ratios against the peers. `--short` (or
 * `BENCH_SHORT=1`) runs each on small inputs, as CI does.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args.includes('--short')) process.env['BENCH_SHORT'] = '1';
const flags = args.filter((a) => a.startsWith('-') && a !== '--short');
if (flags.length > 0) {
  process.stderr.write(`bench: unknown option ${flags.join(', ')} (expected benchmark names and --short)\n`);
  process.exit(1);
}
const wanted = args.filter((a) => !a.startsWith('-'));
// The harness reads BENCH_SHORT when it is first imported: import it after setting it.
const { formatFigure, short } = await import('./harness.js');
type Benchmark = import('./harness.js').Benchmark;

const here = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const benches: Benchmark[] = [];
for (const file of files) benches.push(((await import(join(here, file))) as { default: Benchmark }).default);
const unknown = wanted.filter((w) => !benches.some((b) => b.name === w));
if (unknown.length > 0) {
  process.stderr.write(`bench: no benchmark named ${unknown.join(', ')} (known: ${benches.map((b) => b.name).join(', ')})\n`);
  process.exit(1);
}

let failed = false;
for (const b of benches) {
  if (wanted.length > 0 && !wanted.includes(b.name)) continue;
  process.stdout.write(`# ${b.name}${short ? ' (short)' : ''}\n`);
  const t0 = performance.now();
  try {
    for (const f of await b.run()) process.stdout.write(`  ${formatFigure(f)}\n`);
    process.stdout.write(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  } catch (err) {
    failed = true;
    process.stdout.write(`  failed: ${(err as Error).message}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
