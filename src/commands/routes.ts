/**
 * `hashiship routes --env <env> [services…]`: Fabio's live routing table beside
 * the one the environment's specs (and canary weight keys) expect. Exit 0 when
 * they agree, 6 when they differ.
 */
import type { Command } from 'commander';
import { setExit } from './common.js';

export function registerRoutes(program: Command): void {
  program
    .command('routes')
    .description("Fabio's live routes beside the expected ones (exit 6 when they differ)")
    .requiredOption('--env <name>', 'environment')
    .argument('[services...]', 'only these services (default: every service of the environment)')
    .option('--fabio <url>', "Fabio's UI/API address (HASHISHIP_FABIO_ADDR)", process.env['HASHISHIP_FABIO_ADDR'] ?? 'http://127.0.0.1:9998')
    .option('--json', 'print one JSON document')
    .action(async (names: string[], o: { env: string; fabio: string; json?: boolean }, cmd: Command) => {
      const [{ resolveConfig }, { inputsFromSpecs }, { fabioApi }, { routesReport }, { ExitCode }] = await Promise.all([
        import('../config/index.js'),
        import('../deploy/inputs.js'),
        import('../fabio/routes.js'),
        import('../fabio/table.js'),
        import('../errors.js'),
      ]);
      const config = resolveConfig({ env: process.env });
      const set = await inputsFromSpecs(o.env, names);
      const report = await routesReport(config.consul, fabioApi(o.fabio), set.inputs.map((i) => i.job));
      if (o.json === true) {
        process.stdout.write(`${JSON.stringify({ kind: 'hashiship.routes', environment: o.env, ...report }, null, 2)}\n`);
      } else if (report.expected.length === 0) process.stdout.write(`no routed services in ${o.env}\n`);
      else process.stdout.write(`${report.lines.join('\n')}\n`);
      setExit(cmd, report.differences.length === 0 ? ExitCode.ok : ExitCode.gate);
    });
}
