/**
 * `hashiship status --env <env> [jobs…]`: per job version, image digest,
 * deployment status, healthy/desired counts and Consul health.
 */
import type { Command } from 'commander';
import { resolveConfig } from '../config/index.js';
import { describeError, redactorFromEnv } from '../deploy/cli-support.js';
import { createDeployContext } from '../deploy/runtime.js';
import { setExit } from './common.js';
import { environmentStatus, formatStatus } from '../deploy/status.js';

/** Register `hashiship status`. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('per job: version, image digest, deployment status, healthy/desired, Consul health')
    .requiredOption('--env <name>', 'environment')
    .argument('[jobs...]', 'only these jobs (default: every job hashiship owns in the environment)')
    .option('--json', 'print one JSON document')
    .action(async (names: string[], o: { env: string; json?: boolean }, cmd: Command) => {
      try {
        const ctx = createDeployContext(resolveConfig({ env: process.env }));
        const rows = await environmentStatus(ctx, o.env, names);
        if (o.json === true) {
          process.stdout.write(`${JSON.stringify(ctx.redactor.deep({ kind: 'hashiship.status', environment: o.env, jobs: rows }), null, 2)}\n`);
        } else if (rows.length === 0) process.stdout.write(`no jobs owned by hashiship in ${o.env}\n`);
        else process.stdout.write(formatStatus(rows));
      } catch (err) {
        const e = describeError(err, redactorFromEnv(process.env));
        process.stderr.write(e.text);
        setExit(cmd, e.exitCode);
      }
    });
}
