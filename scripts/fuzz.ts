/**
 * `npm run fuzz [runs] [seed]`: the property test at length (default 20,000
 * cases) against the real Nomad parser, brought up with the local stack.
 * Exit 1 on any mismatch, printing the first cases to reproduce.
 */
import { nomadBinary } from '../test/helpers/spec-nomad.js';
import { describeFailures, runProperty } from '../test/helpers/spec-property.js';
import { releaseStack, useStack } from '../test/helpers/stack.js';

const runs = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const stack = await useStack();
try {
  process.stdout.write(`fuzz: ${runs} cases, seed ${seed}\n`);
  const r = await runProperty({
    nomad: stack.clients.nomad.client,
    nomadBinary: nomadBinary(stack.env),
    runs,
    seed,
    progress: (n) => process.stdout.write(`  ${n} done\n`),
  });
  process.stdout.write(
    `fuzz: ${r.runs} cases in ${r.seconds.toFixed(1)} s (seed ${r.seed}): ${r.failures.length} mismatches, ${r.unformatted.length} files nomad fmt would change\n`,
  );
  if (r.failures.length > 0) process.stdout.write(`${describeFailures(r, 5)}\n`);
  if (r.unformatted.length > 0) process.stdout.write(`${r.unformatted.slice(0, 10).join('\n')}\n`);
  process.exitCode = r.failures.length === 0 && r.unformatted.length === 0 ? 0 : 1;
} finally {
  await releaseStack();
}
