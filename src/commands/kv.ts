/**
 * `hashiship kv sync --env <env> [--dry-run] [--json]`: write the `config:` maps
 * of the environment's specs to Consul KV (`config/<service>/<key>`), each write
 * a check-and-set on the index read. Exit 6 when a key changed between the read
 * and the write (nothing of that key is overwritten), 2 when Consul refuses.
 */
import type { Command } from 'commander';
import { DefaultPaths } from '../spec/files.js';
import { printingLogger } from './common.js';

export function registerKv(program: Command): void {
  const kv = program.command('kv').description('service configuration in Consul KV');
  kv.command('sync')
    .description('write the specs\' config maps to Consul KV under config/<service>/ with check-and-set')
    .requiredOption('--env <name>', 'environment')
    .option('--dry-run', 'print the changes, write nothing')
    .option('--json', 'print one JSON document')
    .option('--services <dir>', 'service specs', DefaultPaths.services)
    .option('--environments <dir>', 'environment files', DefaultPaths.environments)
    .action(async (o: { env: string; dryRun?: boolean; json?: boolean; services: string; environments: string }) => {
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
      const result = await syncConfig(config.consul, wanted, { dryRun: o.dryRun === true, ...(o.json === true ? {} : { log: printingLogger() }) });
      if (o.json === true) process.stdout.write(`${JSON.stringify({ kind: 'hashiship.kv.sync', environment: o.env, ...result }, null, 2)}\n`);
      else process.stdout.write(`${describeConfigSync(result, o.env).join('\n')}\n`);
    });
}
