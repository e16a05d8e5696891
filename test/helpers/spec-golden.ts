/**
 * Golden cases: `test/fixtures/golden/<case>/<case>.yaml` (a service) and an
 * optional `golden.env.yaml` (an environment named `golden`); the expected
 * outputs are `<case>.nomad.hcl` and `<case>.json`, rewritten only by
 * `npm run golden`.
 */
import { basename } from 'node:path';
import { formatProblem } from '../../src/errors.js';
import { renderAll, type RenderedJob } from '../../src/nomad/render.js';
import { readSpecFiles } from '../../src/service-spec/files.js';
import { loadSet, resolveEnvironment } from '../../src/service-spec/load.js';
import { standalone } from '../../src/service-spec/overlay.js';

export interface GoldenOutput {
  readonly name: string;
  readonly rendered: RenderedJob;
  readonly hcl: string;
  readonly json: string;
}

/** Render one golden case directory. */
export async function renderGoldenCase(dir: string): Promise<GoldenOutput> {
  const set = loadSet(await readSpecFiles([dir]));
  if (set.problems.length > 0) throw new Error(`${dir}:\n${set.problems.map(formatProblem).join('\n')}`);
  const resolved = set.environments.length > 0 ? resolveEnvironment(set, 'golden') : set.services.map(standalone);
  const [job] = renderAll(resolved);
  if (job === undefined) throw new Error(`${dir}: nothing rendered`);
  return { name: basename(dir), rendered: job, hcl: job.hcl, json: `${JSON.stringify({ Job: job.job }, null, 2)}\n` };
}
