/**
 * The promotion flow on the real stack: the sample service (examples/sample)
 * built as a container image with `docker build` (its Dockerfile, the version as a
 * build argument) and `docker push`ed to the QA registry, deployed to QA with
 * evidence, promoted to production by digest through canaries and Fabio weight
 * steps, run by Nomad's docker driver pulling `registry/repo@sha256:…` from each
 * environment's registry (raw_exec: travis-script.test.ts). qa and production share
 * the dev stack through Nomad namespaces `qa`/`production`, Fabio hosts
 * `<svc>.qa.local`/`<svc>.prod.local` and the instances' `environment` meta.
 * Names carry a random suffix; jobs and keys are removed afterwards.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { ExitCode } from '../../src/errors.js';
import { fabioApi, readRoutes } from '../../src/fabio/routes.js';
import { weightKey } from '../../src/fabio/weights.js';
import { collecting, type Event } from '../../src/log.js';
import { deployRelease } from '../../src/release/deploy-image.js';
import { promote, type PromoteOptions, type PromoteResult } from '../../src/release/promotion/flow.js';
import { acquireLock } from '../../src/release/lock.js';
import { readRelease, releaseHistory } from '../../src/release/records.js';
import { rollback } from '../../src/release/rollback.js';
import { buildSample, cleanupSample, runningImage, setupSample, viaFabio, type Sample } from '../helpers/sample.js';
import { useStack, type TestStack } from '../helpers/stack.js';

const run = randomBytes(3).toString('hex');
const SVC = `sample-${run}`;
const REPO = `hashiship/sample-${run}`;

/** Run the CLI in-process and keep what it wrote to stderr. */
async function cliStderr(fn: () => Promise<number>): Promise<{ code: number; stderr: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await fn(), stderr };
  } finally {
    process.stderr.write = write;
  }
}

describe('promote: QA → production by digest on the real stack', function () {
  let stack: TestStack;
  let sample: Sample;
  const digests: Record<string, string> = {};
  const fabio = fabioApi();
  const dirs = () => sample.dirs;

  /** Build and push version `v` of the sample to the QA registry under tag `build`. */
  const buildImage = async (build: string, v: string, brokenIn?: string): Promise<string> => (digests[build] = await buildSample(sample, build, v, brokenIn));

  const opts = (log: (e: Event) => void, extra: Partial<PromoteOptions> = {}): PromoteOptions => ({
    from: 'qa',
    to: 'production',
    names: [SVC],
    dirs: dirs(),
    holdMs: 1_000,
    steps: [10, 50, 100],
    fabio,
    clients: stack.clients,
    log,
    ...extra,
  });

  const deployQa = (build: string) =>
    deployRelease(stack.config, {
      environment: 'qa',
      names: [SVC],
      dirs: dirs(),
      overrides: new Map([[SVC, build]]),
      build,
      fabio,
      clients: stack.clients,
      log: collecting(),
    });

  before(async function () {
    this.timeout(600_000);
    stack = await useStack();
    // Short deadlines so the broken release fails fast; a short min_healthy_time and
    // shutdown_delay (2 s each in the sample): Nomad starts a replacement on the same
    // node only once the allocation it replaces has stopped, so every QA deploy waits
    // out the delay. The flow is under test here, not how long health holds or an
    // instance drains (bench/promote.bench.ts times the sample as it is).
    sample = await setupSample(stack.config, run, (y) =>
      y
        .replace('shutdown_delay: 2s', 'shutdown_delay: 500ms')
        .replace('min_healthy_time: 2s', 'min_healthy_time: 500ms')
        .replace('healthy_deadline: 20s', 'healthy_deadline: 8s')
        .replace('progress_deadline: 40s', 'progress_deadline: 16s'),
    );
  });

  after(async function () {
    this.timeout(60_000);
    if (sample !== undefined) await cleanupSample(stack.config, sample);
  });

  it('the promotion lock: a second taker waits for the holder (--lock-wait) or is refused naming it', async function () {
    this.timeout(30_000);
    const service = `${SVC}-lock`;
    const first = await acquireLock(stack.clients.consul, { environment: 'production', service, holder: { what: 'promotion of it', build: '11' } });
    const refused = await acquireLock(stack.clients.consul, { environment: 'production', service, holder: { what: 'x', build: '12' } }).catch(
      (e: unknown) => e,
    );
    expect((refused as { exitCode: number }).exitCode).to.equal(ExitCode.gate);
    expect((refused as Error).message).to.contain('locked by promotion of it of build 11');
    const started = Date.now();
    setTimeout(() => void first.release(), 1_000);
    const second = await acquireLock(stack.clients.consul, { environment: 'production', service, holder: { what: 'x', build: '12' }, waitMs: 10_000 });
    expect(Date.now() - started).to.be.within(900, 5_000);
    expect(JSON.parse((await stack.clients.consul.kv.get(second.key))!.value).build).to.equal('12');
    await second.release();
    await fetch(`${stack.config.consul.address}/v1/kv/${second.key}`, { method: 'DELETE' });
  });

  it('v1 passes QA (release record with health and smoke) and reaches production by digest', async function () {
    this.timeout(240_000);
    const d1 = await buildImage('1', 'v1');
    const qa = await deployQa('1');
    expect(qa.exitCode, JSON.stringify(qa.failures.map((f) => f.error.describe()))).to.equal(0);
    const rec = (await readRelease(stack.clients.consul, 'qa', SVC))?.record;
    expect(rec?.digest).to.equal(d1);
    expect(rec?.build).to.equal('1');
    expect(rec?.smoke.passed).to.equal(true);
    expect(rec?.health.passing).to.equal(1);
    expect((await viaFabio(`${SVC}.qa.local`, '/version')).body).to.equal('v1');

    const log = collecting();
    const r = await promote(stack.config, opts(log, { build: '1' }));
    const s = r.results[0]!;
    expect(s.outcome, `${s.message}\n${s.error?.describe() ?? ''}\n${s.diagnosis.join('\n')}`).to.equal('promoted');
    expect(r.exitCode).to.equal(0);
    const prod = (await readRelease(stack.clients.consul, 'production', SVC))?.record;
    expect(prod).to.include({ digest: d1, build: '1', via: 'promote', seq: 1 });
    expect(prod?.promotedFrom).to.deep.equal({ environment: 'qa', seq: rec!.seq, build: '1' });
    expect(prod?.images[0]?.registry).to.equal('127.0.0.1:5002');
    expect((await viaFabio(`${SVC}.prod.local`, '/version')).body).to.equal('v1');
    // Production read back from Nomad and the engine: the job pulls the promoted digest from the
    // production registry, and every running allocation's container was created from exactly it.
    const running = await runningImage(stack.config, sample, 'production');
    expect(running.driver).to.equal('docker');
    expect(running.image).to.equal(`127.0.0.1:5002/${REPO}@${d1}`);
    expect(running.containers.length).to.be.at.least(1);
    for (const c of running.containers) {
      expect(c.image).to.equal(`127.0.0.1:5002/${REPO}@${d1}`);
      expect(c.repoDigests).to.include(`127.0.0.1:5002/${REPO}@${d1}`);
    }
  });

  it('v2 goes through QA and production with the 10 % and 50 % weights observed in Fabio; a concurrent promotion is refused naming the holder; a re-run is a no-op', async function () {
    this.timeout(300_000);
    await buildImage('2', 'v2');
    expect((await deployQa('2')).exitCode).to.equal(0);
    const log = collecting();
    let second: Promise<PromoteResult> | undefined;
    const watching = (e: Event) => {
      log(e);
      // Once the first run holds the lock, start a second promotion of the same service.
      if (e.kind === 'promote.lock' && e.action === 'acquired' && second === undefined)
        second = promote(
          stack.config,
          opts(() => {}, { build: '2' }),
        );
    };
    const r = await promote(stack.config, opts(watching, { build: '2' }));
    const s = r.results[0]!;
    expect(s.outcome, `${s.message}\n${s.error?.describe() ?? ''}\n${s.diagnosis.join('\n')}`).to.equal('promoted');
    process.stderr.write(
      `      [figure] weights observed in Fabio's /api/routes: ${s.weights.map((w) => `${w.percent} % → ${(w.observed * 100).toFixed(1)} % on the canary (${w.targets} targets)`).join('; ')}\n`,
    );
    expect(s.weights.map((w) => w.percent)).to.deep.equal([10, 50]);
    expect(s.weights[0]!.observed).to.be.closeTo(0.1, 0.005);
    expect(s.weights[1]!.observed).to.be.closeTo(0.5, 0.005);
    const steps = log.events.flatMap((e) => (e.kind === 'promote.step' && e.status === 'done' ? [e.step] : []));
    expect(steps).to.deep.equal(['copy', 'canary', 'gate', 'smoke', 'weight:10', 'weight:50', 'promote', 'unweight', 'record']);
    expect(await stack.clients.consul.kv.get(weightKey(SVC))).to.equal(undefined);
    expect((await viaFabio(`${SVC}.prod.local`, '/version')).body).to.equal('v2');

    const other = await second!;
    expect(other.exitCode).to.equal(ExitCode.gate);
    expect(other.results[0]!.message).to.contain('locked by').and.contain('build 2');

    const again = await promote(
      stack.config,
      opts(() => {}, { build: '2' }),
    );
    expect(again.exitCode).to.equal(0);
    expect(again.results[0]!.outcome).to.equal('nothing');
    expect((await releaseHistory(stack.clients.consul, 'production', SVC)).map((x) => x.build)).to.deep.equal(['1', '2']);
  });

  it('a build never deployed to QA is refused through the CLI (exit 6) and production is untouched', async function () {
    this.timeout(60_000);
    const argv = ['promote', '--from', 'qa', '--to', 'production', SVC, '--build', '99', '--services', dirs().services, '--environments', dirs().environments];
    expect(await main(argv)).to.equal(ExitCode.gate);
    expect(await main([...argv.slice(0, 6), '--build', '99', '--dry-run', ...argv.slice(8)])).to.equal(ExitCode.gate);
    expect((await readRelease(stack.clients.consul, 'production', SVC))?.record.build).to.equal('2');
    expect(await stack.clients.consul.kv.get(`hashiship/promotions/production/${SVC}`).then((e) => JSON.parse(e!.value).status)).to.equal('done');
  });

  it('v3 (healthy in QA, broken in production): refused while another holds the lock, then rolled back (exit 3): production serves v2, no weight rule left', async function () {
    this.timeout(300_000);
    await buildImage('3', 'v3', 'production');
    const qa = await deployQa('3');
    expect(qa.exitCode).to.equal(0);
    expect((await viaFabio(`${SVC}.qa.local`, '/health')).status).to.equal(200);

    // The policy gates, through the CLI: a soak longer than v3's age, then a production
    // that requires approval. Both refuse before anything moves.
    const argv = ['promote', '--from', 'qa', '--to', 'production', SVC, '--build', '3', '--services', dirs().services, '--environments', dirs().environments];
    const soak = await cliStderr(() => main([...argv, '--min-soak', '1h']));
    expect(soak.code, soak.stderr).to.equal(ExitCode.gate);
    expect(soak.stderr).to.match(new RegExp(`${SVC}'s release in qa has soaked \\d+ s; production requires 60 min`));
    const prodFile = join(dirs().environments, 'production.yaml');
    const prodYaml = readFileSync(prodFile, 'utf8');
    writeFileSync(prodFile, prodYaml.replace('promotion:\n', 'promotion:\n  require_approval: true\n'));
    try {
      const unapproved = await cliStderr(() => main(argv));
      expect(unapproved.code, unapproved.stderr).to.equal(ExitCode.gate);
      expect(unapproved.stderr).to.contain(`production requires manual approval to promote ${SVC}`).and.contain('--approve');
      const dry = await cliStderr(() => main([...argv, '--approve', '--dry-run']));
      expect(dry.code, dry.stderr).to.equal(0);
    } finally {
      writeFileSync(prodFile, prodYaml);
    }
    expect((await readRelease(stack.clients.consul, 'production', SVC))?.record.build).to.equal('2');
    expect(await stack.clients.consul.kv.get(weightKey(SVC))).to.equal(undefined);

    const lock = await acquireLock(stack.clients.consul, { environment: 'production', service: SVC, holder: { what: 'a test holder', build: '77' } });
    let locked: PromoteResult;
    try {
      locked = await promote(
        stack.config,
        opts(() => {}, { build: '3' }),
      );
    } finally {
      await lock.release();
    }
    expect(locked.exitCode).to.equal(ExitCode.gate);
    expect(locked.results[0]!.message).to.contain('build 77');

    const log = collecting();
    const started = Date.now();
    const r = await promote(stack.config, opts(log, { build: '3', healthDeadlineMs: 15_000 }));
    const s = r.results[0]!;
    process.stderr.write(`      [figure] v3 rolled back after ${((Date.now() - started) / 1000).toFixed(1)} s: ${s.message}\n`);
    expect(r.exitCode, `${s.message}\n${s.error?.describe() ?? ''}`).to.equal(ExitCode.reverted);
    expect(s.outcome).to.equal('reverted');
    expect(s.error?.describe()).to.contain('Weight rule');
    expect(await stack.clients.consul.kv.get(weightKey(SVC))).to.equal(undefined);
    const routes = (await readRoutes(fabio)).filter((x) => x.service === SVC && x.src.startsWith(`${SVC}.prod.local`));
    expect(
      routes.every((x) => !x.tags.includes('canary')),
      JSON.stringify(routes),
    ).to.equal(true);
    for (let i = 0; i < 5; i++) expect((await viaFabio(`${SVC}.prod.local`, '/version')).body).to.equal('v2');
    expect((await readRelease(stack.clients.consul, 'production', SVC))?.record.build).to.equal('2');
  });

  it('rollback restores the previous release (v1) as a whole and records it', async function () {
    this.timeout(240_000);
    const code = await main(['rollback', '--env', 'production', SVC, '--services', dirs().services, '--environments', dirs().environments]);
    expect(code).to.equal(0);
    const rec = (await readRelease(stack.clients.consul, 'production', SVC))?.record;
    expect(rec).to.include({ via: 'rollback', digest: digests['1'], build: '1', rolledBackFrom: 2, seq: 3 });
    for (let i = 0; i < 5; i++) expect((await viaFabio(`${SVC}.prod.local`, '/version')).body).to.equal('v1');
    expect(await stack.clients.consul.kv.get(weightKey(SVC))).to.equal(undefined);
    // Nothing earlier with another digest than v1 remains: a second rollback goes back to v2.
    const again = await rollback(stack.config, { environment: 'production', service: SVC, dirs: dirs(), fabio, clients: stack.clients });
    expect(again.record.digest).to.equal(digests['2']);
  });

  it('a promotion that stops after the 10 % step (a crash) is resumed by the next run from its recorded step; deploy --image through the CLI records QA evidence', async function () {
    this.timeout(300_000);
    const d5 = await buildImage('5', 'v5');
    const deployArgs = [
      'deploy',
      '--env',
      'qa',
      SVC,
      '--image',
      `${SVC}=5`,
      '--build',
      '5',
      '--commit',
      'abc123',
      '--services',
      dirs().services,
      '--environments',
      dirs().environments,
    ];
    expect(await main(deployArgs)).to.equal(0);
    expect((await readRelease(stack.clients.consul, 'qa', SVC))?.record).to.include({ digest: d5, build: '5', commit: 'abc123' });

    const first = await promote(
      stack.config,
      opts(() => {}, { build: '5', stopAfter: 'weight:10' }),
    );
    expect(first.results[0]!.outcome, first.results[0]!.error?.describe()).to.equal('stopped');
    expect((await stack.clients.consul.kv.get(weightKey(SVC)))?.value).to.contain('weight 0.1');
    const progress = JSON.parse((await stack.clients.consul.kv.get(`hashiship/promotions/production/${SVC}`))!.value);
    expect(progress).to.include({ status: 'running', digest: d5 });
    expect(progress.done).to.deep.equal(['copy', 'canary', 'gate', 'smoke', 'weight:10']);

    const log = collecting();
    const second = await promote(stack.config, opts(log, { build: '5' }));
    expect(second.results[0]!.outcome, second.results[0]!.error?.describe()).to.equal('promoted');
    const byStatus = (status: string) => log.events.flatMap((e) => (e.kind === 'promote.step' && e.status === status ? [e.step] : []));
    expect(byStatus('skip')).to.deep.equal(['copy', 'canary', 'gate', 'smoke', 'weight:10']);
    expect(byStatus('done')).to.deep.equal(['weight:50', 'promote', 'unweight', 'record']);
    expect(await stack.clients.consul.kv.get(weightKey(SVC))).to.equal(undefined);
    for (let i = 0; i < 3; i++) expect((await viaFabio(`${SVC}.prod.local`, '/version')).body).to.equal('v5');
    const rec = (await readRelease(stack.clients.consul, 'production', SVC))?.record;
    expect(rec).to.include({ digest: d5, build: '5', commit: 'abc123', via: 'promote' });
    const releases = await main(['releases', '--env', 'production', SVC]);
    expect(releases).to.equal(0);
  });

  it("Fabio's API unreachable after the 10 % rule was written: the rule is removed first, Nomad reverts (exit 3); the next run completes", async function () {
    this.timeout(300_000);
    const d6 = await buildImage('6', 'v6');
    expect((await deployQa('6')).exitCode).to.equal(0);
    const log = collecting();
    // Nothing listens on port 1: every read of /api/routes fails (a real refused connection).
    const r = await promote(stack.config, opts(log, { build: '6', fabio: fabioApi('http://127.0.0.1:1') }));
    const s = r.results[0]!;
    expect(r.exitCode, s.error?.describe()).to.equal(ExitCode.reverted);
    expect(s.message).to.contain('failed at weight:10');
    const kvWrites = log.events.filter((e) => e.kind === 'consul.kv' && e.key === weightKey(SVC)).map((e) => (e as { action: string }).action);
    expect(kvWrites).to.deep.equal(['write', 'delete']);
    expect(await stack.clients.consul.kv.get(weightKey(SVC))).to.equal(undefined);
    expect(JSON.parse((await stack.clients.consul.kv.get(`hashiship/promotions/production/${SVC}`))!.value).status).to.equal('failed');
    // The canary has left Consul before exit 3; this run could not confirm Fabio (its API
    // was unreachable by design), so Fabio's table may take a moment to follow.
    expect(s.error?.describe()).to.match(/Traffic: +previous instances only in Consul; Fabio not confirmed/);
    const deadline = Date.now() + 10_000;
    while ((await viaFabio(`${SVC}.prod.local`, '/version')).body !== 'v5' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 3; i++) expect((await viaFabio(`${SVC}.prod.local`, '/version')).body).to.equal('v5');
    expect((await readRelease(stack.clients.consul, 'production', SVC))?.record.build).to.equal('5');

    const again = await promote(
      stack.config,
      opts(() => {}, { build: '6' }),
    );
    expect(again.results[0]!.outcome, again.results[0]!.error?.describe()).to.equal('promoted');
    expect((await readRelease(stack.clients.consul, 'production', SVC))?.record.digest).to.equal(d6);
    expect((await viaFabio(`${SVC}.prod.local`, '/version')).body).to.equal('v6');
  });
});
