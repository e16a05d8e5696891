/**
 * Install the pinned peers into a cache outside the repository, keyed by version:
 * `<cache>/bin/<name>-<version>/<name>`. A binary already on PATH at the pinned
 * version is used as it is; Debian tools come from apt-get.
 */
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from '../errors.js';
import { silent, type Logger } from '../log.js';
import { sleep } from '../runtime.js';
import { alive, run, tail, which } from './proc.js';
import { plainVersion, type DebianTool, type GoBuild, type Tool } from './versions.js';

export interface InstallOptions {
  /** Cache root. */
  readonly cacheDir: string;
  /** Environment for the go and apt-get child processes (PATH is searched too). */
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: Logger;
}

/** Where a Go-built tool lives in the cache. */
export function cachedPath(cacheDir: string, t: GoBuild): string {
  return join(cacheDir, 'bin', `${t.name}-${t.version}`, t.name);
}

/** Ask a binary its version; undefined when it cannot say. */
export async function versionOf(bin: string, t: Tool): Promise<string | undefined> {
  try {
    const r = await run(bin, t.versionArgs, { timeoutMs: 15_000 });
    return t.versionPattern.exec(`${r.stdout}\n${r.stderr}`)?.[1];
  } catch {
    return undefined;
  }
}

async function onPathAtVersion(t: Tool, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const bin = which(t.name, env['PATH'] ?? '');
  if (bin === undefined) return undefined;
  const v = await versionOf(bin, t);
  return v !== undefined && v.startsWith(plainVersion(t)) ? bin : undefined;
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(p);
    else if (entry.isFile()) await chmod(p, 0o644);
  }
}

interface ModDownload {
  Dir?: string;
  Error?: string;
}

async function goModDownload(ref: string, env: NodeJS.ProcessEnv, cwd: string, t: GoBuild, logFile: string): Promise<string> {
  const r = await run('go', ['mod', 'download', '-json', ref], { env, cwd });
  let info: ModDownload = {};
  try {
    info = JSON.parse(r.stdout) as ModDownload;
  } catch {
    /* handled below */
  }
  if (r.code !== 0 || info.Dir === undefined) {
    throw new StackError(`install: ${t.name} ${t.version}: go mod download ${ref} failed`, {
      context: [
        ['Reason', (info.Error ?? r.stderr.trim()) || `exit ${r.code}`],
        ['Log', logFile],
      ],
    });
  }
  return info.Dir;
}

/**
 * One build of a tool at a time across processes (a test run and `dev up` may ask
 * at once): a lock folder holding the builder's pid. A waiter returns when the
 * binary appears, or takes over when the builder died.
 */
async function withBuildLock<T>(t: GoBuild, opts: InstallOptions, log: Logger, build: () => Promise<T>): Promise<T | string> {
  const lock = join(opts.cacheDir, 'build', `${t.name}-${t.version}.lock`);
  await mkdir(join(opts.cacheDir, 'build'), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => '0'));
      if (holder > 0 && !alive(holder)) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (!announced) {
        log({ kind: 'install.build', tool: t.name, version: t.version, step: `waiting for the build in process ${holder}` });
        announced = true;
      }
      await sleep(2000);
      const cached = cachedPath(opts.cacheDir, t);
      if (existsSync(cached)) return cached;
    }
  }
  try {
    return await build();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function buildGo(t: GoBuild, opts: InstallOptions, log: Logger): Promise<string> {
  const out = cachedPath(opts.cacheDir, t);
  if (existsSync(out)) return out;
  const started = Date.now();
  await mkdir(join(opts.cacheDir, 'build'), { recursive: true });
  await mkdir(join(opts.cacheDir, 'logs'), { recursive: true });
  const logFile = join(opts.cacheDir, 'logs', `build-${t.name}-${t.version}.log`);
  const work = await mkdtemp(join(opts.cacheDir, 'build', `${t.name}-`));
  const env: NodeJS.ProcessEnv = {
    ...(opts.env ?? process.env),
    GOMODCACHE: join(opts.cacheDir, 'gomod'),
    GOFLAGS: '-mod=mod -buildvcs=false',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: t.cgo === true ? '1' : '0',
  };
  try {
    log({ kind: 'install.build', tool: t.name, version: t.version, step: 'downloading module' });
    const dir = await goModDownload(`${t.module}@${t.version}`, env, work, t, logFile);
    const src = join(work, 'src');
    await cp(dir, src, { recursive: true });
    await makeWritable(src);
    for (const [path, ref] of Object.entries(t.nested ?? {})) {
      const ndir = await goModDownload(ref, env, work, t, logFile);
      const dest = join(src, path);
      // A nested module may itself hold nested ones (api/auth/*): keep what is there.
      await cp(ndir, dest, { recursive: true, force: false, errorOnExist: false });
      await makeWritable(dest);
    }
    log({ kind: 'install.build', tool: t.name, version: t.version, step: 'compiling (a cold build takes minutes)' });
    const tmpOut = join(work, 'out');
    const args = ['build', '-trimpath', '-ldflags', '-s -w', '-o', join(tmpOut, t.name)];
    if (t.tags !== undefined && t.tags.length > 0) args.push('-tags', t.tags.join(','));
    args.push(t.pkg ?? '.');
    const r = await run('go', args, { env, cwd: src, logFile });
    if (r.code !== 0) {
      throw new StackError(`install: ${t.name} ${t.version}: go build failed (exit ${r.code ?? r.signal})`, {
        context: [
          ['Log', logFile],
          ['Last lines', `\n${tail(logFile, 20)}`],
        ],
      });
    }
    await mkdir(join(opts.cacheDir, 'bin'), { recursive: true });
    const finalDir = join(opts.cacheDir, 'bin', `${t.name}-${t.version}`);
    await rm(finalDir, { recursive: true, force: true });
    await rename(tmpOut, finalDir);
    const seconds = (Date.now() - started) / 1000;
    log({ kind: 'install.done', tool: t.name, version: t.version, path: out, seconds });
    return out;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

let aptUpdated = false;

/** PATH plus the sbin folders a daemon such as dockerd is installed in (not on every user's PATH). */
function debianPath(env: NodeJS.ProcessEnv): string {
  return [env['PATH'] ?? '', '/usr/sbin', '/sbin'].join(':');
}

async function installDebian(t: DebianTool, opts: InstallOptions, log: Logger): Promise<string> {
  const env = opts.env ?? process.env;
  const found = which(t.name, debianPath(env));
  if (found !== undefined) return found;
  const canApt = which('apt-get', env['PATH'] ?? '') !== undefined && process.getuid?.() === 0;
  if (!canApt) {
    throw new StackError(`install: ${t.name} is missing`, {
      context: [['Suggestion', `install the Debian package: apt-get install ${t.pkg}`]],
    });
  }
  const started = Date.now();
  await mkdir(join(opts.cacheDir, 'logs'), { recursive: true });
  const logFile = join(opts.cacheDir, 'logs', `apt-${t.pkg}.log`);
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log({ kind: 'install.build', tool: t.name, version: t.version, step: 'apt-get update' });
    await run('apt-get', ['update', '-qq'], { env: aptEnv, logFile });
    aptUpdated = true;
  }
  log({ kind: 'install.build', tool: t.name, version: t.version, step: `apt-get install ${t.pkg}` });
  const r = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', t.pkg], { env: aptEnv, logFile });
  const bin = which(t.name, debianPath(env));
  if (r.code !== 0 || bin === undefined) {
    throw new StackError(`install: apt-get install ${t.pkg} failed`, {
      context: [['Last lines', `\n${tail(logFile, 10)}`]],
    });
  }
  log({ kind: 'install.done', tool: t.name, version: t.version, path: bin, seconds: (Date.now() - started) / 1000 });
  return bin;
}

/**
 * Make one tool available and return the path of its executable.
 * @throws {StackError} when it can neither be found nor built.
 */
export async function ensureTool(t: Tool, opts: InstallOptions): Promise<string> {
  const log = opts.log ?? silent;
  if (t.kind === 'debian') return installDebian(t, opts, log);
  const cached = cachedPath(opts.cacheDir, t);
  if (existsSync(cached) && (await stat(cached)).isFile()) {
    log({ kind: 'install.cached', tool: t.name, version: t.version, path: cached });
    return cached;
  }
  const onPath = await onPathAtVersion(t, opts.env ?? process.env);
  if (onPath !== undefined) {
    log({ kind: 'install.cached', tool: t.name, version: t.version, path: onPath });
    return onPath;
  }
  if (which('go', (opts.env ?? process.env)['PATH'] ?? '') === undefined) {
    throw new StackError(`install: ${t.name} ${t.version} is not built and go is not on PATH`, {
      context: [['Suggestion', 'install Go 1.25 or newer, or put the pinned binary on PATH']],
    });
  }
  return withBuildLock(t, opts, log, () => buildGo(t, opts, log));
}

/** Make every tool available, one after another (the machine has two cores). */
export async function ensureTools(tools: readonly Tool[], opts: InstallOptions): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of tools) out[t.name] = await ensureTool(t, opts);
  return out;
}
