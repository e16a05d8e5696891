/**
 * The Travis entry point for real: `zx scripts/promote.mjs` run as Travis runs it
 * (the build's variables, the service repository as working directory, its specs in
 * `jobs/`), against the stack, with hashiship from dist/ through the package's
 * self-reference. A pull-request build reaches QA only; a push to main reaches
 * production; a build whose image was never pushed fails in its fold with
 * hashiship's exit code. The heartbeat is set to 1 s so it shows during the deploy.
 * The sample runs here as on a cluster without Docker: raw_exec running the image's
 * layer, fetched by digest from each environment's registry as an artifact (the
 * container path is travis-docker.test.ts and promote*.test.ts).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { foldEnd, foldStart } from '../../src/ci/travis.js';
import { ExitCode } from '../../src/errors.js';
import { weightKey } from '../../src/fabio/weights.js';
import { readRelease } from '../../src/release/records.js';
import { buildSample, cleanupSample, setupSample, viaFabio, type Sample } from '../helpers/sample.js';
import { ensureBuilt } from '../helpers/dist.js';
import { useStack, type TestStack } from '../helpers/stack.js';

const root = new URL('../../', import.meta.url).pathname;
const run = randomBytes(3).toString('hex');
// Build numbers of this run: unique enough that a production tag of another run never collides.
const base = 100_000 + Math.floor(Math.random() * 800_000) * 10;

interface ScriptRun {
  readonly code: number | null;
  readonly out: string;
  readonly seconds: number;
}

describe('scripts/promote.mjs: the Travis entry point run for real', function () {
  let stack: TestStack;
  let sample: Sample;
  let repo: string;

  /** Run the script as Travis would for build `n` (stdout and stderr in one stream, in order). */
  const travis = (n: string, vars: Record<string, string>): Promise<ScriptRun> =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      const child = spawn(join(root, 'node_modules/.bin/zx'), [join(root, 'scripts/promote.mjs')], {
        cwd: repo,
        env: {
          ...process.env,
          ...stack.env,
          TRAVIS_BUILD_NUMBER: n,
          TRAVIS_BRANCH: 'main',
          TRAVIS_PULL_REQUEST: 'false',
          TRAVIS_COMMIT: randomBytes(20).toString('hex'),
          HASHISHIP_SERVICES: sample.service,
          HASHISHIP_HEARTBEAT_SECONDS: '1',
          ...vars,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out, seconds: (Date.now() - started) / 1000 }));
    });

  const figure = (what: string, r: ScriptRun) => process.stderr.write(`      [figure] ${what}: exit ${r.code} in ${r.seconds.toFixed(1)} s\n`);

  before(async function () {
    this.timeout(600_000);
    stack = await useStack();
    // The script runs hashiship from dist/: rebuild it when src/ changed since.
    ensureBuilt();
    sample = await setupSample(stack.config, `ci-${run}`, undefined, { driver: 'raw_exec' });
    // Short holds: the production environment of this copy holds each weight step 1 s.
    const prod = join(sample.dirs.environments, 'production.yaml');
    writeFileSync(prod, readFileSync(prod, 'utf8').replace(/hold: \d+s/, 'hold: 1s'));
    // The service repository Travis checks out: its specs under jobs/ (the CLI's default).
    repo = mkdtempSync(join(tmpdir(), 'hashiship-travis-'));
    symlinkSync(sample.dir, join(repo, 'jobs'));
  });

  after(async function () {
    this.timeout(60_000);
    if (sample !== undefined) await cleanupSample(stack.config, sample);
    if (repo !== undefined) rmSync(repo, { recursive: true, force: true });
  });

  it('a pull-request build deploys to QA only, in a closed fold with heartbeats, and says why production is untouched', async function () {
    this.timeout(240_000);
    const n = String(base + 1);
    const digest = await buildSample(sample, n, `v${n}`);
    const r = await travis(n, { TRAVIS_PULL_REQUEST: '42', TRAVIS_BRANCH: 'feature-x' });
    figure('pull-request build', r);
    expect(r.code, r.out).to.equal(0);
    const start = r.out.indexOf(foldStart('hashiship.deploy.qa'));
    const end = r.out.indexOf(foldEnd('hashiship.deploy.qa'));
    expect(start, r.out).to.be.greaterThan(-1);
    expect(end, r.out).to.be.greaterThan(start);
    // The heartbeat shows inside the deploy's fold (the deploy waits for health several seconds).
    const beat = r.out.indexOf(`still running: deploy build ${n} to qa (`);
    expect(beat, r.out).to.be.greaterThan(start).and.lessThan(end);
    expect(r.out).to.contain('not promoted: pull request #42 builds never reach production');
    expect(r.out).not.to.contain('travis_fold:start:hashiship.promote');
    expect((await readRelease(stack.clients.consul, 'qa', sample.service))?.record).to.include({ digest, build: n });
    expect(await readRelease(stack.clients.consul, 'production', sample.service)).to.equal(undefined);
    expect((await viaFabio(`${sample.service}.qa.local`, '/version')).body).to.equal(`v${n}`);
  });

  it('a push to main deploys to QA then promotes to production (exit 0); production serves that build', async function () {
    this.timeout(300_000);
    const n = String(base + 2);
    const digest = await buildSample(sample, n, `v${n}`);
    const r = await travis(n, {});
    figure('main push build', r);
    expect(r.code, r.out).to.equal(0);
    const marks = [
      foldStart('hashiship.deploy.qa'),
      foldEnd('hashiship.deploy.qa'),
      foldStart('hashiship.promote.production'),
      foldEnd('hashiship.promote.production'),
    ].map((m) => r.out.indexOf(m));
    expect(
      marks.every((m) => m >= 0),
      r.out,
    ).to.equal(true);
    expect([...marks].sort((a, b) => a - b)).to.deep.equal(marks);
    expect(r.out).to.contain(`$ hashiship promote --from qa --to production ${sample.service} --build ${n}`);
    expect(r.out).to.match(/hashiship: promoted\n$/);
    const rec = (await readRelease(stack.clients.consul, 'production', sample.service))?.record;
    expect(rec).to.include({ digest, build: n, via: 'promote' });
    expect(rec?.images[0]?.registry).to.equal('127.0.0.1:5002');
    // raw_exec: the production job runs the image's layer fetched from the production registry by digest.
    const job = (await (await fetch(`${stack.config.nomad.address}/v1/job/${sample.service}?namespace=production`)).json()) as {
      TaskGroups: { Tasks: { Driver: string; Artifacts: { GetterSource: string; GetterOptions: Record<string, string> }[]; Meta: Record<string, string> }[] }[];
    };
    const task = job.TaskGroups[0]!.Tasks[0]!;
    expect(task.Driver).to.equal('raw_exec');
    expect(task.Meta['hashiship_image']).to.equal(`127.0.0.1:5002/${sample.repository}@${digest}`);
    expect(task.Artifacts[0]!.GetterSource).to.match(new RegExp(`^http://127\\.0\\.0\\.1:5002/v2/${sample.repository}/blobs/sha256:[0-9a-f]{64}$`));
    expect(task.Artifacts[0]!.GetterOptions['checksum']).to.match(/^sha256:[0-9a-f]{64}$/);
    for (let i = 0; i < 3; i++) expect((await viaFabio(`${sample.service}.prod.local`, '/version')).body).to.equal(`v${n}`);
    expect(await stack.clients.consul.kv.get(weightKey(sample.service))).to.equal(undefined);
  });

  it("a build whose image is not in the QA registry exits with hashiship's code and leaves the failing fold open; nothing changes", async function () {
    this.timeout(120_000);
    const n = String(base + 3);
    const before = (await readRelease(stack.clients.consul, 'qa', sample.service))?.record;
    const r = await travis(n, {});
    figure('build without an image', r);
    // The same deploy through the CLI in-process gives the code the script must pass on.
    const direct = await main([
      'deploy',
      '--env',
      'qa',
      sample.service,
      '--image',
      `${sample.service}=${n}`,
      '--build',
      n,
      '--services',
      sample.dirs.services,
      '--environments',
      sample.dirs.environments,
    ]);
    expect(direct).to.not.equal(ExitCode.ok);
    expect(r.code, r.out).to.equal(direct);
    expect(r.out).to.contain(foldStart('hashiship.deploy.qa'));
    expect(r.out).not.to.contain(foldEnd('hashiship.deploy.qa'));
    expect(r.out).to.contain(`hashiship: deploy build ${n} to qa failed with exit code ${direct}`);
    expect(r.out).to.contain(`${sample.repository}`);
    expect(r.out).not.to.contain('travis_fold:start:hashiship.promote');
    expect((await readRelease(stack.clients.consul, 'qa', sample.service))?.record).to.deep.equal(before);
    expect((await readRelease(stack.clients.consul, 'production', sample.service))?.record.build).to.equal(String(base + 2));
  });
});
