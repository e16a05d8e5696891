/**
 * `hashiship kv sync --env <env> [--dry-run] [--json]`: write the `config:` maps
 * of the environment's specs to Consul KV (`config/<service>/<key>`), each write
 * a check-and-set on the index read. Exit 6 when a key changed between the read
 * and the write (nothing of that key is overwritten), 2 when Consul refuses.
 */
import type { Command } from 'commander';
import { printingLogger } from './common.js';
import { syncOptions, type SyncFlags } from './register.js';

export function registerKv(program: Command): void {
  const kv = program.command('kv').description('service configuration in Consul KV');
  syncOptions(
    kv.command('sync').description("write the specs' config maps to Consul KV under config/<service>/ with check-and-set"),
    'print the changes, write nothing',
  ).action(async (o: SyncFlags) => {
    const [{ resolveConfig }, { readSpecFiles }, { loadSet, resolveEnvironment, resolveExternals }, { syncConfig, describeConfigSync }] = await Promise.all([
      import('../config/index.js'),
      import('../spec/files.js'),
      import('../spec/load.js'),
      import('../consul/config.js'),
    ]);
    const set = loadSet(await readSpecFiles([o.services, o.environments]));
    const wanted = [
      ...resolveEnvironment(set, o.env).map((r) => ({ service: r.spec.name, config: r.spec.config ?? {} })),
      ...resolveExternals(set, o.env).map((r) => ({ service: r.spec.name, config: r.spec.config ?? {} })),
    ];
    const config = resolveConfig({ env: process.env });
    const result = await syncConfig(config.consul, wanted, { environment: o.env, dryRun: o.dryRun === true, ...(o.json === true ? {} : { log: printingLogger() }) });
    if (o.json === true) process.stdout.write(`${JSON.stringify({ kind: 'hashiship.kv.sync', environment: o.env, ...result }, null, 2)}\n`);
    else process.stdout.write(`${describeConfigSync(result, o.env).join('\n')}\n`);
  });
}
