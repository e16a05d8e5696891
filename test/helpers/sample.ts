/**
 * The sample service (examples/sample) set up for one run on the dev stack:
 * its spec and environments copied to a temp dir under a unique service name
 * (`sample-<suffix>`, repository `hashiship/sample-<suffix>`), the Nomad
 * namespaces `qa` and `production`, images built and pushed to the QA registry, a
 * GET through Fabio's proxy with a Host header, and the clean-up of its jobs and
 * keys. Shared by test/integration/promote*.test.ts, travis-*.test.ts and
 * bench/promote.bench.ts.
 *
 * Two ways to run it, as the spec can say:
 * - `docker` (the sample's own spec): a container of examples/sample/Dockerfile,
 *   made with `docker build` on the stack's engine (its base from
 *   scripts/images/python.sh) and `docker push`ed, as the sample's .travis.yml does;
 *   Nomad's docker driver pulls it by digest from each environment's registry.
 * - `raw_exec` (clusters without Docker): the spec's task turned into raw_exec
 *   running the image's layer, which Nomad fetches by digest as an artifact; the
 *   image is one layer (server and VERSION) pushed through the registry API.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClients } from '../../src/clients.js';
import { resolveConfig, type HashishipConfig } from '../../src/config/index.js';
import { weightKey } from '../../src/fabio/weights.js';
import { hostArchitecture } from '../../src/release/image.js';
import { pushImage } from '../../src/registry/index.js';
import { dockerHost } from '../../src/stack/docker.js';
import { stateDirOf } from '../../src/stack/stack.js';
import { docker } from './images.js';
import { testStackOptions } from './stack.js';
import { containerOf, runningAllocs } from './workloads.js';

const exec = promisify(execFile);
const here = new URL('../../examples/sample/', import.meta.url);
const root = fileURLToPath(new URL('../../', import.meta.url));
export const QaRegistry = '127.0.0.1:5001';
/** The tag the sample's Dockerfile starts FROM. */
export const SampleBase = 'hashiship/python:3.11';

/** How the sample's task runs. */
export type SampleDriver = 'docker' | 'raw_exec';

/** One copy of the sample on the stack. */
export interface Sample {
  readonly service: string;
  readonly repository: string;
  readonly dir: string;
  readonly dirs: { readonly services: string; readonly environments: string };
  readonly driver: SampleDriver;
  /** The engine images are built on (`unix://…`): the stack's. */
  readonly dockerHost: string;
  /** Digests of the images built, by build number. */
  readonly digests: Record<string, string>;
}

export interface SampleOptions {
  /** @default docker (the sample's spec) */
  readonly driver?: SampleDriver;
  /** @default the stack's engine (HASHISHIP_STACK_DIR or the default state folder) */
  readonly dockerHost?: string;
}

/**
 * The sample's spec with its task on raw_exec (clusters without Docker): the
 * host's python3 runs the server from the image's layer, fetched as an artifact.
 */
export function onRawExec(yaml: string): string {
  const out = yaml
    .replace('driver: docker', 'driver: raw_exec')
    .replace(/\n {8}docker:\n {10}network_mode: host\n/, '\n        command: /usr/bin/python3\n        args: ["${NOMAD_TASK_DIR}/image/app/server.py"]\n');
  if (!out.includes('driver: raw_exec') || out.includes('network_mode')) throw new Error(`the sample's spec changed shape:\n${out}`);
  return out;
}

/**
 * Copy the sample's spec and environments under a unique name; `edit` may change
 * the service file (e.g. shorter deadlines). Creates the Nomad namespaces.
 */
export async function setupSample(
  config: HashishipConfig,
  suffix: string,
  edit: (yaml: string) => string = (y) => y,
  opts: SampleOptions = {},
): Promise<Sample> {
  for (const ns of ['qa', 'production']) {
    const res = await fetch(`${config.nomad.address}/v1/namespace/${ns}`, {
      method: 'PUT',
      body: JSON.stringify({ Name: ns, Description: `hashiship ${ns} (sample service)` }),
    });
    if (!res.ok) throw new Error(`PUT /v1/namespace/${ns}: ${res.status} ${await res.text()}`);
  }
  const service = `sample-${suffix}`;
  const repository = `hashiship/sample-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'hashiship-sample-'));
  const dirs = { services: join(dir, 'services'), environments: join(dir, 'environments') };
  mkdirSync(dirs.services);
  mkdirSync(dirs.environments);
  const yaml = readFileSync(new URL('jobs/services/sample.yaml', here), 'utf8')
    .replace('name: sample\n', `name: ${service}\n`)
    .replace('repository: hashiship/sample', `repository: ${repository}`)
    .replace('host: sample', `host: ${service}`);
  const driver = opts.driver ?? 'docker';
  writeFileSync(join(dirs.services, `${service}.yaml`), edit(driver === 'raw_exec' ? onRawExec(yaml) : yaml));
  for (const env of ['qa', 'production']) {
    writeFileSync(join(dirs.environments, `${env}.yaml`), readFileSync(new URL(`jobs/environments/${env}.yaml`, here), 'utf8'));
  }
  return { service, repository, dir, dirs, driver, dockerHost: opts.dockerHost ?? dockerHost(stateDirOf(testStackOptions())), digests: {} };
}

const bases = new Map<string, Promise<void>>();

/**
 * The sample's base (`hashiship/python:3.11`) in the engine, made once per process
 * from scripts/images/python.sh (its context is cached, the build reuses the
 * engine's layer): the line the sample's .travis.yml runs before `docker build`.
 */
export function sampleBase(host: string): Promise<void> {
  let p = bases.get(host);
  if (p === undefined) {
    p = (async () => {
      const r = await exec('bash', [join(root, 'scripts/images/python.sh')], { timeout: 600_000, maxBuffer: 4 * 1024 * 1024 });
      const context = r.stdout.trim().split('\n').pop()!;
      await docker(host, ['build', '--quiet', '--tag', SampleBase, context], 600_000);
    })();
    p.catch(() => bases.delete(host));
    bases.set(host, p);
  }
  return p;
}

/**
 * Build version `version` of the sample and push it to the QA registry as
 * `<repository>:<build>`; `brokenIn` names the environment whose health check it
 * fails (a `broken_in` file in the image). Returns the pushed manifest's digest.
 */
export async function buildSample(s: Sample, build: string, version: string, brokenIn?: string): Promise<string> {
  const digest = s.driver === 'docker' ? await dockerBuild(s, build, version, brokenIn) : await apiBuild(s, build, version, brokenIn);
  s.digests[build] = digest;
  return digest;
}

/** `docker build --build-arg VERSION=<version>` of examples/sample, then `docker push`: what .travis.yml runs. */
async function dockerBuild(s: Sample, build: string, version: string, brokenIn?: string): Promise<string> {
  await sampleBase(s.dockerHost);
  const context = mkdtempSync(join(tmpdir(), 'hashiship-sample-build-'));
  try {
    cpSync(new URL('Dockerfile', here), join(context, 'Dockerfile'));
    cpSync(new URL('app', here), join(context, 'app'), { recursive: true });
    if (brokenIn !== undefined) writeFileSync(join(context, 'app', 'broken_in'), `${brokenIn}\n`);
    const name = `${QaRegistry}/${s.repository}:${build}`;
    await docker(s.dockerHost, ['build', '--quiet', '--build-arg', `VERSION=${version}`, '--tag', name, context]);
    await docker(s.dockerHost, ['push', '--quiet', name]);
    const digests = JSON.parse(await docker(s.dockerHost, ['image', 'inspect', '--format', '{{json .RepoDigests}}', name])) as string[];
    const ref = digests.find((d) => d.startsWith(`${QaRegistry}/${s.repository}@`));
    if (ref === undefined) throw new Error(`no digest of ${name} after the push: ${JSON.stringify(digests)}`);
    return ref.slice(ref.indexOf('@') + 1);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** One layer (server, VERSION, broken_in) pushed through the registry API: the raw_exec sample. */
async function apiBuild(s: Sample, build: string, version: string, brokenIn?: string): Promise<string> {
  const files: Record<string, string> = {
    'app/server.py': readFileSync(new URL('app/server.py', here), 'utf8'),
    'app/VERSION': `${version}\n`,
  };
  if (brokenIn !== undefined) files['app/broken_in'] = `${brokenIn}\n`;
  const r = await pushImage(`${QaRegistry}/${s.repository}:${build}`, {
    clients: createClients(resolveConfig({ env: {}, home: '/nonexistent' })).registries, // the dev stack's QA registry is anonymous
    platforms: [{ os: 'linux', architecture: hostArchitecture(), layers: [{ files }], config: { Cmd: ['python3', '/app/server.py'] } as never }],
  });
  return r.digest;
}

/** GET through Fabio's proxy with a Host header (fetch cannot set Host). */
export function viaFabio(host: string, path: string, proxyPort = 9999): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path, headers: { Host: host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Purge the sample's jobs in both namespaces and delete its keys. */
export async function cleanupSample(config: HashishipConfig, s: Sample): Promise<void> {
  for (const ns of ['qa', 'production']) {
    await fetch(`${config.nomad.address}/v1/job/${s.service}?purge=true&namespace=${ns}`, { method: 'DELETE' }).catch(() => undefined);
  }
  const keys = [
    `hashiship/releases/qa/${s.service}`,
    `hashiship/releases/production/${s.service}`,
    `hashiship/promotions/production/${s.service}`,
    `hashiship/locks/production/${s.service}`,
    weightKey(s.service),
  ];
  for (const k of keys) await fetch(`${config.consul.address}/v1/kv/${k}?recurse=true`, { method: 'DELETE' }).catch(() => undefined);
  rmSync(s.dir, { recursive: true, force: true });
}

/** What an environment of the sample runs, read back from Nomad and the engine (never from our records). */
export interface Running {
  /** The job's task driver. */
  readonly driver: string;
  /** The image the job names: the docker `image`, or the raw_exec task's `hashiship_image` meta. */
  readonly image: string;
  /** Per running allocation (docker only): the image reference its container was created from, and that image's RepoDigests. */
  readonly containers: readonly { readonly alloc: string; readonly image: string; readonly repoDigests: readonly string[] }[];
}

/** The sample's job in `namespace` and, on docker, the containers of its running allocations. */
export async function runningImage(config: HashishipConfig, s: Sample, namespace: string): Promise<Running> {
  const res = await fetch(`${config.nomad.address}/v1/job/${s.service}?namespace=${namespace}`);
  if (!res.ok) throw new Error(`nomad: job ${s.service} in ${namespace}: ${res.status} ${await res.text()}`);
  const job = (await res.json()) as { TaskGroups: { Tasks: { Driver: string; Config?: { image?: string }; Meta?: Record<string, string> | null }[] }[] };
  const task = job.TaskGroups[0]!.Tasks[0]!;
  const image = task.Config?.image ?? task.Meta?.['hashiship_image'] ?? '';
  const containers = [];
  if (task.Driver === 'docker') {
    for (const a of await runningAllocs(config.nomad.address, s.service, namespace)) {
      const c = await containerOf(s.dockerHost, a.ID);
      const [img] = JSON.parse(await docker(s.dockerHost, ['image', 'inspect', c.Image])) as { RepoDigests: string[] }[];
      containers.push({ alloc: a.ID, image: c.Config.Image, repoDigests: img?.RepoDigests ?? [] });
    }
  }
  return { driver: task.Driver, image, containers };
}
