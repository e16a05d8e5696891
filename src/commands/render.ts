/**
 * `hashiship render --env <env> [--out dir] [--format hcl|json] [services…]`:
 * the Nomad jobs of every service in one environment, as `nomad fmt`-clean HCL
 * (for people and `nomad run`) or API JSON (for the deploy engine).
 * Writes nothing when any spec has a problem. Rendering a whole environment into
 * `--out` also removes the files of jobs that are no longer rendered (a spec was
 * deleted or renamed) — only files of the same format that hashiship wrote for
 * this environment, known by the ownership meta inside them (src/nomad/render-out.ts).
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { renderAll } from '../nomad/render.js';
import { jobFile, writeJobFiles } from '../nomad/render-out.js';
import { DefaultPaths, readSpecFiles } from '../service-spec/files.js';
import { loadSet, resolveEnvironment } from '../service-spec/load.js';
import { suggest } from '../service-spec/suggest.js';
import { nonEmptyPath } from './flags.js';
import { run, type RunContext } from './runner.js';

interface RenderFlags {
  readonly env: string;
  readonly out?: string;
  readonly format: string;
  readonly services: string;
  readonly environments: string;
  readonly allowEmpty?: boolean;
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
    .option('--allow-empty', 'accept a set without any service spec')
    .argument('[names...]', 'only these services')
    .action(
      run(async (c: RunContext<RenderFlags>, names: string[]) => {
        const o = c.opts;
        nonEmptyPath('--out', o.out, 'a folder');
        if (o.format !== 'hcl' && o.format !== 'json') {
          throw new InputError([{ subject: '--format', message: `\`${o.format}\` is not hcl or json` }]);
        }
        const format = o.format;
        const files = await readSpecFiles([o.services, o.environments], { allowEmpty: o.allowEmpty === true });
        for (const s of files.skipped) c.log({ kind: 'spec.skipped', path: s.path, reason: s.reason });
        const set = loadSet(files);
        const resolved = resolveEnvironment(set, o.env);
        const known = resolved.map((r) => r.spec.name);
        const unknown = names.filter((n) => !known.includes(n));
        if (unknown.length > 0) {
          throw new InputError(
            unknown.map((n) => {
              if (set.externals.some((x) => x.spec.name === n)) {
                return {
                  subject: n,
                  message: `\`${n}\` is an external service (kind: external): it has no Nomad job; \`hashiship register --env ${o.env}\` registers it in Consul`,
                };
              }
              const hint = suggest(n, known);
              return { subject: n, message: `no service named \`${n}\`${hint === undefined ? '' : `; did you mean \`${hint}\`?`}` };
            }),
          );
        }
        const jobs = renderAll(names.length === 0 ? resolved : resolved.filter((r) => names.includes(r.spec.name)));
        if (o.out === undefined) {
          if (format === 'json')
            c.out(
              `${JSON.stringify(
                jobs.map((j) => ({ Job: j.job })),
                null,
                2,
              )}\n`,
            );
          else c.verbatim(jobs.map((j) => j.hcl).join('\n'));
          return;
        }
        // Only a whole environment says which jobs no longer exist.
        const done = await writeJobFiles(
          o.out,
          jobs.map((j) => jobFile(j, format)),
          { format, environment: o.env, removeStale: names.length === 0 },
        );
        // One write to stdout, not one per file.
        const lines = [...done.written.map((path) => `wrote ${path}\n`), ...done.removed.map((path) => `removed ${path} (no longer rendered)\n`)];
        if (lines.length > 0) c.out(lines.join(''));
      }),
    );
}
