/**
 * `hashiship deploy --env <env> [services…]`: register through the API and
 * block until the outcome is known. Exit codes: 0 success or no changes,
 * 2 server error, 3 failed and rolled back, 4 failed and not rolled back,
 * 5 placement failed, 6 gate refused (foreign job, changed since plan),
 * 10 canaries healthy and waiting (`--until promotion-ready`); several
 * services exit with the worst.
 */
import type { Command } from 'commander';
import {
  collect,
  durationMs,
  formatResults,
  inputSetFromFlags,
  MAX_PARALLEL,
  oneOf,
  positiveInt,
  resultDocument,
  type InputFlags,
} from '../deploy/cli-support.js';
import { deployEnvironment } from '../deploy/deploy.js';
import type { PlanDocument } from '../deploy/plan.js';
import { createDeployContext } from '../deploy/runtime.js';
import { InputError } from '../errors.js';
import { readInputFile } from '../config/input-file.js';
import { DefaultPaths } from '../service-spec/files.js';
import { secretsGate } from '../vault/preflight.js';
import { releaseMode } from '../release/deploy-image.js';
import { deployReleaseAction, type ReleaseFlags } from './deploy-release.js';
import { refuseInapplicable, serverFlags } from './flags.js';
import { run, type RunContext } from './runner.js';

interface DeployFlags extends InputFlags {
  readonly plan?: string;
  readonly until?: string;
  readonly parallel?: string;
  readonly forceOwner?: boolean;
  readonly prune?: boolean;
  readonly force?: boolean;
  readonly resetCounts?: boolean;
  readonly skipSecretsCheck?: boolean;
  readonly timeout?: string;
  readonly healthDeadline?: string;
  readonly healthGate?: boolean;
  readonly json?: boolean;
  readonly events?: string;
}

/** The largest plan file read (a plan of 1,000 jobs is a few MB). */
const PlanFileBytes = 64 * 1024 * 1024;

async function readPlan(file: string): Promise<PlanDocument> {
  let doc: unknown;
  const text = readInputFile(file, { subject: `--plan=${JSON.stringify(file)}`, maxBytes: PlanFileBytes, what: 'a plan' });
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError([{ subject: `--plan=${JSON.stringify(file)}`, message: `cannot read a plan: ${(err as Error).message}` }]);
  }
  const d = doc as Partial<PlanDocument>;
  if (d.kind !== 'hashiship.plan' || d.version !== 1 || !Array.isArray(d.jobs) || !Array.isArray(d.stops)) {
    throw new InputError([{ subject: `--plan=${JSON.stringify(file)}`, message: 'not a plan written by hashiship plan --out' }]);
  }
  return d as PlanDocument;
}

/** Register `hashiship deploy`. */
export function registerDeploy(program: Command): void {
  const deploy = program
    .command('deploy')
    .description('register jobs through the Nomad API and wait for the outcome (exit codes: see docs/deploy.md)')
    .requiredOption('--env <name>', 'environment')
    .argument('[services...]', 'only these services (default: all; then jobs whose spec was removed are listed, and stopped with --prune)')
    .option('--job <file>', 'a job file (JSON or HCL) instead of specs; repeatable', collect)
    .option('--services <dir>', 'service specs', DefaultPaths.services)
    .option('--environments <dir>', 'environment files', DefaultPaths.environments)
    .option('--plan <file>', 'apply exactly this saved plan (plan --out); refuse jobs changed since (exit 6)')
    .option(
      '--until <state>',
      "healthy: promote canaries, stop when all allocations are healthy; successful: also wait for Nomad's successful mark; promotion-ready: exit 10 when canaries are healthy",
      'healthy',
    )
    .option('--parallel <n>', 'services deployed at once, 1 to 32', '4')
    .option('--force-owner', 'overwrite a job hashiship does not own in this environment')
    .option('--prune', 'stop the jobs hashiship owns in the environment whose spec was removed (at most 1, and at most half of its jobs)')
    .option('--force', 'with --prune: stop more jobs than that limit')
    .option('--skip-secrets-check', 'do not run the secrets pre-flight (every referenced Vault secret and Consul key exists and is readable; exit 6 otherwise)')
    .option('--reset-counts', 'register the spec counts even where the autoscaler scaled a group')
    .option('--timeout <duration>', 'give up waiting per service after this long (default: 2 × progress deadline + 2m)')
    .option('--health-deadline <duration>', 'after a successful deployment, how long every new instance may take to pass in Consul (exit 6 otherwise)', '60s')
    .option('--no-health-gate', "trust Nomad's deployment health; skip the Consul gate after it")
    .option('--json', 'print one JSON document with every service result')
    .option('--events <format>', 'progress events as "ndjson" on stderr')
    .option(
      '--image <service=ref>',
      "deploy this tag or sha256 digest of the service's image, resolved in the environment's registry and pinned by digest; repeatable",
      collect,
    )
    .option('--build <n>', 'build number recorded with the release (HASHISHIP_BUILD); with --image: record the release evidence')
    .option('--commit <sha>', 'commit recorded with the release');
  serverFlags(deploy, ['nomad', 'consul', 'vault', 'fabio']);
  deploy.action(
    run(async (c: RunContext<DeployFlags & ReleaseFlags>, names: string[]) => {
      const o = c.opts;
      const release = releaseMode(o, c.env);
      if (release !== undefined) return deployReleaseAction(c, names, release);
      refuseInapplicable(c.cmd, ['commit', 'fabio', 'fabioProxy'], 'only a release deploy (--image or --build) records a release and its smoke requests');
      const until = oneOf('--until', o.until, ['healthy', 'successful', 'promotion-ready'] as const, 'healthy');
      const parallel = positiveInt('--parallel', o.parallel, 4, MAX_PARALLEL);
      const timeoutMs = durationMs('--timeout', o.timeout);
      const healthDeadlineMs = durationMs('--health-deadline', o.healthDeadline);
      const plan = o.plan === undefined ? undefined : await readPlan(o.plan);
      const config = c.config;
      const clients = await c.clients();
      const ctx = createDeployContext(config, c.log, clients);
      const set = await inputSetFromFlags(ctx, names, o);
      const result = await deployEnvironment(ctx, set, {
        until,
        parallel,
        forceOwner: o.forceOwner === true,
        prune: o.prune === true,
        forcePrune: o.force === true,
        resetCounts: o.resetCounts === true,
        ...(o.skipSecretsCheck === true ? {} : { secrets: secretsGate(clients, { log: ctx.runtime.log }) }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(healthDeadlineMs === undefined ? {} : { healthDeadlineMs }),
        healthGate: o.healthGate !== false,
        ...(plan === undefined ? {} : { plan }),
      });
      if (o.json === true) c.out(`${JSON.stringify(ctx.redactor.deep(resultDocument('deploy', result)), null, 2)}\n`);
      else {
        for (const s of result.results) if (s.error !== undefined) c.error(s.error);
        c.out(formatResults(result));
      }
      return result.exitCode;
    }),
  );
}
