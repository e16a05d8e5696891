/**
 * The seed's workloads on the dev stack (test/integration/workloads-*.test.ts):
 * images made here from Debian packages by scripts/images/*.sh (cached outside the
 * repository, built into the stack's engine and pushed to the QA registry once, then
 * reused by every test and run), service specs written to a temp dir and shipped
 * with `hashiship deploy` run in-process, and small readers of what really runs
 * (Consul's passing instances, the containers Nomad started).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { main } from '../../src/cli.js';
import { stackAddresses } from '../../src/stack/components.js';
import { NomadAllocLabel } from '../../src/stack/docker.js';
import { docker, type BuiltImage } from './images.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
export const QaRegistry = '127.0.0.1:5001';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` every 200 ms until it returns a value; the last error in the timeout message. */
export async function eventually<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await sleep(200);
  }
}

/** Print a measured figure in the test output (collected for the report). */
export function figure(what: string, seconds: number): void {
  process.stderr.write(`      [figure] ${what}: ${seconds.toFixed(2)} s\n`);
}

const images = new Map<string, Promise<BuiltImage & { cached: boolean }>>();

/**
 * An image of scripts/images/<name>.sh in the stack's engine and the QA registry as
 * `127.0.0.1:5001/hashiship-images/<name>:<key>` (the key names the script and the
 * package versions). Built and pushed only when the registry does not have that tag
 * yet or the engine lost it; otherwise reused as it is.
 */
export function debianImage(host: string, name: string): Promise<BuiltImage & { cached: boolean }> {
  let p = images.get(name);
  if (p === undefined) {
    p = (async () => {
      const t0 = Date.now();
      const r = await exec('bash', [join(root, 'scripts/images', `${name}.sh`)], { timeout: 600_000, maxBuffer: 4 * 1024 * 1024 });
      const context = r.stdout.trim().split('\n').pop()!;
      const key = basename(context).slice(name.length + 1);
      const tag = `${QaRegistry}/hashiship-images/${name}:${key}`;
      const t1 = Date.now();
      const inRegistry = await fetch(`http://${QaRegistry}/v2/hashiship-images/${name}/manifests/${key}`, {
        method: 'HEAD',
        headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      });
      const inEngine = await docker(host, ['image', 'inspect', '--format', '{{json .RepoDigests}}', tag]).catch(() => undefined);
      const cached = inRegistry.ok && inEngine !== undefined;
      if (!cached) {
        await docker(host, ['build', '--quiet', '--tag', tag, context], 600_000);
        await docker(host, ['push', tag], 600_000);
      }
      const t2 = Date.now();
      const digests = JSON.parse(await docker(host, ['image', 'inspect', '--format', '{{json .RepoDigests}}', tag])) as string[];
      const ref = digests.find((d) => d.startsWith(`${QaRegistry}/hashiship-images/${name}@`));
      if (ref === undefined) throw new Error(`no registry digest of ${tag}: ${JSON.stringify(digests)}`);
      return { tag, ref, digest: ref.slice(ref.indexOf('@') + 1), buildSeconds: (t1 - t0) / 1000, pushSeconds: (t2 - t1) / 1000, cached };
    })();
    images.set(name, p);
  }
  return p;
}

let jar: Promise<{ path: string; sha256: string }> | undefined;

/** test/fixtures/images/hello-java compiled with javac and packed with jar, once per process. */
export function helloJar(): Promise<{ path: string; sha256: string }> {
  jar ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-jar-'));
    const src = fileURLToPath(new URL('../fixtures/images/hello-java/Hello.java', import.meta.url));
    await exec('javac', ['--release', '17', '-d', join(dir, 'classes'), src], { timeout: 120_000 });
    const path = join(dir, 'hello.jar');
    await exec('jar', ['--create', '--file', path, '--main-class', 'Hello', '-C', join(dir, 'classes'), '.'], { timeout: 60_000 });
    return { path, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
  })();
  return jar;
}

/** A folder of specs and one environment (registry: the QA registry) for `hashiship deploy`. */
export class SpecDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'hashiship-workload-'));
  readonly services = join(this.dir, 'services');
  readonly environments = join(this.dir, 'environments');

  constructor(
    readonly env: string,
    environmentYaml = `name: ${env}\ndatacenters: ["*"]\nregistry: ${QaRegistry}\n`,
  ) {
    mkdirSync(this.services);
    mkdirSync(this.environments);
    writeFileSync(join(this.environments, `${env}.yaml`), environmentYaml);
  }

  write(name: string, yaml: string): void {
    writeFileSync(join(this.services, `${name}.yaml`), yaml);
  }

  /** `hashiship deploy --env <env> <name>` in-process. */
  deploy(name: string, ...extra: string[]): Promise<CliRun> {
    return cli('deploy', '--env', this.env, name, '--services', this.services, '--environments', this.environments, ...extra);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly seconds: number;
}

/** Run the CLI in-process with the stack's variables, capturing what it prints (stdout and stderr together). */
export async function cli(...args: string[]): Promise<CliRun> {
  let out = '';
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => ((out += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((out += String(c)), true)) as typeof process.stderr.write;
  const t0 = Date.now();
  try {
    return { code: await main(args), out, seconds: (Date.now() - t0) / 1000 };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

/** Set the stack's variables in process.env for in-process CLI runs; returns the restore. */
export function withEnv(env: Readonly<Record<string, string>>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

export interface Instance {
  readonly address: string;
  readonly port: number;
  readonly id: string;
}

/** The instances of a service whose checks all pass, from Consul's health endpoint. */
export async function passing(service: string): Promise<Instance[]> {
  const res = await fetch(`${stackAddresses.consul}/v1/health/service/${service}?passing=true`);
  if (!res.ok) throw new Error(`consul: health.service ${service}: ${res.status}`);
  const rows = (await res.json()) as { Service: { ID: string; Address: string; Port: number } }[];
  return rows.map((r) => ({ address: r.Service.Address, port: r.Service.Port, id: r.Service.ID }));
}

/** Wait until exactly `n` instances pass (bounded). */
export function passingInstances(service: string, n: number, ms = 60_000): Promise<Instance[]> {
  return eventually(`${n} passing instance(s) of ${service} in Consul`, ms, async () => {
    const p = await passing(service);
    return p.length === n ? p : undefined;
  });
}

export interface Alloc {
  readonly ID: string;
  readonly ClientStatus: string;
  readonly DesiredStatus: string;
  readonly JobVersion: number;
  readonly CreateIndex: number;
}

/** The job's allocations that are running and meant to run. */
export async function runningAllocs(nomadAddress: string, jobId: string, namespace = 'default'): Promise<Alloc[]> {
  const res = await fetch(`${nomadAddress}/v1/job/${jobId}/allocations?namespace=${namespace}`);
  if (!res.ok) throw new Error(`nomad: job.allocations ${jobId}: ${res.status}`);
  return ((await res.json()) as Alloc[]).filter((a) => a.ClientStatus === 'running' && a.DesiredStatus === 'run');
}

export interface Container {
  readonly Id: string;
  readonly Image: string;
  readonly Config: { readonly Image: string };
  readonly HostConfig: { readonly NetworkMode: string };
  readonly State: { readonly Running: boolean; readonly StartedAt: string };
}

/** The container Nomad's docker driver runs for an allocation, read back from the engine. */
export async function containerOf(host: string, allocId: string): Promise<Container> {
  const ids = (await docker(host, ['ps', '--quiet', '--no-trunc', '--filter', `label=${NomadAllocLabel}=${allocId}`])).trim().split('\n').filter(Boolean);
  if (ids.length !== 1) throw new Error(`expected one container for allocation ${allocId}, found ${ids.length}`);
  const [c] = JSON.parse(await docker(host, ['container', 'inspect', ids[0]!])) as Container[];
  return c!;
}

/** Purge jobs (ignoring those already gone). */
export async function purgeJobs(nomadAddress: string, ...ids: string[]): Promise<void> {
  for (const id of ids) await fetch(`${nomadAddress}/v1/job/${id}?purge=true`, { method: 'DELETE' }).catch(() => undefined);
}
