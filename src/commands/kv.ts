/**
 * `hashiship kv sync --env <env> [--dry-run] [--json]`: write the `config:` maps
 * of the environment's specs to Consul KV (`config/<service>/<key>`), each write
 * a check-and-set on the index read. Exit 6 when a key changed between the read
 * and the write (nothing of that key is overwritten), 2 when Consul refuses.
 */
import type { Command } from 'commander';
import { run, type RunContext } from './runner.js';
import { syncOptions, type SyncFlags } from './register.js';

export function registerKv(program: Command): void {
  const kv = program.command('kv').description('service configuration in Consul KV');
  syncOptions(
    kv.command('sync').description("write the specs' config maps to Consul KV under config/<service>/ with check-and-set"),
    'print the changes, write nothing',
  ).action(
    run(async (c: RunContext<SyncFlags>) => {
      const o = c.opts;
      const [{ readSpecFiles }, { loadSet, resolveEnvironment, resolveExternals }, { describeConfigSync }] = await Promise.all([
        import('../service-spec/files.js'),
        import('../service-spec/load.js'),
        import('../consul/config.js'),
      ]);
      const set = loadSet(await readSpecFiles([o.services, o.environments]));
      const wanted = [
        ...resolveEnvironment(set, o.env).map((r) => ({ service: r.spec.name, config: r.spec.config ?? {} })),
        ...resolveExternals(set, o.env).map((r) => ({ service: r.spec.name, config: r.spec.config ?? {} })),
      ];
      const { consul } = await c.clients();
      const result = await consul.serviceConfig.sync(wanted, { environment: o.env, dryRun: o.dryRun === true, ...(o.json === true ? {} : { log: c.log }) });
      if (o.json === true) c.out(`${JSON.stringify({ kind: 'hashiship.kv.sync', environment: o.env, ...result }, null, 2)}\n`);
      else c.out(`${describeConfigSync(result, o.env).join('\n')}\n`);
    }),
  );
}
