/**
 * Container benchmarks against the real stack (its own dockerd, Nomad's docker
 * driver, the QA registry):
 *
 * - wall time of the same change to a docker-driver job (the hello image, a static
 *   Go binary, by digest, host networking, a Consul check): `hashiship deploy` (the
 *   compiled CLI, a new process each time) vs `nomad job run`, alternating rounds;
 * - pull + start of the sample's image by digest (examples/sample built with `docker
 *   build` on the Python base made here, scripts/images/python.sh): cold (the image
 *   and its base removed from the engine, so every layer comes from the registry) vs
 *   warm (already in the engine), each from job registration to a running allocation.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NomadAllocLabel } from '../src/stack/docker.js';
import { buildAndPushHello, docker } from '../test/helpers/images.js';
import { debianImage, eventually, purgeJobs, QaRegistry, runningAllocs } from '../test/helpers/workloads.js';
import { benchStack, median, size, type Benchmark, type Figure } from './harness.js';

const ENV = 'bench';
const ROUNDS = size(5, 1);
const PULL_ROUNDS = size(3, 1);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A docker-driver service job, stamped as hashiship's; `version` changes the task (a new allocation). */
function job(id: string, image: string, version: string, checks = true): Record<string, unknown> {
  return {
    ID: id,
    Name: id,
    Type: 'service',
    Datacenters: ['*'],
    Meta: { hashiship_tool: 'hashiship', hashiship_environment: ENV },
    TaskGroups: [
      {
        Name: 'web',
        Count: 1,
        Networks: [{ DynamicPorts: [{ Label: 'http' }] }],
        Update: {
          MaxParallel: 1,
          HealthCheck: checks ? 'checks' : 'task_states',
          MinHealthyTime: 1e9,
          HealthyDeadline: 60e9,
          ProgressDeadline: 120e9,
          AutoRevert: true,
        },
        RestartPolicy: { Attempts: 0, Interval: 60e9, Delay: 1e9, Mode: 'fail' },
        ReschedulePolicy: { Attempts: 0, Unlimited: false },
        Services: checks
          ? [{ Name: id, PortLabel: 'http', Provider: 'consul', Checks: [{ Name: `${id}-alive`, Type: 'http', Path: '/health', Interval: 1e9, Timeout: 1e9 }] }]
          : [],
        Tasks: [
          {
            Name: 'web',
            Driver: 'docker',
            Config: { image, network_mode: 'host' },
            Env: { APP_VERSION: version },
            KillTimeout: 1e9,
            Resources: { CPU: 50, MemoryMB: 64 },
          },
        ],
      },
    ],
  };
}

/** Run a command to its end; milliseconds, or an Error with its output. */
function timed(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Date.now() - t0) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${out.slice(-400)}`))));
  });
}

/**
 * The tagged images whose parent chain (the legacy builder records each build's
 * parent) reaches one of `roots`, deepest first.
 */
async function descendants(host: string, roots: ReadonlySet<string>): Promise<string[]> {
  const ids = [...new Set((await docker(host, ['image', 'ls', '--all', '--quiet', '--no-trunc'])).split('\n').map((x) => x.trim()))].filter(Boolean);
  if (ids.length === 0) return [];
  const parent = new Map<string, string>();
  for (const line of (await docker(host, ['image', 'inspect', '--format', '{{.Id}} {{.Parent}}', ...ids])).split('\n')) {
    const [id, p] = line.trim().split(' ');
    if (id !== undefined && id !== '' && p !== undefined && p !== '') parent.set(id, p);
  }
  const tagged = new Set((await docker(host, ['image', 'ls', '--quiet', '--no-trunc'])).split('\n').map((x) => x.trim()));
  const out: { id: string; depth: number }[] = [];
  for (const id of tagged) {
    if (id === '' || roots.has(id)) continue;
    let depth = 0;
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      depth++;
      if (roots.has(p)) {
        out.push({ id, depth });
        break;
      }
    }
  }
  return out.sort((a, b) => b.depth - a.depth).map((x) => x.id);
}

/** The images running containers use, with their parents (the engine keeps those too). */
async function inUse(host: string): Promise<Set<string>> {
  const containers = (await docker(host, ['ps', '--quiet', '--no-trunc']))
    .split('\n')
    .map((x) => x.trim())
    .filter(Boolean);
  const out = new Set<string>();
  if (containers.length === 0) return out;
  const images = (await docker(host, ['inspect', '--format', '{{.Image}}', ...containers]))
    .split('\n')
    .map((x) => x.trim())
    .filter(Boolean);
  for (let next = [...new Set(images)]; next.length > 0;) {
    for (const x of next) out.add(x);
    const parents = (await docker(host, ['image', 'inspect', '--format', '{{.Parent}}', ...next]))
      .split('\n')
      .map((x) => x.trim())
      .filter(Boolean);
    next = parents.filter((x) => !out.has(x));
  }
  return out;
}

const bench: Benchmark = {
  name: 'containers',
  async run(): Promise<readonly Figure[]> {
    const { env, config } = await benchStack();
    const host = env['DOCKER_HOST']!;
    const nomadAddr = config.nomad.address;
    const nomad = (env['HASHISHIP_STACK_BIN'] ?? '')
      .split(':')
      .map((d) => join(d, 'nomad'))
      .find((p) => existsSync(p));
    if (nomad === undefined) throw new Error('no nomad binary in HASHISHIP_STACK_BIN');
    const cli = join(root, 'dist', 'cli.js');
    if (!existsSync(cli)) throw new Error('dist/cli.js is missing: npm run build');
    const procEnv = { ...process.env, ...env };

    const tag = randomBytes(3).toString('hex');
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-bench-containers-'));
    const id = `bench-ctr-${tag}`;
    const pullId = `bench-pull-${tag}`;
    const file = join(dir, 'job.json');
    try {
      // The same change on containers: hashiship deploy vs nomad job run, alternating.
      const hello = await buildAndPushHello(host, QaRegistry, `hashiship-bench/hello-${tag}`, '1');
      const write = (v: string) => writeFileSync(file, JSON.stringify({ Job: job(id, hello.ref, v) }));
      write('0');
      await timed(process.execPath, [cli, 'deploy', '--env', ENV, '--job', file], procEnv);
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let i = 1; i <= ROUNDS; i++) {
        write(`h${i}`);
        ours.push(await timed(process.execPath, [cli, 'deploy', '--env', ENV, '--job', file], procEnv));
        write(`n${i}`);
        theirs.push(await timed(nomad, ['job', 'run', '-json', file], procEnv));
      }

      // The sample's image: its base made here, then docker build of examples/sample.
      const base = await debianImage(host, 'python');
      const sampleTag = `${QaRegistry}/hashiship-bench/sample:${tag}`;
      await docker(host, [
        'build',
        '--quiet',
        '--build-arg',
        `BASE=${base.tag}`,
        '--build-arg',
        `VERSION=${tag}`,
        '--tag',
        sampleTag,
        join(root, 'examples/sample'),
      ]);
      await docker(host, ['push', sampleTag]);
      const sampleRef = (JSON.parse(await docker(host, ['image', 'inspect', '--format', '{{json .RepoDigests}}', sampleTag])) as string[]).find((d) =>
        d.startsWith(`${QaRegistry}/hashiship-bench/sample@`),
      )!;

      /** Register the pull job at `version` and time it to a running allocation. */
      const pullStart = async (version: string): Promise<number> => {
        const t0 = Date.now();
        const res = await fetch(`${nomadAddr}/v1/jobs`, { method: 'POST', body: JSON.stringify({ Job: job(pullId, sampleRef, version, false) }) });
        if (!res.ok) throw new Error(`nomad: jobs.register: ${res.status} ${await res.text()}`);
        const { JobModifyIndex } = (await res.json()) as { JobModifyIndex: number };
        await eventually(`a running allocation of ${pullId}`, 180_000, async () => {
          const running = await runningAllocs(nomadAddr, pullId);
          const all = (await (await fetch(`${nomadAddr}/v1/job/${pullId}/allocations`)).json()) as {
            ClientStatus: string;
            ModifyIndex: number;
            JobVersion: number;
          }[];
          if (all.some((a) => a.ClientStatus === 'failed')) throw new Error(`an allocation of ${pullId} failed`);
          return running.some((a) => a.CreateIndex >= JobModifyIndex) ? true : undefined;
        });
        return Date.now() - t0;
      };
      const cold: number[] = [];
      /** Rounds whose cold pull kept images running containers use (their count). */
      const keptFor = new Set<number>();
      const warm: number[] = [];
      /** Images built on the Python base by this repository's tests and benchmarks: removed for a cold pull. */
      const onBase = ['hashiship/python', `${QaRegistry}/hashiship-images/python`, `${QaRegistry}/sample`, `${QaRegistry}/hashiship-bench/sample`];
      /** Purge the pull job and wait until its containers are gone from the engine. */
      const clear = async () => {
        const allocs = (await (await fetch(`${nomadAddr}/v1/job/${pullId}/allocations`)).json().catch(() => [])) as { ID: string }[];
        await purgeJobs(nomadAddr, pullId);
        for (const a of Array.isArray(allocs) ? allocs : []) {
          await eventually(`no container of allocation ${a.ID}`, 60_000, async () =>
            (await docker(host, ['ps', '--all', '--quiet', '--filter', `label=${NomadAllocLabel}=${a.ID}`])).trim() === '' ? true : undefined,
          );
        }
      };
      for (let i = 1; i <= PULL_ROUNDS; i++) {
        // Cold: the sample, its base and every image sharing the base leave the engine;
        // every layer is pulled by digest from the registry.
        await clear();
        const ids = new Set<string>();
        for (const ref of onBase) {
          for (const x of (await docker(host, ['image', 'ls', '--quiet', '--no-trunc', '--filter', `reference=${ref}`])).split('\n'))
            if (x.trim() !== '') ids.add(x.trim());
        }
        // Any other image built on them (the sample's copies of the promotion tests and the
        // demo, other services' images): the engine refuses to remove a parent of a child.
        for (const x of await descendants(host, ids)) ids.add(x);
        // Images running containers use (the sample `npm run demo` leaves running) and their
        // parents stay: nothing is stopped here. Their layers then stay in the engine too.
        const held = await inUse(host);
        const kept = [...ids].filter((x) => held.has(x));
        for (const x of kept) ids.delete(x);
        if (kept.length > 0) keptFor.add(kept.length);
        // Children before their parents: a pass removes what nothing depends on any more.
        for (let pass = 0; pass < 5 && ids.size > 0; pass++) {
          for (const x of [...ids]) if ((await docker(host, ['image', 'rm', '--force', x]).catch(() => undefined)) !== undefined) ids.delete(x);
        }
        if (ids.size > 0) throw new Error(`could not remove ${[...ids].join(', ')} from the engine for a cold pull`);
        cold.push(await pullStart(`cold${i}`));
        // Warm: the same start from no allocation, with the image already in the engine.
        await clear();
        warm.push(await pullStart(`warm${i}`));
      }
      return [
        {
          label: `deploy wall time of the same change on the docker driver (median of ${ROUNDS}, one CLI process each)`,
          value: median(ours) / 1000,
          unit: 's',
          peer: { name: 'nomad job run', value: median(theirs) / 1000 },
          target: 'ratio <= 0.9',
        },
        {
          label: `sample image by digest, cold pull + start to a running allocation (median of ${PULL_ROUNDS})${
            keptFor.size === 0 ? '' : `; the layers of images running containers use stayed in the engine (${[...keptFor].join(', ')} image(s))`
          }`,
          value: median(cold) / 1000,
          unit: 's',
          peer: { name: 'warm (image in the engine)', value: median(warm) / 1000 },
        },
      ];
    } finally {
      await purgeJobs(nomadAddr, id, pullId);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
