/**
 * A real multi-node Consul + Nomad cluster on one machine: `hashiship dev cluster up`.
 *
 * Every node has its own loopback address (servers 127.0.0.11…, clients 127.0.0.21…),
 * so each agent keeps its standard ports without touching the dev stack on 127.0.0.1.
 * A node's configuration is the generated agent configuration of its role
 * ({@link agentFiles}, static join at the server addresses, TLS and ACLs off) plus a
 * small `local.hcl` beside it that moves data to the state folder and binds the
 * node's address. With `acl`, ACLs are on and each node's secrets come from a store
 * through the generated boot script, as on a machine. Every wait is bounded; a failure names the node and shows the tail
 * of its log.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentFiles, paths } from '../agents/index.js';
import { InputError, StackError } from '../errors.js';
import { silent, type Logger } from '../log.js';
import { sleep } from '../runtime.js';
import { ensureTool } from '../stack/install.js';
import { alive, removeTree, run, startDaemon, stopPid, tail } from '../stack/proc.js';
import { consul as consulTool, nomad as nomadTool } from '../stack/versions.js';

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
  /**
   * ACLs on (default deny) in Consul and Nomad, as the generated configuration has
   * them in production. Each node then gets its gossip keys and agent tokens the way
   * a machine does: the generated first-boot script's `secrets` step reads them from
   * {@link ClusterOptions.secrets} and writes them beside its configuration. Nothing
   * is bootstrapped: that is docs/runbooks/acl.md. @default false
   */
  readonly acl?: boolean;
  /** The secret store (`file` source) the nodes' boot script reads with `acl`. @default `<stateDir>/secrets` */
  readonly secrets?: string;
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
  /** ACLs on, with secrets from this store (see {@link ClusterOptions.acl}). */
  acl?: boolean;
  secrets?: string;
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
  for (const [what, n] of [
    ['servers', servers],
    ['clients', clients],
  ] as const) {
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

function generatedFiles(role: 'server' | 'client', servers: readonly ClusterNode[], acl: boolean) {
  return agentFiles({
    role,
    join: { kind: 'static', addresses: servers.map((s) => s.address) },
    bootstrapExpect: servers.length,
    tls: false,
    acl,
    rawExec: true,
    // Only the client's Fabio download uses this; the local cluster runs no Fabio.
    fabio: { sha256: '0'.repeat(64) },
  });
}

function generated(role: 'server' | 'client', servers: readonly ClusterNode[], file: 'consul.hcl' | 'nomad.hcl', acl = false): string {
  const files = generatedFiles(role, servers, acl);
  const f = files.find((x) => x.path.endsWith(`/${file}`));
  if (f === undefined) throw new StackError(`cluster: agent-config has no ${file} for the ${role} role`);
  return f.content;
}

/**
 * The configuration files of a node's agents: the generated role configuration and
 * the local overrides, loaded in that order (later values win).
 */
export function nodeConfigs(
  node: ClusterNode,
  nodes: readonly ClusterNode[],
  dir: string,
  gossipKey: string,
  acl = false,
): Record<ClusterAgent, { readonly base: string; readonly local: string }> {
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

# All clients of this machine would share one Docker engine (the system's, if it
# runs): each would remove the others' containers as dangling after five minutes.
# The dev stack's engine is never used here: it belongs to the dev stack's client.
plugin "docker" {
  config {
    allow_privileged = false

    volumes {
      enabled = false
    }

    gc {
      dangling_containers {
        enabled = false
      }
    }
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
    consul: { base: generated(node.role, servers, 'consul.hcl', acl), local: consulLocal },
    nomad: { base: generated(node.role, servers, 'nomad.hcl', acl), local: nomadLocal },
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
        context: [
          ['Address', node.address],
          ['Log', file],
          ['Last lines', `\n${tail(file, 20)}`],
        ],
      });
    }
    if (Date.now() - started > timeoutMs) {
      throw new StackError(`cluster: ${node.name}: ${agent}: no ${what} after ${Math.round(timeoutMs / 1000)} s`, {
        context: [
          ['Address', node.address],
          ['Log', file],
          ['Last lines', `\n${tail(file, 20)}`],
        ],
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
  const cfg = nodeConfigs(node, nodes, dir, s.gossipKey, s.acl === true)[agent];
  const base = join(nd, `${agent}.hcl`);
  const local = join(nd, `${agent}-local.hcl`);
  writeFileSync(base, cfg.base);
  writeFileSync(local, cfg.local);
  const args = agent === 'consul' ? ['agent', `-config-file=${base}`, `-config-file=${local}`] : ['agent', `-config=${base}`, `-config=${local}`];
  // With ACLs, the folder the boot script wrote the node's secrets into (its /etc/<agent>.d), last.
  if (s.acl === true) args.push(agent === 'consul' ? `-config-dir=${secretConfigDir(dir, node, agent)}` : `-config=${secretConfigDir(dir, node, agent)}`);
  return startDaemon(bin, args, { logFile: logOf(dir, node, agent), cwd: nd, ...(env === undefined ? {} : { env }) });
}

/** The folder holding a node's boot-written secret files for one agent: its `/etc/<agent>.d`. */
function secretConfigDir(dir: string, node: ClusterNode, agent: ClusterAgent): string {
  return join(dir, node.name, 'root', 'etc', `${agent}.d`);
}

/** The Consul gossip key in a secret store, if there is one. */
function storedGossipKey(store: string): string | undefined {
  try {
    const k = readFileSync(join(store, 'consul', 'gossip-key'), 'utf8').trim();
    return k === '' ? undefined : k;
  } catch {
    return undefined;
  }
}

/**
 * Run the node's generated first-boot script's `secrets` step, relocated under
 * `<node>/root` (HASHISHIP_ROOT) with the store as its `file` secret source: exactly
 * what a machine does at boot. The script names a missing secret, never a value.
 * @throws {StackError} when the script fails (a secret missing or malformed).
 */
async function bootSecrets(dir: string, s: StateFile, node: ClusterNode, nodes: readonly ClusterNode[], env: NodeJS.ProcessEnv | undefined): Promise<void> {
  const root = join(dir, node.name, 'root');
  const prefix = '/etc/hashiship/secrets';
  const servers = nodes.filter((n) => n.role === 'server');
  const files = agentFiles({
    role: node.role,
    join: { kind: 'static', addresses: servers.map((x) => x.address) },
    bootstrapExpect: servers.length,
    tls: false,
    acl: true,
    rawExec: true,
    secrets: { source: 'file', prefix },
    fabio: { sha256: '0'.repeat(64) },
  });
  let script = '';
  for (const f of files.filter((x) => x.path === paths.hashiship.env || x.path === paths.hashiship.boot)) {
    const to = join(root, f.path);
    mkdirSync(join(to, '..'), { recursive: true });
    writeFileSync(to, f.content, { mode: Number.parseInt(f.mode, 8) });
    if (f.path === paths.hashiship.boot) script = to;
  }
  const link = join(root, prefix);
  rmSync(link, { force: true });
  symlinkSync(s.secrets!, link);
  for (const agent of ['consul', 'nomad'] as const) mkdirSync(secretConfigDir(dir, node, agent), { recursive: true });
  const r = await run('bash', [script, 'secrets'], { env: { ...(env ?? process.env), HASHISHIP_ROOT: root }, timeoutMs: 30_000 });
  if (r.code !== 0) {
    throw new StackError(`cluster: ${node.name}: the boot script could not write the node's secrets`, {
      context: [
        ['Store', s.secrets!],
        ['Boot script', r.stderr.trim() || `exit ${r.code}`],
        ['Suggestion', 'docs/runbooks/acl.md, step 1'],
      ],
    });
  }
}

/** Stopping a process group lives in proc.ts; re-exported for the dev cluster's callers. */
export { stopPid };

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
  if (s === undefined)
    throw new StackError('cluster: no cluster in this state folder', {
      context: [
        ['State', dir],
        ['Suggestion', 'hashiship dev cluster up'],
      ],
    });
  return s;
}

async function bringNode(
  dir: string,
  s: StateFile,
  node: ClusterNode,
  nodes: readonly ClusterNode[],
  opts: ClusterOptions,
  agents: readonly ClusterAgent[],
  started: string[],
): Promise<void> {
  const entry = (s.pids[node.name] ??= {});
  for (const agent of agents) {
    const prev = entry[agent];
    if (prev !== undefined && alive(prev, s.bins[agent])) continue;
    if (s.acl === true) await bootSecrets(dir, s, node, nodes, opts.env);
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
  const acl = opts.acl ?? prev?.acl ?? false;
  const nodes = clusterNodes(servers, clients);
  const running =
    prev !== undefined && Object.values(prev.pids).some((p) => (['consul', 'nomad'] as const).some((a) => p[a] !== undefined && alive(p[a], prev.bins[a])));
  if (running && (prev.servers !== servers || prev.clients !== clients)) {
    throw new StackError(`cluster: running with ${prev.servers} servers and ${prev.clients} clients, not ${servers} and ${clients}`, {
      context: [['Suggestion', 'hashiship dev cluster down, then up']],
    });
  }
  if (running && (prev.acl ?? false) !== acl) {
    throw new StackError(`cluster: running with ACLs ${prev.acl === true ? 'on' : 'off'}, not ${acl ? 'on' : 'off'}`, {
      context: [['Suggestion', 'hashiship dev cluster down, then up']],
    });
  }
  const secrets = acl ? (opts.secrets ?? prev?.secrets ?? join(dir, 'secrets')) : undefined;
  const installOpts = { cacheDir: opts.cacheDir, log, ...(opts.env === undefined ? {} : { env: opts.env }) };
  const s: StateFile = {
    servers,
    clients,
    bins: { consul: await ensureTool(consulTool, installOpts), nomad: await ensureTool(nomadTool, installOpts) },
    // With ACLs the store's key, which the boot script also writes: one key either way.
    gossipKey: (secrets === undefined ? undefined : storedGossipKey(secrets)) ?? prev?.gossipKey ?? randomBytes(32).toString('base64'),
    pids: prev?.pids ?? {},
    ...(secrets === undefined ? {} : { acl: true, secrets }),
  };
  writeState(dir, s);
  const started: string[] = [];
  for (const node of nodes) await bringNode(dir, s, node, nodes, opts, ['consul'], started);
  await waitAll(dir, s, nodes, ['consul'], timeoutMs, log);
  for (const node of nodes) await bringNode(dir, s, node, nodes, opts, ['nomad'], started);
  await waitAll(dir, s, nodes, ['nomad'], timeoutMs, log);
  return { nodes, started, seconds: (Date.now() - t0) / 1000 };
}

async function waitNode(
  dir: string,
  s: StateFile,
  node: ClusterNode,
  nodes: readonly ClusterNode[],
  agent: ClusterAgent,
  timeoutMs: number,
  log: Logger,
): Promise<void> {
  const pid = s.pids[node.name]?.[agent];
  const a = nodeAddresses(node);
  if (agent === 'consul') {
    await waitFor('Consul leader', node, agent, dir, pid, timeoutMs, log, () => hasLeader(a.consul));
  } else if (node.role === 'server') {
    await waitFor('Nomad leader', node, agent, dir, pid, timeoutMs, log, () => hasLeader(a.nomad));
  } else if (s.acl === true) {
    // Before the ACL bootstrap no token can list nodes; the client's own health
    // endpoint needs none and is ok once the client has servers.
    await waitFor('Nomad client health', node, agent, dir, pid, timeoutMs, log, async () => {
      const h = (await getJson(`${a.nomad}/v1/agent/health?type=client`)) as { client?: { ok?: boolean } } | undefined;
      return h?.client?.ok === true;
    });
  } else {
    const first = nodeAddresses(nodes.find((n) => n.role === 'server')!).nomad;
    const servers = nodes.filter((n) => n.role === 'server').map((n) => nodeAddresses(n).nomad);
    await waitFor('ready Nomad node', node, agent, dir, pid, timeoutMs, log, async () => {
      for (const addr of [first, ...servers]) if (await nomadNodeReady(addr, node.name)) return true;
      return false;
    });
  }
}

async function waitAll(
  dir: string,
  s: StateFile,
  nodes: readonly ClusterNode[],
  agents: readonly ClusterAgent[],
  timeoutMs: number,
  log: Logger,
): Promise<void> {
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
    if (pid !== undefined && alive(pid, s.bins[agent])) await stopPid(pid, hard);
    delete entry[agent];
  }
  writeState(dir, s);
}

/**
 * Record a new gossip key where new and wiped nodes get theirs: the cluster's state
 * (their `local.hcl`) and, with ACLs, the secret store (`consul/gossip-key`,
 * `nomad/gossip-key`, mode 0600). The stand-in for putting a rotated key into SSM;
 * running agents keep their keyrings.
 * @throws {InputError} when the key is not 32 bytes of base64.
 */
export function setGossipKey(opts: Pick<ClusterOptions, 'cacheDir' | 'stateDir'>, key: string): void {
  const k = key.trim();
  if (!/^[A-Za-z0-9+/]{43}=$/.test(k) || Buffer.from(k, 'base64').length !== 32) {
    throw new InputError([{ subject: 'stdin', message: 'expected a gossip key: 32 bytes in base64 (as consul keygen prints)' }]);
  }
  const dir = clusterDirOf(opts);
  const s = requireState(dir);
  s.gossipKey = k;
  writeState(dir, s);
  if (s.secrets !== undefined) {
    for (const name of ['consul/gossip-key', 'nomad/gossip-key']) {
      mkdirSync(join(s.secrets, name, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(join(s.secrets, name), `${k}\n`, { mode: 0o600 });
    }
  }
}

/**
 * Delete a stopped node's Consul and Nomad data, as a machine whose disk is lost:
 * started again, it is a new node with the same name and address.
 * @throws {StackError} when there is no such node or it is running.
 */
export async function wipeNode(opts: Pick<ClusterOptions, 'cacheDir' | 'stateDir'>, name: string): Promise<void> {
  const dir = clusterDirOf(opts);
  const s = requireState(dir);
  findNode(s, name);
  const running = (['consul', 'nomad'] as const).filter((a) => {
    const pid = s.pids[name]?.[a];
    return pid !== undefined && alive(pid, s.bins[a]);
  });
  if (running.length > 0) {
    throw new StackError(`cluster: ${name} is running; stop it before wiping its data`, { context: [['Suggestion', `hashiship dev cluster stop ${name}`]] });
  }
  for (const d of ['consul-data', 'nomad-data']) await removeTree(join(dir, name, d));
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
          if (pid !== undefined && alive(pid, s.bins[agent])) {
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
    for (const e of readdirSync(dir)) if (/^(server|client)-\d$/.test(e)) await removeTree(join(dir, e));
    rmSync(statePath(dir), { force: true });
    // The default secret store of an ACL cluster (a store given with --secrets stays).
    rmSync(join(dir, 'secrets'), { recursive: true, force: true });
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
      return { node: n.name, agent, address: nodeAddresses(n)[agent], pid, running: pid !== undefined && alive(pid, s.bins[agent]) };
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
