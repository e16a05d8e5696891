/**
 * `hashiship promote-canaries --env <env> [jobs…]`: finish deployments left at
 * `deploy --until promotion-ready` — promote healthy canaries and wait for the
 * end, with deploy's exit codes.
 */
import type { Command } from 'commander';
import { resolveConfig } from '../config/index.js';
import { describeError, durationMs, formatResults, positiveInt, redactorFromEnv, resultDocument } from '../deploy/cli-support.js';
import { promoteCanaries, promotionTargets } from '../deploy/deploy.js';
import { createDeployContext } from '../deploy/runtime.js';
import { printingLogger, setExit } from './common.js';

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
  program
    .command('promote-canaries')
    .description('promote the healthy canaries of running deployments and wait for the outcome')
    .requiredOption('--env <name>', 'environment')
    .argument('[jobs...]', 'only these jobs (default: every job hashiship owns in the environment with a running deployment)')
    .option('--parallel <n>', 'jobs handled at once', '4')
    .option('--timeout <duration>', 'give up waiting per job after this long')
    .option('--force-owner', 'promote a job hashiship does not own in this environment')
    .option('--json', 'print one JSON document with every job result')
    .option('--events <format>', 'progress events as "ndjson" on stderr')
    .action(async (names: string[], o: PromoteFlags, cmd: Command) => {
      try {
        const parallel = positiveInt('--parallel', o.parallel, 4);
        const timeoutMs = durationMs('--timeout', o.timeout);
        const ctx = createDeployContext(resolveConfig({ env: process.env }), printingLogger({ ndjson: o.events === 'ndjson' }));
        const ids = await promotionTargets(ctx, o.env, names);
        const result = await promoteCanaries(ctx, ids, {
          environment: o.env,
          parallel,
          forceOwner: o.forceOwner === true,
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        });
        if (o.json === true) process.stdout.write(`${JSON.stringify(ctx.redactor.deep(resultDocument('promote-canaries', result)), null, 2)}\n`);
        else {
          for (const s of result.results) if (s.error !== undefined) process.stderr.write(`Error: ${ctx.redactor.text(s.error.describe())}\n`);
          process.stdout.write(ids.length === 0 ? `no deployment waits for promotion in ${o.env}\n` : formatResults(result));
        }
        setExit(cmd, result.exitCode);
      } catch (err) {
        const e = describeError(err, redactorFromEnv(process.env));
        process.stderr.write(e.text);
        setExit(cmd, e.exitCode);
      }
    });
}
