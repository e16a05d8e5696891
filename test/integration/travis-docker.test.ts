/**
 * The sample's `.travis.yml` ship stage executed for real against the dev stack:
 * its `before_script` lines (docker login, the base image made from Debian packages,
 * `docker build`, `docker push` to the QA registry) and its `script` (`npx zx
 * scripts/promote.mjs`) run with bash in a checkout of the sample, with the stack's
 * engine (DOCKER_HOST) and the QA registry as QA_REGISTRY. The sample's spec is the
 * repository's (docker driver, host networking) with the repository `sample`. Then
 * production is read back from Nomad and the engine: the job names the promoted
 * digest in the production registry, and the container Nomad runs was created from
 * exactly that digest.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readRelease } from '../../src/release/records.js';
import { docker } from '../helpers/images.js';
import { cleanupSample, setupSample, viaFabio, type Sample } from '../helpers/sample.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { containerOf, figure, runningAllocs } from '../helpers/workloads.js';

const root = new URL('../../', import.meta.url).pathname;
const run = randomBytes(3).toString('hex');
// A build number no other run uses: the QA repository `sample` is shared by runs.
const build = String(200_000_000 + Math.floor(Math.random() * 700_000_000));

interface Ship {
  readonly before_script: readonly string[];
  readonly script: readonly string[];
}

/** The sample's spec (docker driver, host networking) with the repository .travis.yml pushes to. */
function onDocker(yaml: string): string {
  const out = yaml.replace(/repository: hashiship\/sample-[\w-]+/, 'repository: sample');
  if (!out.includes('driver: docker') || !out.includes('network_mode: host') || !out.includes('repository: sample\n'))
    throw new Error(`the sample's spec changed shape:\n${out}`);
  return out;
}

/** One line of the .travis.yml run by bash -e in the checkout, output kept. */
function sh(line: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn('bash', ['-eo', 'pipefail', '-c', line], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, seconds: (Date.now() - t0) / 1000 }));
  });
}

describe('the sample .travis.yml ship stage run for real: docker build, docker push, zx scripts/promote.mjs', function () {
  let stack: TestStack;
  let sample: Sample;
  let checkout: string;
  const dockerConfig = mkdtempSync(join(tmpdir(), 'hashiship-docker-config-'));

  before(async function () {
    this.timeout(600_000);
    stack = await useStack();
    sample = await setupSample(stack.config, `docker-${run}`, onDocker);
    const prod = join(sample.dirs.environments, 'production.yaml');
    writeFileSync(prod, readFileSync(prod, 'utf8').replace(/hold: \d+s/, 'hold: 1s'));
    // The service repository as Travis checks it out: the sample's files, its specs under
    // jobs/, and what it copies from hashiship (scripts/) or installs (node_modules).
    checkout = mkdtempSync(join(tmpdir(), 'hashiship-travis-docker-'));
    cpSync(join(root, 'examples/sample'), checkout, { recursive: true });
    rmSync(join(checkout, 'jobs'), { recursive: true });
    symlinkSync(sample.dir, join(checkout, 'jobs'));
    symlinkSync(join(root, 'scripts'), join(checkout, 'scripts'));
    symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'));
  });

  after(async function () {
    this.timeout(60_000);
    if (sample !== undefined) await cleanupSample(stack.config, sample);
    if (checkout !== undefined) rmSync(checkout, { recursive: true, force: true });
    rmSync(dockerConfig, { recursive: true, force: true });
  });

  it('builds and pushes the image as .travis.yml says, promotes it, and production runs exactly that digest', async function () {
    this.timeout(600_000);
    const travis = parse(readFileSync(join(root, 'examples/sample/.travis.yml'), 'utf8')) as { jobs: { include: ({ stage?: string } & Ship)[] } };
    const ship = travis.jobs.include.find((j) => j.stage === 'ship')!;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...stack.env,
      // The job's env.global for this stack; the secrets as Travis repository settings would.
      QA_REGISTRY: '127.0.0.1:5001',
      QA_REGISTRY_USERNAME: 'ci',
      QA_REGISTRY_PASSWORD: 'unused-by-an-open-registry',
      HASHISHIP_SERVICES: sample.service,
      HASHISHIP_RELEASE_BRANCH: 'main',
      HASHISHIP_HEARTBEAT_SECONDS: '5',
      TRAVIS_BUILD_NUMBER: build,
      TRAVIS_BRANCH: 'main',
      TRAVIS_PULL_REQUEST: 'false',
      TRAVIS_COMMIT: randomBytes(20).toString('hex'),
      DOCKER_CONFIG: dockerConfig,
    };
    for (const line of [...ship.before_script, ...ship.script]) {
      const r = await sh(line, checkout, env);
      figure(`travis: ${line.slice(0, 60)}`, r.seconds);
      expect(r.code, `${line}\n${r.out}`).to.equal(0);
    }

    // What was pushed: the digest the engine recorded for the build's tag.
    const pushed = (
      JSON.parse(
        await docker(stack.env['DOCKER_HOST']!, ['image', 'inspect', '--format', '{{json .RepoDigests}}', `127.0.0.1:5001/sample:${build}`]),
      ) as string[]
    ).find((d) => d.startsWith('127.0.0.1:5001/sample@'))!;
    const digest = pushed.slice(pushed.indexOf('@') + 1);
    expect((await readRelease(stack.clients.consul, 'qa', sample.service))?.record).to.include({ digest, build });
    expect((await readRelease(stack.clients.consul, 'production', sample.service))?.record).to.include({ digest, build, via: 'promote' });

    // Production read back from Nomad: the job's task names the digest in the production registry…
    const job = (await (await fetch(`${stack.config.nomad.address}/v1/job/${sample.service}?namespace=production`)).json()) as {
      TaskGroups: { Tasks: { Driver: string; Config: { image: string } }[] }[];
    };
    const task = job.TaskGroups[0]!.Tasks[0]!;
    expect(task.Driver).to.equal('docker');
    expect(task.Config.image).to.equal(`127.0.0.1:5002/sample@${digest}`);
    // …and from the engine: every running production allocation's container was created from it.
    const allocs = await runningAllocs(stack.config.nomad.address, sample.service, 'production');
    expect(allocs.length).to.be.at.least(1);
    for (const a of allocs) {
      const c = await containerOf(stack.env['DOCKER_HOST']!, a.ID);
      expect(c.Config.Image).to.equal(`127.0.0.1:5002/sample@${digest}`);
      const [img] = JSON.parse(await docker(stack.env['DOCKER_HOST']!, ['image', 'inspect', c.Image])) as { RepoDigests: string[] }[];
      expect(img!.RepoDigests).to.include(`127.0.0.1:5002/sample@${digest}`);
    }
    expect((await viaFabio(`${sample.service}.prod.local`, '/version')).body).to.equal(build);
  });
});
