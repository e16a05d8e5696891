/**
 * `hashiship dev cluster up|down|status|env|stop|start`: a real multi-node Consul +
 * Nomad cluster on loopback addresses (see src/devcluster/cluster.ts), and `dev cluster
 * vault up|stop|restart|down`, a non-dev Vault server beside it (src/devcluster/vault.ts).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { devVault, devVaultDir, devVaultDown, devVaultStop, devVaultUp } from '../devcluster/vault.js';
import { clusterDown, clusterEnv, clusterStatus, clusterUp, setGossipKey, startNode, stopNode, wipeNode, type ClusterOptions } from '../devcluster/cluster.js';
import { InputError } from '../errors.js';
import { cachedPath } from '../stack/install.js';
import { vault as vaultTool } from '../stack/versions.js';
import { run, type RunContext } from './runner.js';

function clusterOptions(c: RunContext<unknown>): ClusterOptions {
  const stateDir = c.env['HASHISHIP_CLUSTER_DIR'];
  return {
    cacheDir: c.config.cacheDir,
    ...(stateDir === undefined || stateDir === '' ? {} : { stateDir }),
    log: c.log,
  };
}

/** A node count flag, 1 to 9 (bad input, exit 1, before anything starts). */
function nodeCount(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > 9) throw new InputError([{ subject: `${flag}=${JSON.stringify(v)}`, message: 'expected a whole number from 1 to 9' }]);
    return n;
  };
}

/** Register `dev cluster` and its subcommands under the `dev` command. */
export function registerDevCluster(dev: Command): void {
  const cluster = dev
    .command('cluster')
    .description('a multi-node Consul + Nomad cluster on 127.0.0.11… (servers) and 127.0.0.21… (clients); state in $HASHISHIP_CLUSTER_DIR');

  cluster
    .command('up')
    .description('start every node that is not running and wait for leaders and ready clients')
    .option('--servers <n>', 'Consul and Nomad servers (1-9)', nodeCount('--servers'))
    .option('--clients <n>', 'Nomad clients with Consul client agents (1-9)', nodeCount('--clients'))
    .option('--acl', 'ACLs on (default deny); each node reads its gossip keys and agent tokens from --secrets through the boot script')
    .option('--secrets <dir>', 'with --acl: the secret store (files <dir>/consul/agent-token, …); default <state>/secrets')
    .action(
      run(async (c: RunContext<{ servers?: number; clients?: number; acl?: boolean; secrets?: string }>) => {
        const o = c.opts;
        const r = await clusterUp({
          ...clusterOptions(c),
          ...(o.servers === undefined ? {} : { servers: o.servers }),
          ...(o.clients === undefined ? {} : { clients: o.clients }),
          ...(o.acl === true ? { acl: true } : {}),
          ...(o.secrets === undefined ? {} : { secrets: resolve(o.secrets) }),
        });
        c.out(`cluster up in ${r.seconds.toFixed(1)} s: ${r.nodes.map((n) => `${n.name}=${n.address}`).join(' ')}\n`);
      }),
    );

  cluster
    .command('down')
    .description('stop the agents this cluster started, remove their tasks and data')
    .action(
      run(async (c: RunContext<unknown>) => {
        const r = await clusterDown(clusterOptions(c));
        const v = (await devVaultDown(clusterOptions(c))) ? [`${devVault.name}/vault`] : [];
        c.out(`stopped: ${[...r.stopped, ...v].join(', ') || 'nothing'}\n`);
      }),
    );

  cluster
    .command('status')
    .description('every agent, its address and whether it runs (exit 2 when one does not)')
    .option('--json', 'one JSON document')
    .action(
      run((c: RunContext<{ json?: boolean }>) => {
        const o = c.opts;
        const rows = clusterStatus(clusterOptions(c));
        if (o.json === true) c.out(`${JSON.stringify(rows, null, 2)}\n`);
        else for (const r of rows) c.out(`${r.node}\t${r.agent}\t${r.address}\t${r.running ? `running (pid ${r.pid})` : 'stopped'}\n`);
        return rows.length === 0 || rows.some((r) => !r.running) ? 2 : 0;
      }),
    );

  cluster
    .command('env')
    .description('shell export lines pointing nomad and consul at a server: eval "$(hashiship dev cluster env)"')
    .option('--server <node>', 'which server', 'server-1')
    .action(
      run((c: RunContext<{ server: string }>) => {
        const o = c.opts;
        const env = clusterEnv(clusterOptions(c), o.server);
        c.out(
          `export NOMAD_ADDR=${env['NOMAD_ADDR']}\nexport CONSUL_HTTP_ADDR=${env['CONSUL_HTTP_ADDR']}\nexport PATH=${env['HASHISHIP_CLUSTER_BIN']}:"$PATH"\n`,
        );
        const o2 = clusterOptions(c);
        if (existsSync(devVaultDir(o2))) c.out(`export VAULT_ADDR=${devVault.api}\nexport PATH=${dirname(cachedPath(o2.cacheDir, vaultTool))}:"$PATH"\n`);
      }),
    );

  cluster
    .command('stop <node>')
    .description("stop one node's agents (SIGTERM; --kill: SIGKILL, as a machine that loses power)")
    .option('--kill', 'SIGKILL')
    .action(
      run(async (c: RunContext<{ kill?: boolean }>, node: string) => {
        const o = c.opts;
        await stopNode(clusterOptions(c), node, o.kill === true);
        c.out(`stopped ${node}\n`);
      }),
    );

  cluster
    .command('start <node>')
    .description("start a stopped node's agents with their data and wait until it has rejoined")
    .action(
      run(async (c: RunContext<unknown>, node: string) => {
        await startNode(clusterOptions(c), node);
        c.out(`started ${node}\n`);
      }),
    );

  cluster
    .command('gossip-key')
    .description('read a gossip key on stdin and keep it for nodes that start from empty data (the secret store on a real cluster); never printed')
    .action(
      run(async (c: RunContext<unknown>) => {
        const chunks: Buffer[] = [];
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
        setGossipKey(clusterOptions(c), Buffer.concat(chunks).toString('utf8'));
        c.out('gossip key recorded for new nodes\n');
      }),
    );

  cluster
    .command('wipe <node>')
    .description("delete a stopped node's Consul and Nomad data, as a machine whose disk is lost (start makes it a new node)")
    .action(
      run(async (c: RunContext<unknown>, node: string) => {
        await wipeNode(clusterOptions(c), node);
        c.out(`wiped ${node}\n`);
      }),
    );

  const vault = cluster
    .command('vault')
    .description(`a non-dev Vault server (raft storage, Shamir seal) on ${devVault.api}: starts uninitialised, sealed after every restart`);

  vault
    .command('up')
    .alias('start')
    .description('start it with its data (sealed) unless it runs, and wait until its API answers')
    .action(
      run(async (c: RunContext<unknown>) => {
        const r = await devVaultUp(clusterOptions(c));
        c.out(
          r.started
            ? `${devVault.name} started in ${r.seconds.toFixed(1)} s: ${devVault.api} (sealed)\n`
            : `${devVault.name} already running: ${devVault.api}\n`,
        );
      }),
    );

  vault
    .command('stop')
    .description('stop it, keeping its data (--kill: SIGKILL)')
    .option('--kill', 'SIGKILL')
    .action(
      run(async (c: RunContext<{ kill?: boolean }>) => {
        const o = c.opts;
        const stopped = await devVaultStop(clusterOptions(c), o.kill === true);
        c.out(stopped ? `stopped ${devVault.name}\n` : `${devVault.name} was not running\n`);
      }),
    );

  vault
    .command('restart')
    .description('stop and start it: it comes back sealed, as after a reboot')
    .action(
      run(async (c: RunContext<unknown>) => {
        await devVaultStop(clusterOptions(c));
        const r = await devVaultUp(clusterOptions(c));
        c.out(`${devVault.name} restarted in ${r.seconds.toFixed(1)} s (sealed)\n`);
      }),
    );

  vault
    .command('down')
    .description('stop it and delete its data')
    .action(
      run(async (c: RunContext<unknown>) => {
        const stopped = await devVaultDown(clusterOptions(c));
        c.out(stopped ? `stopped ${devVault.name}, data deleted\n` : `${devVault.name} was not running; data deleted\n`);
      }),
    );
}
