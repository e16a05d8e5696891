/**
 * `hashiship promote-canaries --env <env> [jobs…]`: finish deployments left at
 * `deploy --until promotion-ready` — promote healthy canaries and wait for the
 * end, with deploy's exit codes.
 */
import type { Command } from 'commander';
import { durationMs, formatResults, MAX_PARALLEL, positiveInt, resultDocument } from '../deploy/cli-support.js';
import { promoteCanaries, promotionTargets } from '../deploy/deploy.js';
import { createDeployContext } from '../deploy/runtime.js';
import { checkNames, serverFlags } from './flags.js';
import { run, type RunContext } from './runner.js';

interface PromoteFlags {
  readonly env: string;
  readonly parallel?: string;
  readonly timeout?: string;
  readonly forceOwner?: boolean;
  readonly json?: boolean;
  readonly events?: string;
}

/** Register `hashiship promote-canaries`. */
export function registerPromoteCanaries(program: Command): void {
  serverFlags(
    program
      .command('promote-canaries')
      .description('promote the healthy canaries of running deployments and wait for the outcome')
      .requiredOption('--env <name>', 'environment')
      .argument('[jobs...]', 'only these jobs (default: every job hashiship owns in the environment with a running deployment)')
      .option('--parallel <n>', 'jobs handled at once, 1 to 32', '4')
      .option('--timeout <duration>', 'give up waiting per job after this long')
      .option('--force-owner', 'promote a job hashiship does not own in this environment')
      .option('--json', 'print one JSON document with every job result')
      .option('--events <format>', 'progress events as "ndjson" on stderr'),
    ['nomad', 'consul'],
  ).action(
    run(async (c: RunContext<PromoteFlags>, names: string[]) => {
      const o = c.opts;
      checkNames(o.env, names, 'job');
      const parallel = positiveInt('--parallel', o.parallel, 4, MAX_PARALLEL);
      const timeoutMs = durationMs('--timeout', o.timeout);
      const ctx = createDeployContext(c.config, c.log, await c.clients());
      const ids = await promotionTargets(ctx, o.env, names);
      const result = await promoteCanaries(ctx, ids, {
        environment: o.env,
        parallel,
        forceOwner: o.forceOwner === true,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
      if (o.json === true) c.out(`${JSON.stringify(ctx.redactor.deep(resultDocument('promote-canaries', result)), null, 2)}\n`);
      else {
        for (const s of result.results) if (s.error !== undefined) c.error(s.error);
        c.out(ids.length === 0 ? `no deployment waits for promotion in ${o.env}\n` : formatResults(result));
      }
      return result.exitCode;
    }),
  );
}
