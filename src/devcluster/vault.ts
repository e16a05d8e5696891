/**
 * A real, non-dev Vault server beside the local cluster: `hashiship dev cluster vault
 * up|stop|start|down`, for the unseal and snapshot runbooks.
 *
 * Unlike the dev stack's `vault server -dev` it starts uninitialised, keeps its data
 * in integrated storage (raft) and seals itself on every restart, as a Vault machine
 * of the `vault` role does (Shamir seal). It listens on its own loopback address
 * (127.0.0.31:8200, cluster port 8201) without TLS and registers nowhere, so it
 * touches neither the dev stack nor the Consul cluster. Nothing here initialises or
 * unseals it: that is the operator's part (docs/runbooks/vault.md).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from '../errors.js';
import { silent, type Logger } from '../log.js';
import { sleep } from '../runtime.js';
import { clusterDirOf, type ClusterOptions } from './cluster.js';
import { stopPid } from '../stack/proc.js';
import { ensureTool } from '../stack/install.js';
import { alive, startDaemon, tail } from '../stack/proc.js';
import { vault as vaultTool } from '../stack/versions.js';

/** The node's name, loopback address and API address. */
export const devVault = { name: 'vault-1', address: '127.0.0.31', api: 'http://127.0.0.31:8200' } as const;

/** Where the Vault node keeps its configuration, log, pid and data. */
export function devVaultDir(opts: Pick<ClusterOptions, 'cacheDir' | 'stateDir'>): string {
  return join(clusterDirOf(opts), devVault.name);
}

/** The server configuration: raft storage, Shamir seal, plain HTTP on the node's address. */
export function devVaultConfig(dir: string): string {
  const a = devVault.address;
  return `# Vault server ${devVault.name} (hashiship dev cluster vault): integrated storage, Shamir seal.
# Like the vault role's generated configuration without TLS, auto-join and Consul registration.
disable_mlock = true
api_addr      = "http://${a}:8200"
cluster_addr  = "https://${a}:8201"
log_level     = "warn"

listener "tcp" {
  address         = "${a}:8200"
  cluster_address = "${a}:8201"
  tls_disable     = true
}

storage "raft" {
  path    = "${join(dir, 'raft')}"
  node_id = "${devVault.name}"
}
`;
}

function pidOf(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Is the Vault node's process running? */
export function devVaultRunning(opts: Pick<ClusterOptions, 'cacheDir' | 'stateDir'>): boolean {
  const pid = pidOf(devVaultDir(opts));
  return pid !== undefined && alive(pid);
}

/** Vault's seal status, or undefined when it does not answer. */
export async function devVaultSealStatus(): Promise<{ initialized: boolean; sealed: boolean } | undefined> {
  try {
    const res = await fetch(`${devVault.api}/v1/sys/seal-status`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return undefined;
    return (await res.json()) as { initialized: boolean; sealed: boolean };
  } catch {
    return undefined;
  }
}

/**
 * Start the Vault node (its existing data, if any) unless it runs, and wait until its
 * API answers — sealed, and uninitialised the first time.
 * @throws {StackError} with the tail of its log when it exits or does not answer.
 */
export async function devVaultUp(opts: ClusterOptions): Promise<{ readonly started: boolean; readonly seconds: number }> {
  const t0 = Date.now();
  const dir = devVaultDir(opts);
  const log: Logger = opts.log ?? silent;
  if (devVaultRunning(opts)) return { started: false, seconds: 0 };
  const bin = await ensureTool(vaultTool, { cacheDir: opts.cacheDir, log, ...(opts.env === undefined ? {} : { env: opts.env }) });
  mkdirSync(join(dir, 'raft'), { recursive: true, mode: 0o700 });
  const config = join(dir, 'vault.hcl');
  writeFileSync(config, devVaultConfig(dir));
  const logFile = join(dir, 'vault.log');
  const pid = startDaemon(bin, ['server', `-config=${config}`], { logFile, cwd: dir, ...(opts.env === undefined ? {} : { env: opts.env }) });
  writeFileSync(join(dir, 'pid'), String(pid));
  const timeoutMs = opts.timeoutMs ?? 90_000;
  for (;;) {
    if ((await devVaultSealStatus()) !== undefined) return { started: true, seconds: (Date.now() - t0) / 1000 };
    const context: [string, string][] = [
      ['Address', devVault.api],
      ['Log', logFile],
      ['Last lines', `\n${tail(logFile, 20)}`],
    ];
    if (!alive(pid)) throw new StackError(`cluster: ${devVault.name}: vault exited while starting`, { context });
    if (Date.now() - t0 > timeoutMs) throw new StackError(`cluster: ${devVault.name}: vault: no answer after ${Math.round(timeoutMs / 1000)} s`, { context });
    await sleep(200);
  }
}

/** Stop the Vault node (SIGTERM, or SIGKILL with `hard`), keeping its data. */
export async function devVaultStop(opts: Pick<ClusterOptions, 'cacheDir' | 'stateDir'>, hard = false): Promise<boolean> {
  const dir = devVaultDir(opts);
  const pid = pidOf(dir);
  if (pid === undefined || !alive(pid)) return false;
  await stopPid(pid, hard);
  rmSync(join(dir, 'pid'), { force: true });
  return true;
}

/** Stop the Vault node and delete its data. */
export async function devVaultDown(opts: Pick<ClusterOptions, 'cacheDir' | 'stateDir'>): Promise<boolean> {
  const stopped = await devVaultStop(opts);
  const dir = devVaultDir(opts);
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  return stopped;
}
