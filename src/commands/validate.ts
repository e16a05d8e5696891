/**
 * `hashiship validate [paths…]`: check service specs and environment files.
 * Every problem is printed as `file:line:col  path  message`; exit 1 when there
 * is any, and nothing is written.
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { DefaultPaths, readSpecFiles } from '../service-spec/files.js';
import { loadSet } from '../service-spec/load.js';
import { run, type RunContext } from './runner.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check service specs and environment files (default: jobs/services and jobs/environments)')
    .argument('[paths...]', 'files or directories; files under a directory named "environments" (or *.env.yaml) are environments')
    .option('--json', 'print the result as one JSON document')
    .option('--allow-empty', 'accept a set without any service spec')
    .action(
      run(async (c: RunContext<{ json?: boolean; allowEmpty?: boolean }>, paths: string[]) => {
        const o = c.opts;
        const files = await readSpecFiles(paths.length > 0 ? paths : [DefaultPaths.services, DefaultPaths.environments], { allowEmpty: o.allowEmpty === true });
        for (const s of files.skipped) c.log({ kind: 'spec.skipped', path: s.path, reason: s.reason });
        const set = loadSet(files);
        if (o.json === true) {
          c.out(
            `${JSON.stringify(
              {
                ok: set.problems.length === 0,
                services: set.services.map((s) => ({ name: s.spec.name, file: s.file })),
                environments: set.environments.map((e) => ({ name: e.env.name, file: e.file })),
                externals: set.externals.map((x) => ({ name: x.spec.name, file: x.file })),
                problems: set.problems,
              },
              null,
              2,
            )}\n`,
          );
        }
        if (set.problems.length > 0) throw new InputError(set.problems);
        if (o.json !== true) {
          c.out(
            `ok: ${set.services.length} service${set.services.length === 1 ? '' : 's'}, ${set.externals.length > 0 ? `${set.externals.length} external, ` : ''}${set.environments.length} environment${set.environments.length === 1 ? '' : 's'} (${set.environments.map((e) => e.env.name).join(', ') || 'none'})\n`,
          );
        }
      }),
    );
}
