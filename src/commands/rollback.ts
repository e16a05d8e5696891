/**
 * `hashiship rollback --env <env> <service>`: restore the previous release as a
 * whole (weight rule removed, job version reverted, canaries promoted, record
 * written). Exit 0 restored, 6 nothing to roll back or lock held, 3/4 the
 * restored release failed, 2 server trouble.
 */
import type { Command } from 'commander';
import { fabioApi } from '../fabio/routes.js';
import { rollback } from '../release/rollback.js';
import { checkNames } from './flags.js';
import { releaseOptions } from './promote.js';
import { run, type RunContext } from './runner.js';

interface RollbackFlags {
  readonly env: string;
  readonly services: string;
  readonly environments: string;
  readonly json?: boolean;
}

/** Register `hashiship rollback`. */
export function registerRollback(program: Command): void {
  releaseOptions(
    program
      .command('rollback')
      .description('restore the previous release of a service (image digest, job version; weight rule removed)')
      .requiredOption('--env <name>', 'environment')
      .argument('<service>', 'the service'),
  ).action(
    run(async (c: RunContext<RollbackFlags>, service: string) => {
      const o = c.opts;
      checkNames(o.env, [service], 'service');
      const r = await rollback(c.config, {
        environment: o.env,
        service,
        dirs: { services: o.services, environments: o.environments },
        fabio: fabioApi(c.config.fabio.api),
        proxy: c.config.fabio.proxy,
        log: c.log,
        clients: await c.clients(),
      });
      if (o.json === true) {
        c.out(
          `${JSON.stringify({ kind: 'hashiship.rollback', environment: o.env, service, from: r.from, to: r.to, record: r.record, jobVersion: r.jobVersion }, null, 2)}\n`,
        );
      } else {
        c.out(
          `${service} in ${o.env}: rolled back from release #${r.from.seq} (${r.from.digest}) to #${r.to.seq}'s ${r.to.digest}; job version ${r.jobVersion}, release #${r.record.seq} recorded\n`,
        );
      }
    }),
  );
}
