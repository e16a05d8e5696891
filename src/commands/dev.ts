/**
 * `hashiship dev up|down|status|env`: the local real stack.
 */
import type { Command } from 'commander';
import { components } from '../stack/components.js';
import { ensureTools } from '../stack/install.js';
import { down, envScript, status, up, type StackOptions } from '../stack/stack.js';
import { jdk, skopeo, testTools } from '../stack/versions.js';
import { registerDevCluster } from './dev-cluster.js';
import { run, type RunContext } from './runner.js';

function stackOptions(c: RunContext<unknown>): StackOptions {
  const stateDir = c.env['HASHISHIP_STACK_DIR'];
  return {
    cacheDir: c.config.cacheDir,
    ...(stateDir === undefined || stateDir === '' ? {} : { stateDir }),
    log: c.log,
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
    .action(
      run(async (c: RunContext<unknown>) => {
        const r = await up(stackOptions(c));
        c.out(`stack up in ${r.seconds.toFixed(1)} s (started: ${r.started.join(', ') || 'none'}; reused: ${r.reused.join(', ') || 'none'})\n`);
      }),
    );

  dev
    .command('install')
    .description('install (first time: build from the Go module proxy) every pinned binary, start nothing')
    .option('--test-tools', 'also the tools the test suite needs (tflint)')
    .action(
      run(async (c: RunContext<{ testTools?: boolean }>) => {
        const o = c.opts;
        const opts = stackOptions(c);
        const tools = [...new Set(components.map((x) => x.tool)), skopeo, jdk, ...(o.testTools === true ? testTools : [])];
        const paths = await ensureTools(tools, {
          cacheDir: opts.cacheDir,
          ...(opts.log === undefined ? {} : { log: opts.log }),
        });
        for (const [name, path] of Object.entries(paths)) c.out(`${name}\t${path}\n`);
      }),
    );

  dev
    .command('down')
    .description('stop the components this stack started (by pid)')
    .action(
      run(async (c: RunContext<unknown>) => {
        const r = await down(stackOptions(c));
        c.out(`stopped: ${r.stopped.join(', ') || 'nothing'}\n`);
      }),
    );

  dev
    .command('status')
    .description('components, versions, addresses and health')
    .option('--json', 'one JSON document')
    .action(
      run(async (c: RunContext<{ json?: boolean }>) => {
        const o = c.opts;
        const rows = await status(stackOptions(c));
        if (o.json === true) {
          c.out(`${JSON.stringify(rows, null, 2)}\n`);
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
          for (const row of table)
            c.out(
              `${row
                .map((cell, i) => cell.padEnd(widths[i]!))
                .join('  ')
                .trimEnd()}\n`,
            );
        }
        return rows.some((r) => !r.healthy) ? 2 : 0;
      }),
    );

  dev
    .command('env')
    .description('shell export lines: eval "$(hashiship dev env)"')
    .action(
      run((c: RunContext<unknown>) => {
        c.out(envScript(stackOptions(c)));
      }),
    );

  registerDevCluster(dev);
}
