/**
 * `hashiship import <job.nomad.hcl|job.json>… [--env NAME]… [--out jobs] [--force] [--from-cluster ID]…`:
 * existing Nomad jobs → service specs (and environment values) that render back
 * to the same jobs. Nomad's own parser reads them; what the typed keys cannot say
 * goes to the `nomad:` escape hatch, and is listed. Nothing is written when
 * anything fails; an existing spec is replaced only with --force.
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import {
  clusterSource,
  importJobs,
  linkedFolders,
  nomadParser,
  readSources,
  joinVariables,
  undeclaredVariables,
  type JobSource,
} from '../service-spec/import/index.js';
import { environmentNameProblem, outDir, serverFlags } from './flags.js';
import { run, type RunContext } from './runner.js';

interface ImportFlags {
  readonly env: string[];
  readonly out: string;
  readonly force?: boolean;
  readonly fromCluster: string[];
  readonly dryRun?: boolean;
  readonly var: string[];
  readonly varFile: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Register `hashiship import`. */
export function registerImport(program: Command): void {
  serverFlags(
    program
      .command('import')
      .description('turn existing Nomad jobs (HCL or API JSON files, or jobs on the cluster) into service specs')
      .argument('[files...]', 'job files: HCL (job.nomad.hcl) or API JSON ({"Job": …} or the job)')
      .option('--env <name>', 'environment of the files; repeat it with one file per job for each environment, in the same order', collect, [])
      .option('--out <dir>', 'folder holding services/ and environments/', 'jobs')
      .option('--force', 'replace existing specs and environment entries')
      .option('--from-cluster <id>', 'import this job from Nomad (in NOMAD_NAMESPACE / --nomad-namespace); repeatable', collect, [])
      .option('--dry-run', 'check everything and list the files, write nothing')
      .option('--var <name=value>', "a value of the HCL files' variables, as `nomad job run -var`; repeatable", collect, [])
      .option('--var-file <file>', 'a variables file for the HCL files, as `nomad job run -var-file`; repeatable', collect, []),
    ['nomad'],
  ).action(
    run(async (c: RunContext<ImportFlags>, files: string[]) => {
      const o = c.opts;
      if (files.length === 0 && o.fromCluster.length === 0) {
        throw new InputError([{ subject: 'import', message: 'give job files, or --from-cluster with a job ID' }]);
      }
      const dup = o.env.find((e, i) => o.env.indexOf(e) !== i);
      if (dup !== undefined) throw new InputError([{ subject: '--env', message: `\`${dup}\` is given twice` }]);
      // Flags are checked before Nomad parses anything: an environment name becomes a file name under --out.
      const badEnv = o.env.flatMap((e) => environmentNameProblem(e) ?? []);
      if (badEnv.length > 0) throw new InputError(badEnv);
      outDir('--out', o.out);
      const linked = linkedFolders(o.out);
      if (linked.length > 0) throw new InputError(linked);
      // Variables are checked and read before Nomad is asked; a value is never echoed (it may be a secret).
      const variables = joinVariables(await readSources(o.varFile), o.var);
      const sources: JobSource[] = (await readSources(files)).map((s) => (variables.text === '' ? s : { ...s, variables }));
      const undeclared = undeclaredVariables(sources, variables.flagNames);
      if (undeclared.length > 0) {
        throw new InputError(
          undeclared.map((n) => ({ subject: `--var ${JSON.stringify(n)}`, message: 'no job file declares this variable (`variable "…" {}`)' })),
        );
      }
      const client = (await c.clients()).nomad.client;
      for (const id of o.fromCluster) sources.push(await clusterSource(client, id));
      const result = await importJobs({ sources, out: o.out, environments: o.env, force: o.force === true, dryRun: o.dryRun === true }, nomadParser(client));
      for (const j of result.jobs) {
        c.out(`imported ${j.source}: job ${j.name}\n`);
        if (j.raw.length > 0) c.out(`  in nomad: (raw Nomad fields) ${j.raw.map((r) => r.path).join(', ')}\n`);
        // A policy the job breaks is kept, opted out with a reason, and said here: the spec now holds it too.
        if (j.allowed.length > 0) c.out(`  opted out in allow: (kept as the job has it) ${j.allowed.join(', ')}\n`);
      }
      for (const f of result.files) c.out(`${o.dryRun === true ? 'would write' : 'wrote'} ${f.path}\n`);
    }),
  );
}
