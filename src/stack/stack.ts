/**
 * The local real stack: `up` (idempotent), `down` (only what we started), `status`
 * and `env`. State — pids, logs, configs, the Vault root token — lives in a state
 * folder; every wait is bounded and a failure names the component and shows the
 * last lines of its log.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StackError } from '../errors.js';
import { silent, type Logger, type StackComponent } from '../log.js';
import { sleep } from '../runtime.js';
import { addressOf, components, stackAddresses, workloadIdentity, type ComponentDef } from './components.js';
import { detachDockerMounts, dockerHost, dockerPaths, dockerPing, NomadAllocLabel, removeContainers } from './docker.js';
import { ensureTool, versionOf } from './install.js';
import { alive, removeTree, startDaemon, stopPid, tail } from './proc.js';
import { jdk, skopeo } from './versions.js';

export interface StackOptions {
  /** Cache of built binaries (see install.ts). */
  readonly cacheDir: string;
  /** Where pids, logs, configs and the Vault token live. @default `<cacheDir>/dev-stack` */
  readonly stateDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: Logger;
  /** Bound on each component's wait for health. @default 90000 */
  readonly timeoutMs?: number;
}

interface ComponentState {
  /** Our pid, when we started it; absent when we found it already running. */
  pid?: number;
  bin: string;
  version?: string;
}

interface StateFile {
  components: Partial<Record<StackComponent, ComponentState>>;
}

export function stateDirOf(opts: StackOptions): string {
  return opts.stateDir ?? join(opts.cacheDir, 'dev-stack');
}

function statePath(dir: string): string {
  return join(dir, 'stack.json');
}

function readState(dir: string): StateFile {
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as StateFile;
  } catch {
    return { components: {} };
  }
}

function writeState(dir: string, s: StateFile): void {
  writeFileSync(statePath(dir), `${JSON.stringify(s, null, 2)}\n`);
}

/** The Vault root token of the stack, created once per state folder (mode 0600). */
export function vaultToken(dir: string): string {
  const p = join(dir, 'vault-token');
  if (existsSync(p)) return readFileSync(p, 'utf8').trim();
  mkdirSync(dir, { recursive: true });
  const t = `hashiship-dev-${randomBytes(12).toString('hex')}`;
  writeFileSync(p, `${t}\n`, { mode: 0o600 });
  return t;
}

/** GET a health path; the status and body, or undefined when nothing answers. */
async function probe(def: ComponentDef, dir: string): Promise<{ status: number; body: unknown } | undefined> {
  if (def.socket !== undefined) return dockerPing(join(dir, def.socket));
  try {
    const res = await fetch(`${def.address}${def.healthPath}`, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* plain text */
    }
    return { status: res.status, body };
  } catch {
    return undefined;
  }
}

async function isHealthy(def: ComponentDef, dir: string): Promise<boolean> {
  const r = await probe(def, dir);
  return r !== undefined && def.healthy(r.status, r.body);
}

/** How long `up` waits for a running component of its own to answer before restarting it. */
const RecoverMs = 20_000;

/** Whether a component answers healthy within `ms`. */
async function recovers(def: ComponentDef, dir: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await isHealthy(def, dir)) return true;
    await sleep(250);
  }
  return false;
}

async function waitHealthy(def: ComponentDef, dir: string, pid: number | undefined, logFile: string, timeoutMs: number, log: Logger): Promise<number> {
  const started = Date.now();
  let lastBeat = started;
  for (;;) {
    if (await isHealthy(def, dir)) return (Date.now() - started) / 1000;
    if (pid !== undefined && !alive(pid)) {
      throw new StackError(`stack: ${def.name} exited during start-up`, {
        context: [
          ['Address', addressOf(def, dir)],
          ['Log', logFile],
          ['Last lines', `\n${tail(logFile, 20)}`],
        ],
      });
    }
    if (Date.now() - started > timeoutMs) {
      throw new StackError(`stack: ${def.name} not healthy after ${Math.round(timeoutMs / 1000)} s`, {
        context: [
          ['Address', `${addressOf(def, dir)}${def.healthPath}`],
          ['Log', logFile],
          ['Last lines', `\n${tail(logFile, 20)}`],
        ],
      });
    }
    if (Date.now() - lastBeat > 30_000) {
      lastBeat = Date.now();
      log({ kind: 'heartbeat', waitingFor: def.name, seconds: (lastBeat - started) / 1000 });
    }
    await sleep(100);
  }
}

/** Vault side of Nomad workload identity: JWT auth at Nomad's JWKS, a role, a policy. */
async function configureVault(token: string, log: Logger): Promise<void> {
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${stackAddresses.vault}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) {
      throw new StackError(`stack: vault: ${method} ${path}: ${res.status}`, {
        context: [['Response', text.slice(0, 300)]],
      });
    }
    return text === '' ? undefined : JSON.parse(text);
  };
  const mounts = (await call('GET', 'sys/auth')) as { data: Record<string, { accessor: string }> };
  if (mounts.data[`${workloadIdentity.mount}/`] === undefined) {
    log({ kind: 'stack.configure', component: 'vault', step: `enabling JWT auth at ${workloadIdentity.mount}/ for Nomad workload identity` });
    await call('POST', `sys/auth/${workloadIdentity.mount}`, { type: 'jwt' });
  }
  const accessor = ((await call('GET', 'sys/auth')) as { data: Record<string, { accessor: string }> }).data[`${workloadIdentity.mount}/`]!.accessor;
  await call('POST', `auth/${workloadIdentity.mount}/config`, {
    jwks_url: `${stackAddresses.nomad}/.well-known/jwks.json`,
    jwt_supported_algs: ['RS256', 'EdDSA'],
    default_role: workloadIdentity.role,
  });
  const job = `{{identity.entity.aliases.${accessor}.metadata.nomad_job_id}}`;
  const ns = `{{identity.entity.aliases.${accessor}.metadata.nomad_namespace}}`;
  await call('PUT', `sys/policies/acl/${workloadIdentity.policy}`, {
    policy: [
      `path "secret/data/${ns}/${job}/*" { capabilities = ["read"] }`,
      `path "secret/data/${job}/*" { capabilities = ["read"] }`,
      `path "secret/data/${job}" { capabilities = ["read"] }`,
      `path "secret/metadata/${job}/*" { capabilities = ["list"] }`,
    ].join('\n'),
  });
  await call('POST', `auth/${workloadIdentity.mount}/role/${workloadIdentity.role}`, {
    role_type: 'jwt',
    bound_audiences: [workloadIdentity.audience],
    user_claim: '/nomad_job_id',
    user_claim_json_pointer: true,
    claim_mappings: { nomad_namespace: 'nomad_namespace', nomad_job_id: 'nomad_job_id', nomad_task: 'nomad_task' },
    token_type: 'service',
    token_policies: [workloadIdentity.policy],
    token_period: '30m',
    token_explicit_max_ttl: 0,
  });
}

/**
 * Start one component and wait (bounded) until it is healthy.
 * @throws {StackError} naming the component, with the last lines of its log, when it
 * exits or is not healthy in time.
 */
export async function startComponent(
  def: ComponentDef,
  bin: string,
  dir: string,
  secrets: { readonly vaultToken: string },
  opts: { readonly timeoutMs: number; readonly log: Logger; readonly env?: NodeJS.ProcessEnv; readonly onPid?: (pid: number) => void },
): Promise<{ pid: number; seconds: number }> {
  const launch = def.launch(bin, dir, secrets);
  for (const [path, text] of Object.entries(launch.files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  const logFile = join(dir, `${def.name}.log`);
  writeFileSync(logFile, '');
  const pid = startDaemon(launch.cmd, launch.args, { logFile, cwd: dir, ...(opts.env === undefined ? {} : { env: opts.env }) });
  opts.onPid?.(pid);
  const address = addressOf(def, dir);
  opts.log({ kind: 'stack.start', component: def.name, address, pid });
  try {
    const seconds = await waitHealthy(def, dir, pid, logFile, opts.timeoutMs, opts.log);
    opts.log({ kind: 'stack.ready', component: def.name, address, seconds });
    return { pid, seconds };
  } catch (err) {
    await stopComponent(def.name, pid, dir);
    throw err;
  }
}

export interface UpResult {
  readonly started: readonly StackComponent[];
  readonly reused: readonly StackComponent[];
  readonly seconds: number;
}

/**
 * Whether a running component was started with other configuration files than it
 * would get now (an upgrade of hashiship changed them): it is then restarted.
 */
function configChanged(def: ComponentDef, bin: string, dir: string, secrets: { readonly vaultToken: string }): boolean {
  return Object.entries(def.launch(bin, dir, secrets).files).some(([path, text]) => {
    try {
      return readFileSync(path, 'utf8') !== text;
    } catch {
      return true;
    }
  });
}

/** How long `up` waits for Nomad's docker driver to find the engine. */
const DockerDriverMs = 45_000;

interface NodeStub {
  readonly Status?: string;
  readonly Drivers?: Readonly<Record<string, { readonly Detected?: boolean; readonly Healthy?: boolean; readonly HealthDescription?: string }>>;
}

/**
 * Wait (bounded) until the dev Nomad client reports its docker driver healthy.
 * @throws {StackError} naming Nomad's docker driver with its health description.
 */
async function waitDockerDriver(dir: string, log: Logger): Promise<void> {
  const started = Date.now();
  let description = 'not fingerprinted yet';
  while (Date.now() - started < DockerDriverMs) {
    try {
      const res = await fetch(`${stackAddresses.nomad}/v1/nodes`, { signal: AbortSignal.timeout(3000) });
      const nodes = (await res.json()) as NodeStub[];
      const driver = nodes.find((n) => n.Status === 'ready')?.Drivers?.['docker'];
      if (driver?.Detected === true && driver.Healthy === true) return;
      description = driver?.HealthDescription || (driver?.Detected === false ? 'not detected' : description);
    } catch {
      /* Nomad busy: ask again */
    }
    await sleep(500);
  }
  log({ kind: 'debug', message: `nomad: docker driver: ${description}` });
  throw new StackError(`stack: nomad's docker driver is not healthy after ${DockerDriverMs / 1000} s`, {
    context: [
      ['Driver', description],
      ['Engine', dockerHost(dir)],
      ['Nomad log', join(dir, 'nomad.log')],
      ['Last lines', `\n${tail(join(dir, 'nomad.log'), 10)}`],
    ],
  });
}

/**
 * Start every component that is not already healthy, wait until all are, and wire
 * Vault to Nomad. A second call leaves a running stack alone, except a component of
 * its own whose configuration files changed: that one is restarted.
 *
 * An optional component (the Docker engine) that cannot be installed or started does
 * not stop the others: everything else is started and configured first, then this
 * throws naming it, with its log's last lines and what still runs.
 * @throws {StackError} naming the component, with the tail of its log.
 */
export async function up(opts: StackOptions): Promise<UpResult> {
  const log = opts.log ?? silent;
  const dir = stateDirOf(opts);
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const startedAt = Date.now();
  mkdirSync(dir, { recursive: true });
  const state = readState(dir);
  const secrets = { vaultToken: vaultToken(dir) };
  const installOpts = { cacheDir: opts.cacheDir, log, ...(opts.env === undefined ? {} : { env: opts.env }) };
  /** Optional components that could not be installed or started, with why. */
  const failures = new Map<StackComponent, unknown>();

  // Install (or find) every binary first: a cold build must not race the start-up waits.
  const bins = new Map<StackComponent, string>();
  for (const def of components) {
    try {
      bins.set(def.name, await ensureTool(def.tool, installOpts));
    } catch (err) {
      if (def.optional !== true) throw err;
      failures.set(def.name, err);
    }
  }
  await ensureTool(skopeo, installOpts);
  // Java for Nomad's java driver (it fingerprints java again while running). Without it
  // only java tasks cannot be placed: the stack still comes up.
  await ensureTool(jdk, installOpts).catch((err: unknown) =>
    log({ kind: 'debug', message: `java driver: ${err instanceof Error ? err.message : String(err)}` }),
  );

  const started: StackComponent[] = [];
  const reused: StackComponent[] = [];
  const done = new Map<StackComponent, Promise<void>>();

  const bring = async (def: ComponentDef): Promise<void> => {
    await Promise.all(def.after.map((a) => done.get(a)));
    await Promise.allSettled((def.wants ?? []).map((a) => done.get(a)));
    const bin = bins.get(def.name);
    if (bin === undefined) return; // optional and not installed: in `failures`
    const prev = state.components[def.name];
    const ours = prev?.pid !== undefined && alive(prev.pid, prev.bin);
    const restartedWith = (def.restartsWith ?? []).find((c) => started.includes(c));
    const stale = ours && (configChanged(def, bin, dir, secrets) || restartedWith !== undefined);
    // One of ours alive but not answering may be busy or briefly paused: dev Consul, Nomad
    // and Vault keep their state in memory, so it gets time to recover before a restart.
    if (!stale && ((await isHealthy(def, dir)) || (ours && (await recovers(def, dir, RecoverMs))))) {
      reused.push(def.name);
      log({ kind: 'stack.reuse', component: def.name, address: addressOf(def, dir) });
      // Keep our pid if the healthy one is ours; otherwise it belongs to someone else.
      state.components[def.name] = {
        bin: prev?.bin ?? bin,
        ...(ours ? { pid: prev!.pid } : {}),
      };
      return;
    }
    if (stale) {
      const why = restartedWith === undefined ? 'its configuration changed' : `${restartedWith} was started afresh`;
      log({ kind: 'stack.configure', component: def.name, step: `restarting: ${why}` });
    }
    if (ours) {
      // Ours and still unhealthy (or reconfigured): stop it and start afresh.
      await stopComponent(def.name, prev!.pid!, dir);
    }
    if (def.name === 'nomad') {
      // A dev Nomad starts with empty state; allocation folders of a killed one would
      // otherwise be restored by its client, and its containers would run on unknown.
      await removeNomadContainers(dir, log);
      await removeTree(join(dir, 'nomad-data'));
    }
    if (def.name === 'docker') await detachDockerMounts(dir);
    await startComponent(def, bin, dir, secrets, {
      timeoutMs,
      log,
      ...(opts.env === undefined ? {} : { env: opts.env }),
      onPid: (p) => {
        state.components[def.name] = { pid: p, bin };
        writeState(dir, state);
      },
    });
    started.push(def.name);
  };

  for (const def of components) done.set(def.name, bring(def));
  const names = [...done.keys()];
  const results = await Promise.allSettled(done.values());
  writeState(dir, state);
  let failed: unknown;
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    const def = components.find((c) => c.name === names[i])!;
    if (def.optional === true) failures.set(def.name, r.reason);
    else failed ??= r.reason;
  });
  if (failed !== undefined) throw failed;

  await configureVault(secrets.vaultToken, log);
  // Nomad finds a newly started engine (or a new Nomad its engine) within a fingerprint
  // period; when both were running already, that was checked when they started.
  const fresh = started.includes('docker') || started.includes('nomad');
  if (
    fresh &&
    !failures.has('docker') &&
    (await isHealthy(
      components.find((c) => c.name === 'docker')!,
      dir,
    ))
  ) {
    try {
      await waitDockerDriver(dir, log);
    } catch (err) {
      failures.set('docker', err);
    }
  }
  const [name, why] = [...failures][0] ?? [];
  if (name !== undefined)
    throw degraded(
      name,
      why,
      components.map((c) => c.name).filter((c) => !failures.has(c)),
    );
  return { started, reused, seconds: (Date.now() - startedAt) / 1000 };
}

/** The error of an optional component, saying what still runs without it. */
function degraded(name: StackComponent, why: unknown, running: readonly StackComponent[]): StackError {
  const cause = why instanceof StackError ? why : new StackError(`stack: ${name}: ${String(why)}`);
  return new StackError(cause.message, {
    context: [
      ...cause.context,
      ['Still running', running.join(', ')],
      [
        'Without it',
        name === 'docker'
          ? 'tasks on the docker driver cannot be placed; raw_exec, exec and java tasks, Consul, Vault, Fabio and the registries work'
          : 'everything else works',
      ],
      ['Suggestion', 'fix the cause above, then run `hashiship dev up` again (it starts only what is missing)'],
    ],
    cause: why,
  });
}

/**
 * Remove the containers a previous dev Nomad started (they carry its alloc label)
 * from the stack's engine, before a new Nomad with empty state starts.
 */
async function removeNomadContainers(dir: string, log: Logger): Promise<void> {
  const socket = dockerPaths(dir).socket;
  if ((await dockerPing(socket))?.status !== 200) return;
  const removed = await removeContainers(socket, NomadAllocLabel);
  if (removed.length > 0) log({ kind: 'stack.configure', component: 'docker', step: `removed ${removed.length} container(s) of the previous Nomad` });
}

/**
 * Stop the stack's engine: its containers first (stopped, then removed), then
 * dockerd (which stops its containerd), then whatever it left mounted; the exec
 * root (runtime state) goes, the data root (images) stays.
 * @throws {StackError} when containers could not be removed (the engine is stopped anyway).
 */
async function stopDocker(pid: number, dir: string): Promise<void> {
  const p = dockerPaths(dir);
  let refused: unknown;
  if ((await dockerPing(p.socket))?.status === 200) {
    try {
      await removeContainers(p.socket);
    } catch (err) {
      refused = err;
    }
  }
  await stopPid(pid);
  // dockerd stops the containerd it started; one left behind by a killed dockerd is ours too.
  const containerdPid = Number(readFileOr(join(p.exec, 'containerd', 'containerd.pid')));
  if (containerdPid > 0 && alive(containerdPid) && /containerd/.test(readFileOr(`/proc/${containerdPid}/cmdline`))) {
    await stopPid(containerdPid);
  }
  await detachDockerMounts(dir);
  await removeTree(p.exec);
  rmSync(p.socket, { force: true });
  if (refused !== undefined) {
    throw new StackError('stack: docker: containers could not be removed before the engine stopped', {
      context: [
        ['Reason', refused instanceof Error ? refused.message : String(refused)],
        ['Engine data', p.data],
      ],
    });
  }
}

function readFileOr(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** Stop one of our components by pid (the engine: containers first). */
async function stopComponent(name: StackComponent, pid: number, dir: string): Promise<void> {
  if (name === 'docker') await stopDocker(pid, dir);
  else await stopPid(pid);
}

export interface DownResult {
  readonly stopped: readonly StackComponent[];
}

/**
 * Stop the components this state folder started, by pid — or only those named in
 * `only` (what one `up` call started, for a test run that found part of it running).
 */
export async function down(opts: StackOptions & { readonly only?: readonly StackComponent[] }): Promise<DownResult> {
  const log = opts.log ?? silent;
  const dir = stateDirOf(opts);
  const state = readState(dir);
  const stopped: StackComponent[] = [];
  // Nomad first, so that its tasks stop before Consul and Vault go away.
  // The engine after Nomad (Nomad leaves its containers running when it stops).
  const order: StackComponent[] = ['fabio', 'nomad', 'docker', 'vault', 'consul', 'registry-qa', 'registry-production'];
  let failed: unknown;
  for (const name of order) {
    const c = state.components[name];
    if (c?.pid === undefined) continue;
    if (opts.only !== undefined && !opts.only.includes(name)) continue;
    if (alive(c.pid, c.bin)) {
      try {
        await stopComponent(name, c.pid, dir);
      } catch (err) {
        failed ??= err;
      }
      stopped.push(name);
      log({ kind: 'stack.stop', component: name, pid: c.pid });
    }
    delete state.components[name];
  }
  if (existsSync(dir)) writeState(dir, state);
  // Nomad's dev data is disposable; the registries keep their blobs between runs, the
  // engine its images.
  if (stopped.includes('nomad')) await removeTree(join(dir, 'nomad-data'));
  if (failed !== undefined) throw failed;
  return { stopped };
}

export interface ComponentStatus {
  readonly component: StackComponent;
  readonly version: string | undefined;
  readonly address: string;
  readonly healthy: boolean;
  /** `started` (by this state folder, with its pid), `external` or `down`. */
  readonly owner: 'started' | 'external' | 'down';
  readonly pid?: number;
}

/** Health, version, address and ownership of every component. */
export async function status(opts: StackOptions): Promise<readonly ComponentStatus[]> {
  const dir = stateDirOf(opts);
  const state = readState(dir);
  return Promise.all(
    components.map(async (def) => {
      const healthy = await isHealthy(def, dir);
      const c = state.components[def.name];
      const ours = c?.pid !== undefined && alive(c.pid, c.bin);
      const bin = c?.bin;
      const version = bin === undefined ? undefined : await versionOf(bin, def.tool);
      return {
        component: def.name,
        version,
        address: addressOf(def, dir),
        healthy,
        owner: ours ? 'started' : healthy ? 'external' : 'down',
        ...(ours ? { pid: c.pid! } : {}),
      } satisfies ComponentStatus;
    }),
  );
}

/** Variables that point the official CLIs and hashiship at the stack. */
export function stackEnv(opts: StackOptions): Record<string, string> {
  const dir = stateDirOf(opts);
  const state = readState(dir);
  const binDirs = [...new Set(Object.values(state.components).map((c) => dirname(c.bin)))];
  return {
    NOMAD_ADDR: stackAddresses.nomad,
    CONSUL_HTTP_ADDR: stackAddresses.consul,
    VAULT_ADDR: stackAddresses.vault,
    VAULT_TOKEN: vaultToken(dir),
    HASHISHIP_FABIO_PROXY: stackAddresses.fabioProxy,
    HASHISHIP_FABIO_ADDR: stackAddresses.fabioApi,
    HASHISHIP_REGISTRY_QA: stackAddresses.registryQa,
    HASHISHIP_REGISTRY_PRODUCTION: stackAddresses.registryProduction,
    DOCKER_HOST: dockerHost(dir),
    HASHISHIP_STACK_BIN: binDirs.join(':'),
  };
}

/** Shell quoting for `export` lines. */
function shq(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]*$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `export` lines for `eval "$(hashiship dev env)"`. The Vault token is read from its
 * file by the shell, so it is never printed.
 */
export function envScript(opts: StackOptions): string {
  const dir = stateDirOf(opts);
  const env = stackEnv(opts);
  const lines: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (k === 'VAULT_TOKEN') lines.push(`export VAULT_TOKEN="$(cat ${shq(join(dir, 'vault-token'))})"`);
    else if (k === 'HASHISHIP_STACK_BIN') continue;
    else lines.push(`export ${k}=${shq(v)}`);
  }
  if (env['HASHISHIP_STACK_BIN'] !== '') lines.push(`export PATH=${shq(env['HASHISHIP_STACK_BIN']!)}:"$PATH"`);
  return `${lines.join('\n')}\n`;
}
