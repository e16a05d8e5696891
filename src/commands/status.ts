/**
 * `hashiship status --env <env> [jobs…]`: per job version, image digest,
 * deployment status, healthy/desired counts and Consul health.
 */
import type { Command } from 'commander';
import { createDeployContext } from '../deploy/runtime.js';
import { environmentStatus, formatStatus } from '../deploy/status.js';
import { checkNames, serverFlags } from './flags.js';
import { run, type RunContext } from './runner.js';

/** Register `hashiship status`. */
export function registerStatus(program: Command): void {
  serverFlags(
    program
      .command('status')
      .description('per job: version, image digest, deployment status, healthy/desired, Consul health')
      .requiredOption('--env <name>', 'environment')
      .argument('[jobs...]', 'only these jobs (default: every job hashiship owns in the environment)')
      .option('--json', 'print one JSON document'),
    ['nomad', 'consul'],
  ).action(
    run(async (c: RunContext<{ env: string; json?: boolean }>, names: string[]) => {
      checkNames(c.opts.env, names, 'job');
      const ctx = createDeployContext(c.config, c.log, await c.clients());
      const rows = await environmentStatus(ctx, c.opts.env, names);
      if (c.opts.json === true) c.out(`${JSON.stringify(ctx.redactor.deep({ kind: 'hashiship.status', environment: c.opts.env, jobs: rows }), null, 2)}\n`);
      else if (rows.length === 0) c.out(`no jobs owned by hashiship in ${c.opts.env}\n`);
      else c.out(formatStatus(rows));
    }),
  );
}
