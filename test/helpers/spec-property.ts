/**
 * The property run shared by `npm test` (2,000 cases) and `npm run fuzz`
 * (20,000): generated specs with adversarial strings are validated, rendered,
 * parsed by the real Nomad and compared with our model field by field; all HCL
 * outputs then go through `nomad fmt -check` in one call.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { formatProblem } from '../../src/errors.js';
import type { NomadClient } from '../../src/nomad/client.js';
import { renderAll } from '../../src/nomad/render.js';
import { loadSet, resolveEnvironment } from '../../src/service-spec/load.js';
import { standalone } from '../../src/service-spec/overlay.js';
import { specArbitrary, type GeneratedSpec } from './spec-arbitrary.js';
import { mapLimit } from '../../src/concurrency.js';
import { compareJobs, fmtCheck, parseWithNomad } from './spec-nomad.js';

export interface PropertyOptions {
  readonly nomad: NomadClient;
  /** Path of the nomad binary, for `nomad fmt -check`. */
  readonly nomadBinary: string;
  readonly runs: number;
  readonly seed: number;
  /** Parse requests in flight. @default 8 */
  readonly concurrency?: number;
  /** Called every 1,000 cases. */
  readonly progress?: (done: number) => void;
}

export interface PropertyFailure {
  readonly index: number;
  readonly name: string;
  readonly problems: readonly string[];
  /** The generated files, to reproduce by hand. */
  readonly files: GeneratedSpec['files'];
}

export interface PropertyResult {
  readonly runs: number;
  readonly seed: number;
  readonly failures: readonly PropertyFailure[];
  /** Files `nomad fmt -check` would change. */
  readonly unformatted: readonly string[];
  readonly seconds: number;
}

/** Generate, render, parse with Nomad and compare `runs` specs. */
export async function runProperty(o: PropertyOptions): Promise<PropertyResult> {
  const started = process.hrtime.bigint();
  const specs = fc.sample(specArbitrary(), { numRuns: o.runs, seed: o.seed });
  const dir = await mkdtemp(join(tmpdir(), 'hashiship-property-'));
  try {
    const failures: PropertyFailure[] = [];
    let done = 0;
    await mapLimit(specs, o.concurrency ?? 8, async (g, index) => {
      const problems: string[] = [];
      const set = loadSet(g.files);
      if (set.problems.length > 0) {
        problems.push(...set.problems.map((p) => `generated spec rejected: ${formatProblem(p)}`));
      } else {
        const resolved = g.environment === undefined ? set.services.map(standalone) : resolveEnvironment(set, g.environment);
        for (const r of renderAll(resolved)) {
          await writeFile(join(dir, `${index}-${r.name}.nomad.hcl`), r.hcl);
          try {
            const parsed = await parseWithNomad(o.nomad, r.hcl, false);
            problems.push(...compareJobs(r.job, parsed));
          } catch (e) {
            problems.push(`Nomad could not parse the HCL: ${(e as Error).message}`);
          }
        }
      }
      if (problems.length > 0) failures.push({ index, name: g.name, problems, files: g.files });
      done++;
      if (done % 1000 === 0) o.progress?.(done);
    });
    const fmt = await fmtCheck(o.nomadBinary, [dir]);
    const unformatted = fmt.code === 0 ? [] : fmt.files.length > 0 ? fmt.files : [`nomad fmt failed: ${fmt.stderr.trim()}`];
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { runs: specs.length, seed: o.seed, failures: failures.sort((a, b) => a.index - b.index), unformatted, seconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A readable report of the first failures. */
export function describeFailures(r: PropertyResult, max = 3): string {
  return r.failures
    .slice(0, max)
    .map((f) =>
      [`case ${f.index} (${f.name}), seed ${r.seed}:`, ...f.problems.slice(0, 10).map((p) => `  ${p}`), ...f.files.map((x) => `--- ${x.file}\n${x.text}`)].join(
        '\n',
      ),
    )
    .join('\n\n');
}
