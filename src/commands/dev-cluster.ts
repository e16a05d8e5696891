/**
 * `hashiship dev cluster up|down|status|env|stop|start`: a real multi-node Consul +
 * Nomad cluster on loopback addresses (see src/stack/cluster.ts), and `dev cluster
 * vault up|stop|restart|down`, a non-dev Vault server beside it (src/cluster/vault.ts).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveConfig } from '../config/index.js';
import { devVault, devVaultDir, devVaultDown, devVaultStop, devVaultUp } from '../cluster/vault.js';
import { clusterDown, clusterEnv, clusterStatus, clusterUp, setGossipKey, startNode, stopNode, wipeNode, type ClusterOptions } from '../stack/cluster.js';
import { cachedPath } from '../stack/install.js';
import { vault as vaultTool } from '../stack/versions.js';
import { printingLogger, setExit } from './common.js';

function clusterOptions(cmd: Command): ClusterOptions {
  const config = resolveConfig({ env: process.env });
  const stateDir = process.env['HASHISHIP_CLUSTER_DIR'];
  const ndjson = cmd.optsWithGlobals<{ events?: string }>().events === 'ndjson';
  return {
    cacheDir: config.cacheDir,
    ...(stateDir === undefined || stateDir === '' ? {} : { stateDir }),
    log: printingLogger({ ndjson }),
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
    .option('--servers <n>', 'Consul and Nomad servers (1-9)', (v) => Number(v))
    .option('--clients <n>', 'Nomad clients with Consul client agents (1-9)', (v) => Number(v))
    .option('--acl', 'ACLs on (default deny); each node reads its gossip keys and agent tokens from --secrets through the boot script')
    .option('--secrets <dir>', 'with --acl: the secret store (files <dir>/consul/agent-token, …); default <state>/secrets')
    .action(async (o: { servers?: number; clients?: number; acl?: boolean; secrets?: string }, cmd: Command) => {
      const r = await clusterUp({
        ...clusterOptions(cmd),
        ...(o.servers === undefined ? {} : { servers: o.servers }),
        ...(o.clients === undefined ? {} : { clients: o.clients }),
        ...(o.acl === true ? { acl: true } : {}),
        ...(o.secrets === undefined ? {} : { secrets: resolve(o.secrets) }),
      });
      process.stdout.write(`cluster up in ${r.seconds.toFixed(1)} s: ${r.nodes.map((n) => `${n.name}=${n.address}`).join(' ')}\n`);
    });

  cluster
    .command('down')
    .description('stop the agents this cluster started, remove their tasks and data')
    .action(async (_o, cmd: Command) => {
      const r = await clusterDown(clusterOptions(cmd));
      const v = (await devVaultDown(clusterOptions(cmd))) ? [`${devVault.name}/vault`] : [];
      process.stdout.write(`stopped: ${[...r.stopped, ...v].join(', ') || 'nothing'}\n`);
    });

  cluster
    .command('status')
    .description('every agent, its address and whether it runs (exit 2 when one does not)')
    .option('--json', 'one JSON document')
    .action((o: { json?: boolean }, cmd: Command) => {
      const rows = clusterStatus(clusterOptions(cmd));
      if (o.json === true) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else for (const r of rows) process.stdout.write(`${r.node}\t${r.agent}\t${r.address}\t${r.running ? `running (pid ${r.pid})` : 'stopped'}\n`);
      if (rows.length === 0 || rows.some((r) => !r.running)) setExit(cmd, 2);
    });

  cluster
    .command('env')
    .description('shell export lines pointing nomad and consul at a server: eval "$(hashiship dev cluster env)"')
    .option('--server <node>', 'which server', 'server-1')
    .action((o: { server: string }, cmd: Command) => {
      const env = clusterEnv(clusterOptions(cmd), o.server);
      process.stdout.write(`export NOMAD_ADDR=${env['NOMAD_ADDR']}\nexport CONSUL_HTTP_ADDR=${env['CONSUL_HTTP_ADDR']}\nexport PATH=${env['HASHISHIP_CLUSTER_BIN']}:"$PATH"\n`);
      const o2 = clusterOptions(cmd);
      if (existsSync(devVaultDir(o2))) process.stdout.write(`export VAULT_ADDR=${devVault.api}\nexport PATH=${dirname(cachedPath(o2.cacheDir, vaultTool))}:"$PATH"\n`);
    });

  cluster
    .command('stop <node>')
    .description("stop one node's agents (SIGTERM; --kill: SIGKILL, as a machine that loses power)")
    .option('--kill', 'SIGKILL')
    .action(async (node: string, o: { kill?: boolean }, cmd: Command) => {
      await stopNode(clusterOptions(cmd), node, o.kill === true);
      process.stdout.write(`stopped ${node}\n`);
    });

  cluster
    .command('start <node>')
    .description("start a stopped node's agents with their data and wait until it has rejoined")
    .action(async (node: string, _o, cmd: Command) => {
      await startNode(clusterOptions(cmd), node);
      process.stdout.write(`started ${node}\n`);
    });

  cluster
    .command('gossip-key')
    .description('read a gossip key on stdin and keep it for nodes that start from empty data (the secret store on a real cluster); never printed')
    .action(async (_o, cmd: Command) => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      setGossipKey(clusterOptions(cmd), Buffer.concat(chunks).toString('utf8'));
      process.stdout.write('gossip key recorded for new nodes\n');
    });

  cluster
    .command('wipe <node>')
    .description("delete a stopped node's Consul and Nomad data, as a machine whose disk is lost (start makes it a new node)")
    .action(async (node: string, _o, cmd: Command) => {
      await wipeNode(clusterOptions(cmd), node);
      process.stdout.write(`wiped ${node}\n`);
    });

  const vault = cluster
    .command('vault')
    .description(`a non-dev Vault server (raft storage, Shamir seal) on ${devVault.api}: starts uninitialised, sealed after every restart`);

  vault
    .command('up')
    .alias('start')
    .description('start it with its data (sealed) unless it runs, and wait until its API answers')
    .action(async (_o, cmd: Command) => {
      const r = await devVaultUp(clusterOptions(cmd));
      process.stdout.write(r.started ? `${devVault.name} started in ${r.seconds.toFixed(1)} s: ${devVault.api} (sealed)\n` : `${devVault.name} already running: ${devVault.api}\n`);
    });

  vault
    .command('stop')
    .description('stop it, keeping its data (--kill: SIGKILL)')
    .option('--kill', 'SIGKILL')
    .action(async (o: { kill?: boolean }, cmd: Command) => {
      const stopped = await devVaultStop(clusterOptions(cmd), o.kill === true);
      process.stdout.write(stopped ? `stopped ${devVault.name}\n` : `${devVault.name} was not running\n`);
    });

  vault
    .command('restart')
    .description('stop and start it: it comes back sealed, as after a reboot')
    .action(async (_o, cmd: Command) => {
      await devVaultStop(clusterOptions(cmd));
      const r = await devVaultUp(clusterOptions(cmd));
      process.stdout.write(`${devVault.name} restarted in ${r.seconds.toFixed(1)} s (sealed)\n`);
    });

  vault
    .command('down')
    .description('stop it and delete its data')
    .action(async (_o, cmd: Command) => {
      const stopped = await devVaultDown(clusterOptions(cmd));
      process.stdout.write(stopped ? `stopped ${devVault.name}, data deleted\n` : `${devVault.name} was not running; data deleted\n`);
    });
}
