/**
 * `npm run golden`: the only writer of generated files that tests compare
 * against. Rewrites
 *   - test/fixtures/golden/<case>/<case>.{nomad.hcl,json} from <case>.yaml (+ golden.env.yaml),
 *   - jobs/generated/<env>/*.nomad.hcl for every environment in jobs/environments,
 *   - jobs/schema/*.schema.json,
 *   - the key reference in docs/spec.md (between its reference markers).
 * Review the diff before committing it.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderGoldenCase } from '../test/helpers/spec-golden.js';
import { renderAll } from '../src/nomad/render.js';
import { readSpecFiles, DefaultPaths } from '../src/service-spec/files.js';
import { jsonSchemaFiles } from '../src/service-spec/json-schema.js';
import { referenceMarkdown } from '../src/service-spec/reference.js';
import { formatProblem } from '../src/errors.js';
import { loadSet, resolveEnvironment } from '../src/service-spec/load.js';

const goldenDir = 'test/fixtures/golden';
/** The markers around the generated reference in docs/spec.md. */
const REFERENCE_START = '<!-- reference:start (npm run golden) -->';
const REFERENCE_END = '<!-- reference:end -->';
let written = 0;
const write = async (path: string, text: string): Promise<void> => {
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old === text) return;
  await writeFile(path, text);
  written++;
  process.stdout.write(`wrote ${path}\n`);
};

for (const name of (await readdir(goldenDir)).sort()) {
  const out = await renderGoldenCase(join(goldenDir, name));
  await write(join(goldenDir, name, `${name}.nomad.hcl`), out.hcl);
  await write(join(goldenDir, name, `${name}.json`), out.json);
}

const set = loadSet(await readSpecFiles([DefaultPaths.services, DefaultPaths.environments]));
if (set.problems.length > 0) {
  for (const p of set.problems) process.stderr.write(`${formatProblem(p)}\n`);
  process.exit(1);
}
for (const e of set.environments) {
  const dir = join(DefaultPaths.generated, e.env.name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const j of renderAll(resolveEnvironment(set, e.env.name))) {
    await writeFile(join(dir, `${j.name}.nomad.hcl`), j.hcl);
  }
  process.stdout.write(`rendered ${dir}\n`);
}

await mkdir('jobs/schema', { recursive: true });
for (const [name, text] of Object.entries(jsonSchemaFiles())) await write(join('jobs/schema', name), text);
const DOC = 'docs/spec.md';
const doc = await readFile(DOC, 'utf8');
const start = doc.indexOf(REFERENCE_START);
const end = doc.indexOf(REFERENCE_END);
if (start < 0 || end < start) throw new Error(`${DOC}: reference markers missing`);
await write(DOC, `${doc.slice(0, start + REFERENCE_START.length)}\n\n${referenceMarkdown()}\n${doc.slice(end)}`);
process.stdout.write(`${written} golden, schema or docs file(s) changed\n`);
