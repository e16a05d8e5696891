/**
 * `hashiship dev up|down|status|env`: the local real stack.
 */
import type { Command } from 'commander';
import { resolveConfig } from '../config/index.js';
import { components } from '../stack/components.js';
import { ensureTools } from '../stack/install.js';
import { down, envScript, status, up, type StackOptions } from '../stack/stack.js';
import { skopeo, testTools } from '../stack/versions.js';
import { printingLogger, setExit } from './common.js';
import { registerDevCluster } from './dev-cluster.js';

function stackOptions(cmd: Command): StackOptions {
  const config = resolveConfig({ env: process.env });
  const stateDir = process.env['HASHISHIP_STACK_DIR'];
  const json = cmd.optsWithGlobals<{ events?: string }>().events === 'ndjson';
  return {
    cacheDir: config.cacheDir,
    ...(stateDir === undefined || stateDir === '' ? {} : { stateDir }),
    log: printingLogger({ ndjson: json }),
  };
}

export function registerDev(program: Command): void {
  const dev = program
    .command('dev')
    .description('the local real stack: Consul, Nomad, Vault, Fabio and two registries on loopback')
    .option('--events <format>', 'progress events as "ndjson" on stderr');

  dev
    .command('up')
    .description('install (first time: build) and start the stack; reuses running components')
    .action(async (_o, cmd: Command) => {
      const r = await up(stackOptions(cmd));
      process.stdout.write(
        `stack up in ${r.seconds.toFixed(1)} s (started: ${r.started.join(', ') || 'none'}; reused: ${r.reused.join(', ') || 'none'})\n`,
      );
    });

  dev
    .command('install')
    .description('install (first time: build from the Go module proxy) every pinned binary, start nothing')
    .option('--test-tools', 'also the tools the test suite needs (tflint)')
    .action(async (o: { testTools?: boolean }, cmd: Command) => {
      const opts = stackOptions(cmd);
      const tools = [...new Set(components.map((c) => c.tool)), skopeo, ...(o.testTools === true ? testTools : [])];
      const paths = await ensureTools(tools, {
        cacheDir: opts.cacheDir,
        ...(opts.log === undefined ? {} : { log: opts.log }),
      });
      for (const [name, path] of Object.entries(paths)) process.stdout.write(`${name}\t${path}\n`);
    });

  dev
    .command('down')
    .description('stop the components this stack started (by pid)')
    .action(async (_o, cmd: Command) => {
      const r = await down(stackOptions(cmd));
      process.stdout.write(`stopped: ${r.stopped.join(', ') || 'nothing'}\n`);
    });

  dev
    .command('status')
    .description('components, versions, addresses and health')
    .option('--json', 'one JSON document')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const rows = await status(stackOptions(cmd));
      if (o.json === true) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      } else {
        const table = [
          ['COMPONENT', 'VERSION', 'ADDRESS', 'HEALTH', 'OWNER'],
          ...rows.map((r) => [
            r.component,
            r.version ?? '-',
            r.address,
            r.healthy ? 'healthy' : 'down',
            r.pid === undefined ? r.owner : `${r.owner} (pid ${r.pid})`,
          ]),
        ];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
        for (const row of table) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
      }
      if (rows.some((r) => !r.healthy)) setExit(cmd, 2);
    });

  dev
    .command('env')
    .description('shell export lines: eval "$(hashiship dev env)"')
    .action((_o, cmd: Command) => {
      process.stdout.write(envScript(stackOptions(cmd)));
    });

  registerDevCluster(dev);
}
