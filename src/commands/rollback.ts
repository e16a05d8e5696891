/**
 * `hashiship rollback --env <env> <service>`: restore the previous release as a
 * whole (weight rule removed, job version reverted, canaries promoted, record
 * written). Exit 0 restored, 6 nothing to roll back or lock held, 3/4 the
 * restored release failed, 2 server trouble.
 */
import type { Command } from 'commander';
import { resolveConfig } from '../config/index.js';
import { describeError, redactorFromEnv } from '../deploy/cli-support.js';
import { Diagnosed } from '../deploy/deploy.js';
import { exitCodeOf } from '../errors.js';
import { fabioApi } from '../fabio/routes.js';
import { rollback } from '../promote/rollback.js';
import { printingLogger, setExit } from './common.js';
import { releaseOptions } from './promote.js';

/** Register `hashiship rollback`. */
export function registerRollback(program: Command): void {
  releaseOptions(
    program
      .command('rollback')
      .description('restore the previous release of a service (image digest, job version; weight rule removed)')
      .requiredOption('--env <name>', 'environment')
      .argument('<service>', 'the service'),
  )
    .action(async (service: string, o: { env: string; services: string; environments: string; fabio: string; fabioProxy: string; json?: boolean; events?: string }, cmd: Command) => {
      const redactor = redactorFromEnv(process.env);
      try {
        const config = resolveConfig({ env: process.env });
        const r = await rollback(config, {
          environment: o.env,
          service,
          dirs: { services: o.services, environments: o.environments },
          fabio: fabioApi(o.fabio),
          proxy: o.fabioProxy,
          log: printingLogger({ ndjson: o.events === 'ndjson' }),
        });
        if (o.json === true) {
          process.stdout.write(`${JSON.stringify({ kind: 'hashiship.rollback', environment: o.env, service, from: r.from, to: r.to, record: r.record, jobVersion: r.jobVersion }, null, 2)}\n`);
        } else {
          process.stdout.write(
            `${service} in ${o.env}: rolled back from release #${r.from.seq} (${r.from.digest}) to #${r.to.seq}'s ${r.to.digest}; job version ${r.jobVersion}, release #${r.record.seq} recorded\n`,
          );
        }
        setExit(cmd, 0);
      } catch (err) {
        const e = describeError(err instanceof Diagnosed ? err.error : err, redactor);
        process.stderr.write(e.text);
        if (err instanceof Diagnosed) process.stderr.write(`${err.lines.join('\n')}\n`);
        setExit(cmd, err instanceof Diagnosed ? exitCodeOf(err.error) : e.exitCode);
      }
    });
}
