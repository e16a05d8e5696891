/**
 * `hashiship promote --from qa --to production [services…]`: promote what passed
 * the source environment, by digest, through canaries and Fabio weight steps.
 * Exit codes: 0 promoted or nothing to do, 3 failed and rolled back, 6 refused
 * (no evidence for the digest, lock held, tag differs, approval missing),
 * 2 server trouble, 1 bad input.
 */
import type { Command } from 'commander';
import { durationMs } from '../deploy/cli-support.js';
import { InputError } from '../errors.js';
import { fabioApi } from '../fabio/routes.js';
import { checkBuild } from '../release/deploy-image.js';
import { promote, type PromoteResult } from '../release/promotion/flow.js';
import { checkSteps } from '../release/promotion/plan.js';
import { DefaultPaths } from '../service-spec/files.js';
import { serverFlags } from './flags.js';
import { run, type RunContext } from './runner.js';

interface PromoteFlags {
  readonly from: string;
  readonly to: string;
  readonly build?: string;
  readonly approve?: boolean;
  readonly minSoak?: string;
  readonly steps?: string;
  readonly hold?: string;
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly lockWait?: string;
  readonly healthDeadline?: string;
  readonly json?: boolean;
  readonly events?: string;
  readonly services?: string;
  readonly environments?: string;
}

/**
 * `10,50,100` → [10, 50, 100], checked as the promotion will use them.
 * @throws {InputError} naming --steps.
 */
export function parseSteps(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) {
    throw new InputError([{ subject: `--steps=${JSON.stringify(value)}`, message: 'expected whole percentages separated by commas, e.g. 10,50,100' }]);
  }
  const steps = parts.map(Number);
  const problem = checkSteps(steps);
  if (problem !== undefined) throw new InputError([{ subject: `--steps=${JSON.stringify(value)}`, message: problem }]);
  return steps;
}

/** Lines for people: each service's outcome, plan and observed weights. */
export function formatPromotion(r: PromoteResult): string {
  if (r.results.length === 0) return `nothing to promote from ${r.from} to ${r.to}\nexit ${r.exitCode}\n`;
  const out: string[] = [];
  for (const s of r.results) {
    if (s.outcome === 'planned') out.push(...s.plan);
    else {
      out.push(`${s.service}  ${s.outcome}${s.exitCode === 0 ? '' : ` (exit ${s.exitCode})`}  ${s.seconds.toFixed(1)} s  ${s.message}`);
      for (const w of s.weights) out.push(`  weight ${w.percent} %: Fabio showed ${(w.observed * 100).toFixed(1)} % on the canary (${w.targets} targets)`);
      for (const l of s.diagnosis) out.push(`  ${l}`);
    }
  }
  out.push(`exit ${r.exitCode}`);
  return `${out.join('\n')}\n`;
}

/** The options promote and rollback share: where specs are, the servers (Fabio included), output. */
export function releaseOptions(c: Command): Command {
  return serverFlags(
    c
      .option('--services <dir>', 'service specs', DefaultPaths.services)
      .option('--environments <dir>', 'environment files', DefaultPaths.environments)
      .option('--json', 'print one JSON document')
      .option('--events <format>', 'progress events as "ndjson" on stderr'),
    ['nomad', 'consul', 'vault', 'fabio'],
  );
}

/** Register `hashiship promote`. */
export function registerPromote(program: Command): void {
  releaseOptions(
    program
      .command('promote')
      .description('promote the release that passed one environment into another, by digest, with canaries and weight steps (exit codes: docs/promote.md)')
      .requiredOption('--from <env>', 'source environment (its release records are the evidence)')
      .requiredOption('--to <env>', 'target environment')
      .argument('[services...]', 'only these services (default: every service with a release in --from)')
      .option('--build <n>', 'only promote this build (refused unless it is the source release; HASHISHIP_BUILD)')
      .option('--approve', 'approve the promotion (required by environments with promotion.require_approval)')
      .option('--min-soak <duration>', 'the source release must be at least this old')
      .option('--steps <list>', 'canary traffic steps in percent, ending with 100 (default 10,50,100)')
      .option('--hold <duration>', 'hold each weight step this long with health re-checked (default 30s)')
      .option('--dry-run', 'print the plan only')
      .option('--force', 'overwrite a different digest under an existing tag in the target registry')
      .option('--lock-wait <duration>', 'wait this long for another promotion of the service instead of exiting 6')
      .option('--health-deadline <duration>', 'deadline of each health gate (default 60s)'),
  ).action(
    run(async (c: RunContext<PromoteFlags>, names: string[]) => {
      const o = c.opts;
      const build = o.build !== undefined ? checkBuild('--build', o.build) : checkBuild('HASHISHIP_BUILD', c.env['HASHISHIP_BUILD'] || undefined);
      const steps = parseSteps(o.steps);
      const holdMs = durationMs('--hold', o.hold);
      const minSoakMs = durationMs('--min-soak', o.minSoak);
      const lockWaitMs = durationMs('--lock-wait', o.lockWait);
      const healthDeadlineMs = durationMs('--health-deadline', o.healthDeadline);
      const config = c.config;
      const result = await promote(config, {
        from: o.from,
        to: o.to,
        names,
        dirs: { ...(o.services === undefined ? {} : { services: o.services }), ...(o.environments === undefined ? {} : { environments: o.environments }) },
        ...(build === undefined || build === '' ? {} : { build }),
        approve: o.approve === true,
        ...(steps === undefined ? {} : { steps }),
        ...(holdMs === undefined ? {} : { holdMs }),
        ...(minSoakMs === undefined ? {} : { minSoakMs }),
        ...(lockWaitMs === undefined ? {} : { lockWaitMs }),
        ...(healthDeadlineMs === undefined ? {} : { healthDeadlineMs }),
        dryRun: o.dryRun === true,
        force: o.force === true,
        fabio: fabioApi(config.fabio.api),
        proxy: config.fabio.proxy,
        clients: await c.clients(),
        log: c.log,
      });
      if (o.json === true) {
        const doc = {
          kind: 'hashiship.promote',
          from: result.from,
          to: result.to,
          exitCode: result.exitCode,
          results: result.results.map(({ error, ...s }) => ({
            ...s,
            ...(error === undefined ? {} : { error: { subject: error.message, context: Object.fromEntries(error.context) } }),
          })),
        };
        c.out(`${c.redactor.text(JSON.stringify(doc, null, 2))}\n`);
      } else {
        for (const s of result.results) if (s.error !== undefined) c.error(s.error);
        c.out(c.redactor.text(formatPromotion(result)));
      }
      return result.exitCode;
    }),
  );
}
