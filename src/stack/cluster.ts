/**
 * A real multi-node Consul + Nomad cluster on one machine: `hashiship dev cluster up`.
 *
 * Every node has its own loopback address (servers 127.0.0.11…, clients 127.0.0.21…),
 * so each agent keeps its standard ports without touching the dev stack on 127.0.0.1.
 * A node's configuration is the generated agent configuration of its role
 * ({@link agentFiles}, static join at the server addresses, TLS and ACLs off) plus a
 * small `local.hcl` beside it that moves data to the state folder and binds the
 * node's address. Every wait is bounded; a failure names the node and shows the tail
 * of its log.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentFiles } from '../agents/index.js';
import { StackError } from '../errors.js';
import { silent, type Logger } from '../log.js';
import { ensureTool } from './install.js';
import { alive, run, startDaemon, tail } from './proc.js';
import { consul as consulTool, nomad as nomadTool } from './versions.js';

/** Options of the local cluster. */
export interface ClusterOptions {
  /** Cache of built binaries (see install.ts). */
  readonly cacheDir: string;
  /** Pids, logs, configs and data of every node. @default `<cacheDir>/dev-cluster` */
  readonly stateDir?: string;
  /** Consul and Nomad servers (1–9). @default 3 */
  readonly servers?: number;
  /** Nomad clients, each with a Consul client agent (1–9). @default 2 */
  readonly clients?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: Logger;
  /** Bound on each wait (agent start, leader, node ready). @default 90000 */
  readonly timeoutMs?: number;
}

/** One machine of the cluster. */
export interface ClusterNode {
  /** `server-1`…, `client-1`…: also the Consul and Nomad node name. */
  readonly name: string;
  readonly role: 'server' | 'client';
  /** Loopback address the node binds and advertises. */
  readonly address: string;
}

/** The agents of a node. */
export type ClusterAgent = 'consul' | 'nomad';

interface StateFile {
  servers: number;
  clients: number;
  bins: { consul: string; nomad: string };
  /** The first gossip key (base64, 32 bytes) of Consul and of the Nomad servers. */
  gossipKey: string;
  pids: Record<string, Partial<Record<ClusterAgent, number>>>;
}

/** The state folder of a cluster. */
export function clusterDirOf(opts: Pick<ClusterOptions, 'cacheDir' | 'stateDir'>): string {
  return opts.stateDir ?? join(opts.cacheDir, 'dev-cluster');
}

/**
 * The nodes of a cluster of `servers` servers and `clients` clients.
 * @throws {StackError} when a count is outside 1–9.
 */
export function clusterNodes(servers: number, clients: number): readonly ClusterNode[] {
  for (const [what, n] of [['servers', servers], ['clients', clients]] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 9) throw new StackError(`cluster: --${what} must be 1–9, not ${n}`);
  }
  return [
    ...Array.from({ length: servers }, (_, i) => ({ name: `server-${i + 1}`, role: 'server' as const, address: `127.0.0.${11 + i}` })),
    ...Array.from({ length: clients }, (_, i) => ({ name: `client-${i + 1}`, role: 'client' as const, address: `127.0.0.${21 + i}` })),
  ];
}

/** HTTP addresses of a node's agents. */
export function nodeAddresses(node: ClusterNode): { readonly consul: string; readonly nomad: string } {
  return { consul: `http://${node.address}:8500`, nomad: `http://${node.address}:4646` };
}

function generated(role: 'server' | 'client', servers: readonly ClusterNode[], file: 'consul.hcl' | 'nomad.hcl'): string {
  const files = agentFiles({
    role,
    join: { kind: 'static', addresses: servers.map((s) => s.address) },
    bootstrapExpect: servers.length,
    tls: false,
    acl: false,
    rawExec: true,
    // Only the client's Fabio download uses this; the local cluster runs no Fabio.
    fabio: { sha256: '0'.repeat(64) },
  });
  const f = files.find((x) => x.path.endsWith(`/${file}`));
  if (f === undefined) throw new StackError(`cluster: agent-config has no ${file} for the ${role} role`);
  return f.content;
}

/**
 * The configuration files of a node's agents: the generated role configuration and
 * the local overrides, loaded in that order (later values win).
 */
export function nodeConfigs(node: ClusterNode, nodes: readonly ClusterNode[], dir: string, gossipKey: string): Record<ClusterAgent, { readonly base: string; readonly local: string }> {
  const servers = nodes.filter((n) => n.role === 'server');
  const nd = join(dir, node.name);
  const consulLocal = `# Local overrides for ${node.name} on one machine (hashiship dev cluster).
node_name      = "${node.name}"
data_dir       = "${join(nd, 'consul-data')}"
log_level      = "WARN"
bind_addr      = "${node.address}"
advertise_addr = "${node.address}"
client_addr    = "${node.address}"

# The first gossip key; after a rotation the keyring in data_dir wins.
encrypt = "${gossipKey}"
${
  node.role === 'server'
    ? `
# A server that comes back is a voter again after 2 s of health (default 10 s).
autopilot {
  server_stabilization_time = "2s"
}
`
    : ''
}`;
  const server = node.role === 'server';
  const nomadLocal = `# Local overrides for ${node.name} on one machine (hashiship dev cluster).
name      = "${node.name}"
data_dir  = "${join(nd, 'nomad-data')}"
log_level = "WARN"
bind_addr = "${node.address}"

advertise {
  http = "${node.address}"
  rpc  = "${node.address}"
  serf = "${node.address}"
}
${
  server
    ? `
server {
  # A dead client is noticed in about 10 s instead of about 30 s.
  min_heartbeat_ttl = "5s"
  heartbeat_grace   = "5s"

  # After a leader change, clients get this long to heartbeat (default 5m).
  failover_heartbeat_ttl = "10s"

  # The first gossip key; after a rotation the keyring in data_dir wins.
  encrypt = "${gossipKey}"
}

# A server that comes back is a voter again after 2 s of health (default 10 s).
autopilot {
  server_stabilization_time = "2s"
}
`
    : `
client {
  network_interface = "lo"

  # No cloud here (the AWS fingerprinter fails when AWS_CA_BUNDLE is set).
  options = {
    "fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"
  }
}
`
}
consul {
  address = "${node.address}:8500"
}

# No Vault in the local cluster.
vault {
  enabled = false
}
`;
  return {
    consul: { base: generated(node.role, servers, 'consul.hcl'), local: consulLocal },
    nomad: { base: generated(node.role, servers, 'nomad.hcl'), local: nomadLocal },
  };
}

function statePath(dir: string): string {
  return join(dir, 'cluster.json');
}

function readState(dir: string): StateFile | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as StateFile;
  } catch {
    return undefined;
  }
}

function writeState(dir: string, s: StateFile): void {
  writeFileSync(statePath(dir), `${JSON.stringify(s, null, 2)}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET JSON; undefined when nothing answers or the status is not 2xx. */
export async function getJson(url: string): Promise<unknown> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return undefined;
    return (await res.json()) as unknown;
  } catch {
    return undefined;
  }
}

function logOf(dir: string, node: ClusterNode, agent: ClusterAgent): string {
  return join(dir, node.name, `${agent}.log`);
}

/**
 * Poll `check` every 250 ms until it returns true.
 * @throws {StackError} naming the node and agent, with the tail of its log, when the
 * agent exits or `timeoutMs` passes.
 */
async function waitFor(
  what: string,
  node: ClusterNode,
  agent: ClusterAgent,
  dir: string,
  pid: number | undefined,
  timeoutMs: number,
  log: Logger,
  check: () => Promise<boolean>,
): Promise<void> {
  const started = Date.now();
  let beat = started;
  const file = logOf(dir, node, agent);
  for (;;) {
    if (await check()) return;
    if (pid !== undefined && !alive(pid)) {
      throw new StackError(`cluster: ${node.name}: ${agent} exited while waiting for ${what}`, {
        context: [['Address', node.address], ['Log', file], ['Last lines', `\n${tail(file, 20)}`]],
      });
    }
    if (Date.now() - started > timeoutMs) {
      throw new StackError(`cluster: ${node.name}: ${agent}: no ${what} after ${Math.round(timeoutMs / 1000)} s`, {
        context: [['Address', node.address], ['Log', file], ['Last lines', `\n${tail(file, 20)}`]],
      });
    }
    if (Date.now() - beat > 30_000) {
      beat = Date.now();
      log({ kind: 'heartbeat', waitingFor: `${node.name} ${agent} ${what}`, seconds: (beat - started) / 1000 });
    }
    await sleep(250);
  }
}

async function hasLeader(addr: string): Promise<boolean> {
  const l = await getJson(`${addr}/v1/status/leader`);
  return typeof l === 'string' && l !== '';
}

async function nomadNodeReady(serverAddr: string, name: string): Promise<boolean> {
  const nodes = await getJson(`${serverAddr}/v1/nodes`);
  return Array.isArray(nodes) && nodes.some((n: { Name?: string; Status?: string }) => n.Name === name && n.Status === 'ready');
}

function launch(dir: string, s: StateFile, node: ClusterNode, agent: ClusterAgent, nodes: readonly ClusterNode[], env: NodeJS.ProcessEnv | undefined): number {
  const bin = s.bins[agent];
  const nd = join(dir, node.name);
  mkdirSync(nd, { recursive: true });
  const cfg = nodeConfigs(node, nodes, dir, s.gossipKey)[agent];
  const base = join(nd, `${agent}.hcl`);
  const local = join(nd, `${agent}-local.hcl`);
  writeFileSync(base, cfg.base);
  writeFileSync(local, cfg.local);
  const args = agent === 'consul' ? ['agent', `-config-file=${base}`, `-config-file=${local}`] : ['agent', `-config=${base}`, `-config=${local}`];
  return startDaemon(bin, args, { logFile: logOf(dir, node, agent), cwd: nd, ...(env === undefined ? {} : { env }) });
}

/** Stop a pid's process group: SIGTERM (bounded wait) then SIGKILL, or SIGKILL at once. */
export async function stopPid(pid: number, hard = false): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  signal(hard ? 'SIGKILL' : 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) signal('SIGKILL');
  while (alive(pid) && Date.now() < deadline + 5_000) await sleep(100);
}

/** Processes whose working directory is inside `dir`: raw_exec tasks of our clients. */
function tasksUnder(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cwd = readlinkSync(`/proc/${e}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) out.push(Number(e));
    } catch {
      /* gone or not ours */
    }
  }
  return out.filter((p) => p !== process.pid);
}

/** The result of {@link clusterUp}. */
export interface ClusterUpResult {
  readonly nodes: readonly ClusterNode[];
  /** `node/agent` of each agent started by this call. */
  readonly started: readonly string[];
  readonly seconds: number;
}

function requireState(dir: string): StateFile {
  const s = readState(dir);
  if (s === undefined) throw new StackError('cluster: no cluster in this state folder', { context: [['State', dir], ['Suggestion', 'hashiship dev cluster up']] });
  return s;
}

async function bringNode(dir: string, s: StateFile, node: ClusterNode, nodes: readonly ClusterNode[], opts: ClusterOptions, agents: readonly ClusterAgent[], started: string[]): Promise<void> {
  const entry = (s.pids[node.name] ??= {});
  for (const agent of agents) {
    const prev = entry[agent];
    if (prev !== undefined && alive(prev)) continue;
    entry[agent] = launch(dir, s, node, agent, nodes, opts.env);
    writeState(dir, s);
    started.push(`${node.name}/${agent}`);
  }
}

/**
 * Start every agent of the cluster that is not running (by pid in the state folder)
 * and wait — bounded — for a Consul leader, a Nomad leader and every Nomad client
 * ready.
 * @throws {StackError} naming the node, with its log tail.
 */
export async function clusterUp(opts: ClusterOptions): Promise<ClusterUpResult> {
  const t0 = Date.now();
  const log = opts.log ?? silent;
  const dir = clusterDirOf(opts);
  const timeoutMs = opts.timeoutMs ?? 90_000;
  mkdirSync(dir, { recursive: true });
  const prev = readState(dir);
  const servers = opts.servers ?? prev?.servers ?? 3;
  const clients = opts.clients ?? prev?.clients ?? 2;
  const nodes = clusterNodes(servers, clients);
  if (prev !== undefined && Object.values(prev.pids).some((p) => Object.values(p).some((pid) => alive(pid))) && (prev.servers !== servers || prev.clients !== clients)) {
    throw new StackError(`cluster: running with ${prev.servers} servers and ${prev.clients} clients, not ${servers} and ${clients}`, {
      context: [['Suggestion', 'hashiship dev cluster down, then up']],
    });
  }
  const installOpts = { cacheDir: opts.cacheDir, log, ...(opts.env === undefined ? {} : { env: opts.env }) };
  const s: StateFile = {
    servers,
    clients,
    bins: { consul: await ensureTool(consulTool, installOpts), nomad: await ensureTool(nomadTool, installOpts) },
    gossipKey: prev?.gossipKey ?? randomBytes(32).toString('base64'),
    pids: prev?.pids ?? {},
  };
  writeState(dir, s);
  const started: string[] = [];
  for (const node of nodes) await bringNode(dir, s, node, nodes, opts, ['consul'], started);
  await waitAll(dir, s, nodes, ['consul'], timeoutMs, log);
  for (const node of nodes) await bringNode(dir, s, node, nodes, opts, ['nomad'], started);
  await waitAll(dir, s, nodes, ['nomad'], timeoutMs, log);
  return { nodes, started, seconds: (Date.now() - t0) / 1000 };
}

async function waitNode(dir: string, s: StateFile, node: ClusterNode, nodes: readonly ClusterNode[], agent: ClusterAgent, timeoutMs: number, log: Logger): Promise<void> {
  const pid = s.pids[node.name]?.[agent];
  const a = nodeAddresses(node);
  if (agent === 'consul') {
    await waitFor('Consul leader', node, agent, dir, pid, timeoutMs, log, () => hasLeader(a.consul));
  } else if (node.role === 'server') {
    await waitFor('Nomad leader', node, agent, dir, pid, timeoutMs, log, () => hasLeader(a.nomad));
  } else {
    const first = nodeAddresses(nodes.find((n) => n.role === 'server')!).nomad;
    const servers = nodes.filter((n) => n.role === 'server').map((n) => nodeAddresses(n).nomad);
    await waitFor('ready Nomad node', node, agent, dir, pid, timeoutMs, log, async () => {
      for (const addr of [first, ...servers]) if (await nomadNodeReady(addr, node.name)) return true;
      return false;
    });
  }
}

async function waitAll(dir: string, s: StateFile, nodes: readonly ClusterNode[], agents: readonly ClusterAgent[], timeoutMs: number, log: Logger): Promise<void> {
  const waits = nodes.flatMap((n) => agents.map((a) => waitNode(dir, s, n, nodes, a, timeoutMs, log)));
  const r = await Promise.allSettled(waits);
  const failed = r.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

function findNode(s: StateFile, name: string): { node: ClusterNode; nodes: readonly ClusterNode[] } {
  const nodes = clusterNodes(s.servers, s.clients);
  const node = nodes.find((n) => n.name === name);
  if (node === undefined) {
    throw new StackError(`cluster: no node ${name}`, { context: [['Nodes', nodes.map((n) => n.name).join(', ')]] });
  }
  return { node, nodes };
}

/**
 * Stop one node's agents (Nomad first). `hard` kills them with SIGKILL, as a
 * machine that loses power; otherwise SIGTERM.
 * @throws {StackError} when there is no cluster or no such node.
 */
export async function stopNode(opts: Pick<ClusterOptions, 'cacheDir' | 'stateDir'>, name: string, hard = false): Promise<void> {
  const dir = clusterDirOf(opts);
  const s = requireState(dir);
  findNode(s, name);
  const entry = s.pids[name] ?? {};
  for (const agent of ['nomad', 'consul'] as const) {
    const pid = entry[agent];
    if (pid !== undefined) await stopPid(pid, hard);
    delete entry[agent];
  }
  writeState(dir, s);
}

/**
 * Start a stopped node's agents again with its existing data, and wait until it
 * sees a leader (servers) or is a ready Nomad node (clients).
 * @throws {StackError} naming the node, with its log tail.
 */
export async function startNode(opts: ClusterOptions, name: string): Promise<void> {
  const dir = clusterDirOf(opts);
  const s = requireState(dir);
  const { node, nodes } = findNode(s, name);
  const log = opts.log ?? silent;
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const started: string[] = [];
  await bringNode(dir, s, node, nodes, opts, ['consul'], started);
  await waitNode(dir, s, node, nodes, 'consul', timeoutMs, log);
  await bringNode(dir, s, node, nodes, opts, ['nomad'], started);
  await waitNode(dir, s, node, nodes, 'nomad', timeoutMs, log);
}

/**
 * Stop every agent this state folder started (clients' Nomad, servers' Nomad, then
 * Consul), kill raw_exec tasks left in its folders, and delete the nodes' data.
 */
export async function clusterDown(opts: Pick<ClusterOptions, 'cacheDir' | 'stateDir'>): Promise<{ readonly stopped: readonly string[] }> {
  const dir = clusterDirOf(opts);
  const s = readState(dir);
  const stopped: string[] = [];
  if (s !== undefined) {
    const nodes = clusterNodes(s.servers, s.clients);
    const order = [...nodes.filter((n) => n.role === 'client'), ...nodes.filter((n) => n.role === 'server')];
    for (const agent of ['nomad', 'consul'] as const) {
      await Promise.all(
        order.map(async (n) => {
          const pid = s.pids[n.name]?.[agent];
          if (pid !== undefined && alive(pid)) {
            await stopPid(pid);
            stopped.push(`${n.name}/${agent}`);
          }
        }),
      );
    }
  }
  if (existsSync(dir)) {
    for (const pid of tasksUnder(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    // Nomad clients leave tmpfs mounts (task secrets/, private/) behind when they stop.
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await run('umount', ['-l', m], { timeoutMs: 10_000 });
    for (const e of readdirSync(dir)) if (/^(server|client)-\d$/.test(e)) rmSync(join(dir, e), { recursive: true, force: true });
    rmSync(statePath(dir), { force: true });
  }
  return { stopped };
}

/** One agent's state, as `dev cluster status` shows it. */
export interface ClusterAgentStatus {
  readonly node: string;
  readonly agent: ClusterAgent;
  readonly address: string;
  readonly pid: number | undefined;
  readonly running: boolean;
}

/** Every agent of the cluster with its address and whether its process runs. */
export function clusterStatus(opts: Pick<ClusterOptions, 'cacheDir' | 'stateDir'>): readonly ClusterAgentStatus[] {
  const s = readState(clusterDirOf(opts));
  if (s === undefined) return [];
  return clusterNodes(s.servers, s.clients).flatMap((n) =>
    (['consul', 'nomad'] as const).map((agent) => {
      const pid = s.pids[n.name]?.[agent];
      return { node: n.name, agent, address: nodeAddresses(n)[agent], pid, running: pid !== undefined && alive(pid) };
    }),
  );
}

/**
 * Variables that point the official CLIs at the cluster's first server, and PATH
 * entries for its binaries.
 */
export function clusterEnv(opts: Pick<ClusterOptions, 'cacheDir' | 'stateDir'>, server = 'server-1'): Record<string, string> {
  const s = requireState(clusterDirOf(opts));
  const { node } = findNode(s, server);
  const a = nodeAddresses(node);
  return {
    NOMAD_ADDR: a.nomad,
    CONSUL_HTTP_ADDR: a.consul,
    HASHISHIP_CLUSTER_BIN: [...new Set([s.bins.consul, s.bins.nomad].map((b) => b.slice(0, b.lastIndexOf('/'))))].join(':'),
  };
}
