/**
 * `hashiship render --env <env> [--out dir] [--format hcl|json] [services…]`:
 * the Nomad jobs of every service in one environment, as `nomad fmt`-clean HCL
 * (for people and `nomad run`) or API JSON (for the deploy engine).
 * Writes nothing when any spec has a problem. Rendering a whole environment into
 * `--out` also removes the files of jobs that are no longer rendered (a spec was
 * deleted or renamed) — only files of the same format that hashiship wrote, known
 * by the ownership meta inside them.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { renderAll, type RenderedJob } from '../nomad/render.js';
import { DefaultPaths, readSpecFiles } from '../spec/files.js';
import { loadSet, resolveEnvironment } from '../spec/load.js';
import { suggest } from '../spec/suggest.js';
import { outDir } from './flags.js';
import { run, type RunContext } from './runner.js';

interface RenderFlags {
  readonly env: string;
  readonly out?: string;
  readonly format: string;
  readonly services: string;
  readonly environments: string;
}

/** Whether a job file's text says hashiship wrote it (HCL or API JSON). */
export function writtenByHashiship(text: string): boolean {
  return /^\s*hashiship_tool\s*=\s*"hashiship"\s*$/m.test(text) || /"hashiship_tool":\s*"hashiship"/.test(text);
}

/** Files in `dir` of this format that hashiship wrote and that `keep` does not name. */
async function staleFiles(dir: string, format: 'hcl' | 'json', keep: ReadonlySet<string>): Promise<string[]> {
  const suffix = format === 'hcl' ? '.nomad.hcl' : '.json';
  const stale: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (!name.endsWith(suffix) || keep.has(name)) continue;
    if (writtenByHashiship(await readFile(join(dir, name), 'utf8'))) stale.push(join(dir, name));
  }
  return stale;
}

/** The file name and text of a rendered job in a format. */
export function jobFile(r: RenderedJob, format: 'hcl' | 'json'): { name: string; text: string } {
  return format === 'hcl'
    ? { name: `${r.name}.nomad.hcl`, text: r.hcl }
    : { name: `${r.name}.json`, text: `${JSON.stringify({ Job: r.job }, null, 2)}\n` };
}

export function registerRender(program: Command): void {
  program
    .command('render')
    .description('render the Nomad jobs of an environment as HCL or API JSON')
    .requiredOption('--env <name>', 'environment (a file in the environments directory)')
    .option('--out <dir>', 'write one file per job into this directory instead of printing')
    .option('--format <format>', 'hcl or json', 'hcl')
    .option('--services <dir>', 'service specs', DefaultPaths.services)
    .option('--environments <dir>', 'environment files', DefaultPaths.environments)
    .argument('[names...]', 'only these services')
    .action(run(async (c: RunContext<RenderFlags>, names: string[]) => {
      const o = c.opts;
      outDir('--out', o.out);
      if (o.format !== 'hcl' && o.format !== 'json') {
        throw new InputError([{ subject: '--format', message: `\`${o.format}\` is not hcl or json` }]);
      }
      const format = o.format;
      const set = loadSet(await readSpecFiles([o.services, o.environments]));
      const resolved = resolveEnvironment(set, o.env);
      const known = resolved.map((r) => r.spec.name);
      const unknown = names.filter((n) => !known.includes(n));
      if (unknown.length > 0) {
        throw new InputError(
          unknown.map((n) => {
            if (set.externals.some((x) => x.spec.name === n)) {
              return { subject: n, message: `\`${n}\` is an external service (kind: external): it has no Nomad job; \`hashiship register --env ${o.env}\` registers it in Consul` };
            }
            const hint = suggest(n, known);
            return { subject: n, message: `no service named \`${n}\`${hint === undefined ? '' : `; did you mean \`${hint}\`?`}` };
          }),
        );
      }
      const jobs = renderAll(names.length === 0 ? resolved : resolved.filter((r) => names.includes(r.spec.name)));
      if (o.out === undefined) {
        if (format === 'json') process.stdout.write(`${JSON.stringify(jobs.map((j) => ({ Job: j.job })), null, 2)}\n`);
        else process.stdout.write(jobs.map((j) => j.hcl).join('\n'));
        return;
      }
      await mkdir(o.out, { recursive: true });
      const files = jobs.map((j) => jobFile(j, format));
      for (const f of files) {
        await writeFile(join(o.out, f.name), f.text);
        process.stdout.write(`wrote ${join(o.out, f.name)}\n`);
      }
      // Only a whole environment says which jobs no longer exist.
      if (names.length > 0) return;
      for (const path of await staleFiles(o.out, format, new Set(files.map((f) => f.name)))) {
        await rm(path);
        process.stdout.write(`removed ${path} (no longer rendered)\n`);
      }
    }));
}
