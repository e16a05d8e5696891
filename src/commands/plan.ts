/**
 * `hashiship plan --env <env> [services…]`: what deploy would change, per job
 * (Nomad's plan with diff, placement, image, modify index) and the jobs whose
 * spec was removed (kept, or with `--prune` stopped). Exit 0 no changes, 1 changes, 255 error (Nomad's convention).
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { collect, inputSetFromFlags, type InputFlags } from '../deploy/cli-support.js';
import { planEnvironment } from '../deploy/deploy.js';
import { formatPlan, planExitCode } from '../deploy/plan.js';
import { createDeployContext } from '../deploy/runtime.js';
import { DefaultPaths } from '../service-spec/files.js';
import { ExitCode, PlanExitCode } from '../errors.js';
import { secretsGate } from '../vault/preflight.js';
import { outFile, serverFlags } from './flags.js';
import { errorExit, run, type RunContext } from './runner.js';

interface PlanFlags extends InputFlags {
  readonly json?: boolean;
  readonly out?: string;
  readonly events?: string;
  readonly resetCounts?: boolean;
  readonly skipSecretsCheck?: boolean;
  readonly prune?: boolean;
}

/** Register `hashiship plan`. */
export function registerPlan(program: Command): void {
  const plan = program
    .command('plan')
    .description('show what deploy would change: field diff, placement, image digest, modify index, jobs to stop')
    .requiredOption('--env <name>', 'environment')
    .argument('[services...]', 'only these services (default: all; then jobs whose spec was removed are listed)')
    .option('--job <file>', 'a job file (JSON or HCL) instead of specs; repeatable', collect)
    .option('--services <dir>', 'service specs', DefaultPaths.services)
    .option('--environments <dir>', 'environment files', DefaultPaths.environments)
    .option('--skip-secrets-check', 'do not run the secrets pre-flight (every referenced Vault secret and Consul key exists and is readable; exit 6 otherwise)')
    .option('--reset-counts', 'plan the spec counts even where the autoscaler scaled a group')
    .option('--prune', 'plan to stop the jobs hashiship owns in the environment whose spec was removed (default: list them as kept)')
    .option('--json', 'print one JSON document')
    .option('--out <file>', 'save the plan as JSON for deploy --plan')
    .option('--events <format>', 'progress events as "ndjson" on stderr');
  serverFlags(plan, ['nomad', 'consul', 'vault']);
  // A refused gate (the secrets pre-flight) keeps its exit 6; any other error is Nomad's 255.
  errorExit(plan, (code) => (code === ExitCode.ok || code === ExitCode.gate ? code : PlanExitCode.error));
  plan.action(
    run(async (c: RunContext<PlanFlags>, names: string[]) => {
      const o = c.opts;
      outFile('--out', o.out);
      const config = c.config;
      const clients = await c.clients();
      const ctx = createDeployContext(config, c.log, clients);
      const set = await inputSetFromFlags(ctx, names, o);
      const secrets = o.skipSecretsCheck === true ? undefined : secretsGate(clients, { log: ctx.runtime.log });
      const { document } = await planEnvironment(ctx, set, {
        resetCounts: o.resetCounts === true,
        prune: o.prune === true,
        ...(secrets === undefined ? {} : { secrets }),
      });
      const doc = ctx.redactor.deep(document);
      const json = `${JSON.stringify(doc, null, 2)}\n`;
      if (o.out !== undefined) await writeFile(o.out, json, { mode: 0o600 });
      c.out(o.json === true ? json : formatPlan(doc, ctx.redactor));
      return planExitCode(doc);
    }),
  );
}
