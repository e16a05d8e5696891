/**
 * `hashiship maintenance on|off --service <id> | --node [--reason <text>]`:
 * Consul maintenance mode for one service instance of the local agent, or for
 * the agent's node. Idempotent; exit 1 for a bad mode or target, 2 when the
 * agent refuses (unknown service ID, ACL).
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { printingLogger } from './common.js';
import { serverFlags } from './flags.js';
import { run, type RunContext } from './runner.js';

export function registerMaintenance(program: Command): void {
  serverFlags(
    program
      .command('maintenance')
      .description('turn Consul maintenance mode on or off for a service instance (--service <id>) or the node (--node)')
      .argument('<mode>', 'on or off')
      .option('--service <id>', 'service ID registered on the local agent (e.g. postgres-qa)')
      .option('--node', "the agent's node")
      .option('--reason <text>', "shown in the maintenance check's notes", 'hashiship'),
    ['consul'],
  ).action(
    run(async (c: RunContext<{ service?: string; node?: boolean; reason: string }>, mode: string) => {
      const o = c.opts;
      const problems = [];
      if (mode !== 'on' && mode !== 'off') problems.push({ subject: '<mode>', message: `\`${mode}\` is not on or off` });
      if ((o.service === undefined) === (o.node !== true))
        problems.push({ subject: '--service/--node', message: 'give exactly one of --service <id> or --node' });
      if (o.service === '') problems.push({ subject: '--service', message: 'expected a service ID' });
      if (problems.length > 0) throw new InputError(problems);
      const { consul } = await c.clients();
      await consul.maintenance.set(o.service !== undefined ? { serviceId: o.service } : { node: true }, mode === 'on', {
        reason: o.reason,
        log: printingLogger({ write: (s) => c.out(c.redactor.text(s)) }),
      });
    }),
  );
}
