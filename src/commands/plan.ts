/**
 * `hashiship plan --env <env> [services…]`: what deploy would change, per job
 * (Nomad's plan with diff, placement, image, modify index) and the jobs whose
 * spec was removed. Exit 0 no changes, 1 changes, 255 error (Nomad's convention).
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { resolveConfig } from '../config/index.js';
import { collect, describeError, inputSetFromFlags, redactorFromEnv, type InputFlags } from '../deploy/cli-support.js';
import { planEnvironment } from '../deploy/deploy.js';
import { formatPlan, planExitCode } from '../deploy/plan.js';
import { createDeployContext } from '../deploy/runtime.js';
import { DefaultPaths } from '../spec/files.js';
import { PlanExitCode } from '../errors.js';
import { printingLogger, setExit } from './common.js';

interface PlanFlags extends InputFlags {
  readonly json?: boolean;
  readonly out?: string;
  readonly events?: string;
  readonly resetCounts?: boolean;
}

/** Register `hashiship plan`. */
export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('show what deploy would change: field diff, placement, image digest, modify index, jobs to stop')
    .requiredOption('--env <name>', 'environment')
    .argument('[services...]', 'only these services (default: all; then removed specs are listed as stops)')
    .option('--job <file>', 'a job file (JSON or HCL) instead of specs; repeatable', collect)
    .option('--services <dir>', 'service specs', DefaultPaths.services)
    .option('--environments <dir>', 'environment files', DefaultPaths.environments)
    .option('--reset-counts', 'plan the spec counts even where the autoscaler scaled a group')
    .option('--json', 'print one JSON document')
    .option('--out <file>', 'save the plan as JSON for deploy --plan')
    .option('--events <format>', 'progress events as "ndjson" on stderr')
    .action(async (names: string[], o: PlanFlags, cmd: Command) => {
      try {
        const config = resolveConfig({ env: process.env });
        const ctx = createDeployContext(config, printingLogger({ ndjson: o.events === 'ndjson' }));
        const set = await inputSetFromFlags(ctx, names, o);
        const { document } = await planEnvironment(ctx, set, { resetCounts: o.resetCounts === true });
        const doc = ctx.redactor.deep(document);
        const json = `${JSON.stringify(doc, null, 2)}\n`;
        if (o.out !== undefined) await writeFile(o.out, json, { mode: 0o600 });
        process.stdout.write(o.json === true ? json : formatPlan(doc, ctx.redactor));
        setExit(cmd, planExitCode(doc));
      } catch (err) {
        process.stderr.write(describeError(err, redactorFromEnv(process.env)).text);
        setExit(cmd, PlanExitCode.error);
      }
    });
}
