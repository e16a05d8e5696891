/**
 * `hashiship routes --env <env> [services…]`: Fabio's live routing table beside
 * the one the environment's specs (and canary weight keys) expect. Exit 0 when
 * they agree, 6 when they differ.
 */
import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { serverFlags } from './flags.js';
import { run, type RunContext } from './runner.js';

export function registerRoutes(program: Command): void {
  serverFlags(
    program
      .command('routes')
      .description("Fabio's live routes beside the expected ones (exit 6 when they differ)")
      .requiredOption('--env <name>', 'environment')
      .argument('[services...]', 'only these services (default: every service of the environment)')
      .option('--json', 'print one JSON document'),
    ['consul', 'fabio'],
  ).action(
    run(async (c: RunContext<{ env: string; json?: boolean }>, names: string[]) => {
      const [{ inputsFromSpecs }, { fabioApi }, { routesReport }] = await Promise.all([
        import('../deploy/inputs.js'),
        import('../fabio/routes.js'),
        import('../fabio/table.js'),
      ]);
      const { env, json } = c.opts;
      const set = await inputsFromSpecs(env, names);
      const report = await routesReport(
        (await c.clients()).consul,
        fabioApi(c.config.fabio.api),
        set.inputs.map((i) => i.job),
      );
      if (json === true) c.out(`${JSON.stringify({ kind: 'hashiship.routes', environment: env, ...report }, null, 2)}\n`);
      else if (report.expected.length === 0) c.out(`no routed services in ${env}\n`);
      else c.out(`${report.lines.join('\n')}\n`);
      return report.differences.length === 0 ? ExitCode.ok : ExitCode.gate;
    }),
  );
}
