/**
 * `hashiship register --env <env> [--dry-run] [--json]`: make the local Consul
 * agent's services match the environment's `kind: external` specs — register
 * new and changed ones, leave unchanged ones alone, deregister the ones
 * hashiship registered before that the specs no longer list. Exit 0 (also when
 * nothing changed), 1 bad input, 2 Consul refused or unreachable, 6 an ID is
 * taken by a registration hashiship does not own.
 */
import type { Command } from 'commander';
import { DefaultPaths } from '../service-spec/files.js';
import { serverFlags } from './flags.js';
import { run, type RunContext } from './runner.js';

/** The flags of a Consul sync command (`register`, `kv sync`). */
export interface SyncFlags {
  readonly env: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly services: string;
  readonly environments: string;
}

/** Add the flags every Consul sync command takes. */
export function syncOptions(cmd: Command, dryRunHelp: string): Command {
  return serverFlags(
    cmd
      .requiredOption('--env <name>', 'environment')
      .option('--dry-run', dryRunHelp)
      .option('--json', 'print one JSON document')
      .option('--services <dir>', 'service specs', DefaultPaths.services)
      .option('--environments <dir>', 'environment files', DefaultPaths.environments),
    ['consul'],
  );
}

export function registerRegister(program: Command): void {
  syncOptions(
    program.command('register').description("sync Consul's services with the environment's external service specs (kind: external)"),
    'print the changes (add/update/remove and the fields that differ), write nothing',
  ).action(
    run(async (c: RunContext<SyncFlags>) => {
      const o = c.opts;
      const [{ readSpecFiles }, { loadSet, resolveExternals }, { describeServiceSync }] = await Promise.all([
        import('../service-spec/files.js'),
        import('../service-spec/load.js'),
        import('../consul/services.js'),
      ]);
      const externals = resolveExternals(loadSet(await readSpecFiles([o.services, o.environments])), o.env);
      const { consul } = await c.clients();
      const result = await consul.services.sync(o.env, externals, {
        dryRun: o.dryRun === true,
        ...(o.json === true ? {} : { log: c.log }),
      });
      if (o.json === true) {
        const changes = result.changes.map(({ registration: _r, ...x }) => x);
        c.out(`${JSON.stringify({ kind: 'hashiship.register', ...result, changes }, null, 2)}\n`);
      } else c.out(`${describeServiceSync(result).join('\n')}\n`);
    }),
  );
}
