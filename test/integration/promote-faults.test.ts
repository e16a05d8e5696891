/**
 * Faults in the promotion flow on the real (shared) stack: for each step, one of
 * Consul, Nomad, Vault, Fabio or a registry becomes unavailable right when the step
 * starts (hooked on the flow's `promote.step` start event) and comes back a few
 * seconds later; then the promotion is run again. After each run production's release
 * record and running job name the previous release or a digest that passed the flow;
 * after the re-run the promotion is complete, no Fabio weight rule is left, and Fabio
 * serves the new version. A run that does not complete exits 2 or 3 with a message
 * naming what failed.
 *
 * How a component is made unavailable (docs/promote.md "Faults"): Consul, Nomad and
 * Vault run in dev mode (in memory) and are shared with other tests, so they are
 * frozen (SIGSTOP … SIGCONT: connections hang, as on an overloaded or partitioned
 * server) for 3 s — a restart would lose every state. Requests of the faulty run time
 * out after 1 s (ConsulConfig/NomadConfig.timeoutMs) so the freeze fails them. Fabio and
 * the registries (stateless / storage on disk) are really stopped (SIGKILL, at the very
 * moment the step starts) for 5 s and started again with the stack's `up`. Every outage
 * is undone in `finally`, `afterEach` and `after`, whatever happens.
 *
 * The sample runs as a container (Nomad's docker driver pulling `registry/repo@sha256:…`
 * from each environment's registry); after each re-run production's containers are read
 * back from the engine. Time per combination (the suite's budget): every image is built
 * in `before` while the first release deploys, the holds are 250 ms, the sample's
 * min_healthy_time and shutdown_delay 500 ms; the outages keep their lengths.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClients } from '../../src/clients.js';
import type { HashishipConfig } from '../../src/config/index.js';
import { createDeployContext } from '../../src/deploy/runtime.js';
import { ExitCode, HashishipError } from '../../src/errors.js';
import { fabioApi } from '../../src/fabio/routes.js';
import { weightKey } from '../../src/fabio/weights.js';
import { collecting, silent, type Event, type StackComponent } from '../../src/log.js';
import { ActiveDeploymentStatuses } from '../../src/nomad/deployments.js';
import { deployRelease } from '../../src/release/deploy-image.js';
import { promote, type PromoteOptions } from '../../src/release/promotion/flow.js';
import { progressKey, type PromotionProgress } from '../../src/release/promotion/plan.js';
import { readRelease } from '../../src/release/records.js';
import { resolveCredentials } from '../../src/registry/auth.js';
import { stateDirOf, up } from '../../src/stack/stack.js';
import { buildSample, cleanupSample, runningImage, setupSample, viaFabio, type Sample } from '../helpers/sample.js';
import { useStack, type TestStack } from '../helpers/stack.js';

const run = randomBytes(3).toString('hex');
/** A stopped Fabio or registry stays down this long; a frozen Consul, Nomad or Vault this long. */
const OutageMs = 5_000;
const FreezeMs = 3_000;
const ClientTimeoutMs = 1_000;
/**
 * Each weight step's hold. The faults hit the steps, not the holds, so a short hold
 * keeps every combination's two runs quick (promote.test.ts holds 1 s).
 */
const HoldMs = 250;
const Frozen: readonly StackComponent[] = ['consul', 'nomad', 'vault'];

/** Seconds between two Date.now() readings, for the figures. */
const s = (a: number, b: number) => ((b - a) / 1000).toFixed(1);

/** One combination: a component unavailable from the start of a step. */
interface Combo {
  readonly component: StackComponent;
  /** A flow step, or `resolve` (before the run: reading records and evidence). */
  readonly step: string;
}

const combos: readonly Combo[] = [
  { component: 'consul', step: 'resolve' },
  { component: 'registry-qa', step: 'copy' },
  { component: 'registry-production', step: 'copy' },
  { component: 'consul', step: 'copy' },
  { component: 'vault', step: 'copy' },
  { component: 'registry-production', step: 'canary' },
  { component: 'nomad', step: 'canary' },
  { component: 'vault', step: 'canary' },
  { component: 'consul', step: 'gate' },
  { component: 'fabio', step: 'smoke' },
  { component: 'consul', step: 'smoke' },
  { component: 'fabio', step: 'weight:10' },
  { component: 'consul', step: 'weight:10' },
  { component: 'fabio', step: 'weight:50' },
  { component: 'nomad', step: 'promote' },
  { component: 'consul', step: 'promote' },
  { component: 'fabio', step: 'unweight' },
  { component: 'consul', step: 'unweight' },
  { component: 'consul', step: 'record' },
  { component: 'nomad', step: 'record' },
];

/** What a failed run's message must name for each component. */
const named: Record<string, RegExp> = {
  consul: /consul/i,
  nomad: /nomad/i,
  fabio: /fabio/i,
  'registry-qa': /127\.0\.0\.1:5001/,
  'registry-production': /127\.0\.0\.1:5002/,
};

describe('promote faults: a server unavailable at each step, then a re-run (shared stack: freezes and short outages)', function () {
  let stack: TestStack;
  let sample: Sample;
  let faulty: HashishipConfig;
  /** The image (digest) of each combination, built in `before`. */
  let images: Promise<string>[] = [];
  const fabio = fabioApi();
  const figures: string[] = [];
  /** Undo whatever outage is in force (idempotent). */
  let undo: (() => Promise<void>) | undefined;

  const pidOf = (c: StackComponent): number => {
    const state = JSON.parse(readFileSync(join(stateDirOf(stack.options), 'stack.json'), 'utf8')) as { components: Record<string, { pid?: number }> };
    const pid = state.components[c]?.pid;
    if (pid === undefined) throw new Error(`no pid for ${c} in the stack state: this test only runs on a stack it can freeze`);
    return pid;
  };
  const continueAll = () => {
    for (const c of Frozen) {
      try {
        process.kill(pidOf(c), 'SIGCONT');
      } catch {
        /* not ours or gone */
      }
    }
  };

  /**
   * Make `c` unavailable now (synchronously, so the step that is starting meets the
   * outage) and bring it back after {@link OutageMs}; `restored` settles when it is back.
   */
  const outage = (c: StackComponent): { restored: Promise<void> } => {
    const pid = pidOf(c);
    const freeze = Frozen.includes(c);
    process.kill(pid, freeze ? 'SIGSTOP' : 'SIGKILL');
    let done: Promise<void> | undefined;
    const restore = () => (done ??= freeze ? Promise.resolve(process.kill(pid, 'SIGCONT')).then(() => undefined) : up(stack.options).then(() => undefined));
    undo = restore;
    const restored = new Promise<void>((resolve, reject) => setTimeout(() => restore().then(resolve, reject), freeze ? FreezeMs : OutageMs));
    return { restored };
  };

  const opts = (log: (e: Event) => void, build: string): Omit<PromoteOptions, 'clients'> => ({
    from: 'qa',
    to: 'production',
    names: [sample.service],
    dirs: sample.dirs,
    build,
    holdMs: HoldMs,
    steps: [10, 50, 100],
    healthDeadlineMs: 20_000,
    fabio,
    log,
  });

  /**
   * Deploy a build to QA (the evidence): setup, not under test, so a server error
   * (another test restarting the shared Fabio meanwhile) gets one retry.
   */
  const deployQa = async (build: string) => {
    const go = () =>
      deployRelease(stack.config, {
        environment: 'qa',
        names: [sample.service],
        dirs: sample.dirs,
        overrides: new Map([[sample.service, build]]),
        build,
        fabio,
        clients: stack.clients,
      });
    const r = await go();
    return r.exitCode === ExitCode.unreachable ? go() : r;
  };

  /** A promotion run as the CLI would end it: a result, or the error it throws (exit code and message). */
  const attempt = async (config: HashishipConfig, o: Omit<PromoteOptions, 'clients'>) => {
    try {
      // The run's clients, built once from its configuration (a faulty one: short timeouts).
      const r = await promote(config, { ...o, clients: createClients(config) });
      const s = r.results[0]!;
      return { exitCode: r.exitCode, outcome: s.outcome, message: [s.message, s.error?.describe() ?? '', ...s.diagnosis].join('\n') };
    } catch (err) {
      if (!(err instanceof HashishipError)) throw err;
      return { exitCode: err.exitCode, outcome: 'error', message: err.describe() };
    }
  };

  const progressOf = async (): Promise<PromotionProgress | undefined> => {
    const e = await stack.clients.consul.kv.get(progressKey('production', sample.service));
    return e === undefined ? undefined : (JSON.parse(e.value) as PromotionProgress);
  };

  /** What production runs: the job's image digest and whether its deployment is still open. */
  const production = async () => {
    const config = { ...stack.config, nomad: { ...stack.config.nomad, namespace: 'production' } };
    const ctx = createDeployContext(config, silent, createClients(config));
    const job = (await ctx.nomad.jobs.get(sample.service)) as unknown as
      { TaskGroups: { Tasks: { Config?: { image?: string }; Meta?: Record<string, string> }[] }[] } | undefined;
    const task = job?.TaskGroups[0]?.Tasks[0];
    const image = task?.Config?.image ?? task?.Meta?.['hashiship_image'] ?? '';
    const d = await ctx.nomad.jobs.latestDeployment(sample.service);
    return { digest: image.slice(image.indexOf('@') + 1), open: d !== undefined && ActiveDeploymentStatuses.has(d.Status), deployment: d?.Status ?? 'none' };
  };

  /**
   * The invariant after any run: the release record names the previous release or the
   * new digest only once it passed the flow (promoted); the job runs the previous digest,
   * an open (unpromoted) canary deployment of the new one, or the new one after its
   * canaries passed every check and weight step.
   */
  const assertVerified = async (what: string, previous: string, next: string, first: { outcome: string }) => {
    const progress = await progressOf();
    const passed = first.outcome === 'promoted' || (progress?.digest === next && progress.done.includes('promote'));
    const rec = (await readRelease(stack.clients.consul, 'production', sample.service))?.record;
    expect([previous, ...(passed ? [next] : [])], `${what}: production's release record`).to.include(rec?.digest);
    const p = await production();
    const checked = progress?.digest === next && ['gate', 'smoke', 'weight:10', 'weight:50'].every((s) => progress.done.includes(s));
    if (p.digest === next && !p.open)
      expect(
        checked || first.outcome === 'promoted',
        `${what}: production runs ${next} (deployment ${p.deployment}) without it having passed the gate, smoke and weight steps: ${JSON.stringify(progress)}`,
      ).to.equal(true);
    else expect([previous, next], `${what}: production's job`).to.include(p.digest);
  };

  before(async function () {
    this.timeout(600_000);
    stack = await useStack();
    faulty = { ...stack.config, consul: { ...stack.config.consul, timeoutMs: ClientTimeoutMs }, nomad: { ...stack.config.nomad, timeoutMs: ClientTimeoutMs } };
    // Shorter deadlines, a shorter min_healthy_time (2 s in the sample) for the QA deploy
    // and the canary of every run, and a shorter shutdown_delay (2 s): Nomad starts a
    // replacement on the same node only once the allocation it replaces has stopped, so
    // every QA deploy and every revert waits for it. Nothing here is about how long
    // health holds or how long an instance drains.
    const t0 = Date.now();
    sample = await setupSample(stack.config, `flt-${run}`, (y) =>
      y
        .replace('shutdown_delay: 2s', 'shutdown_delay: 500ms')
        .replace('min_healthy_time: 2s', 'min_healthy_time: 500ms')
        .replace('healthy_deadline: 20s', 'healthy_deadline: 10s')
        .replace('progress_deadline: 40s', 'progress_deadline: 20s'),
    );
    // A first release in production, so that every later promotion has canaries and weight steps.
    await buildSample(sample, '1', 'f0');
    const t1 = Date.now();
    // Every combination's image (`docker build` + `docker push`), made one after the other
    // while this first release deploys; each combination awaits its own.
    let chain = Promise.resolve('');
    images = combos.map((_, i) => (chain = chain.then(() => buildSample(sample, String(i + 2), `f${i + 1}`))));
    images.forEach((p) => p.catch(() => undefined));
    const qa = await deployQa('1');
    expect(qa.exitCode, qa.failures.map((f) => f.error.describe()).join('\n')).to.equal(0);
    // Setup, not a finding: the shared stack may be busy (other tests restart Fabio), so one retry.
    let first = await attempt(
      stack.config,
      opts(() => {}, '1'),
    );
    if (first.exitCode !== 0) first = await attempt(stack.config, { ...opts(() => {}, '1'), lockWaitMs: 30_000 });
    expect(first.exitCode, first.message).to.equal(0);
    const t3 = Date.now();
    await Promise.all(images);
    figures.push(
      `set-up: first image ${s(t0, t1)} s, first release in QA and production ${s(t1, t3)} s, the other ${images.length} images done ${s(t3, Date.now())} s later`,
    );
  });

  afterEach(async function () {
    this.timeout(120_000);
    // Whatever happened, nothing stays frozen or stopped.
    continueAll();
    if (undo !== undefined) await undo();
    undo = undefined;
  });

  after(async function () {
    this.timeout(120_000);
    const t0 = Date.now();
    continueAll();
    if (stack !== undefined) await up(stack.options);
    if (sample !== undefined) await cleanupSample(stack.config, sample);
    figures.push(`clean-up ${s(t0, Date.now())} s`);
    for (const f of figures) process.stderr.write(`      [figure] ${f}\n`);
  });

  process.on('exit', continueAll);

  it('vault frozen while registry credentials are read from it (HASHISHIP_REGISTRY_<NAME>_VAULT_PATH): exit 2 naming Vault within its timeout; read once it is back', async function () {
    this.timeout(60_000);
    const path = `secret/data/hashiship-faults-${run}`;
    const vaultAddr = stack.config.vault.address;
    const headers = { 'X-Vault-Token': stack.config.vault.token ?? '' };
    const put = await fetch(`${vaultAddr}/v1/${path}`, { method: 'PUT', headers, body: JSON.stringify({ data: { username: 'ci', password: `pw-${run}` } }) });
    expect(put.status, await put.text()).to.equal(200);
    const access = (timeoutMs: number) => ({
      config: { registries: { prod: { url: 'http://127.0.0.1:5002', vaultPath: path } } },
      vault: createClients({ ...stack.config, vault: { ...stack.config.vault, timeoutMs } }).vault,
    });
    try {
      const frozen = outage('vault');
      const started = Date.now();
      let error: unknown;
      try {
        await resolveCredentials('127.0.0.1:5002', access(1_000));
      } catch (err) {
        error = err;
      } finally {
        await frozen.restored;
      }
      figures.push(
        `vault frozen during a credentials read: ${error instanceof HashishipError ? `exit ${error.exitCode} after ${((Date.now() - started) / 1000).toFixed(1)} s: ${error.message}` : 'no error'}`,
      );
      expect(error).to.be.instanceOf(HashishipError);
      expect((error as HashishipError).exitCode).to.equal(ExitCode.unreachable);
      expect((error as HashishipError).message).to.match(/^vault: .*: timed out \(1000 ms\)$/);
      expect((error as HashishipError).describe()).to.not.contain(`pw-${run}`);
      const creds = await resolveCredentials('127.0.0.1:5002', access(1_000));
      expect(creds).to.include({ username: 'ci', source: `vault ${path}` });
    } finally {
      await fetch(`${vaultAddr}/v1/${path.replace('/data/', '/metadata/')}`, { method: 'DELETE', headers });
    }
  });

  combos.forEach((c, i) => {
    it(`${c.component} unavailable at ${c.step}: production stays verified; the re-run completes, no weight rule left`, async function () {
      this.timeout(300_000);
      const build = String(i + 2);
      const version = `f${i + 1}`;
      const t0 = Date.now();
      const next = await images[i]!;
      const t1 = Date.now();
      const qa = await deployQa(build);
      expect(qa.exitCode, qa.failures.map((f) => f.error.describe()).join('\n')).to.equal(0);
      const previous = (await readRelease(stack.clients.consul, 'production', sample.service))!.record.digest;
      const t2 = Date.now();

      let injected: { restored: Promise<void> } | undefined;
      const log = collecting();
      const hook = (e: Event) => {
        log(e);
        if (injected === undefined && e.kind === 'promote.step' && e.status === 'start' && e.step === c.step) injected = outage(c.component);
      };
      if (c.step === 'resolve') injected = outage(c.component);
      const started = Date.now();
      let first;
      try {
        first = await attempt(faulty, opts(hook, build));
      } finally {
        await injected?.restored;
      }
      const seconds = (Date.now() - started) / 1000;
      expect(injected, `the flow never reached ${c.step}: ${first.message}`).to.not.equal(undefined);

      if (first.exitCode !== ExitCode.ok) {
        expect([ExitCode.unreachable, ExitCode.reverted], first.message).to.include(first.exitCode);
        if (c.component !== 'vault') expect(first.message).to.match(named[c.component]!);
      }
      await assertVerified('after the faulty run', previous, next, first);

      // A run that could not release its lock (Consul unreachable at its end) leaves it to the session TTL: wait for it.
      const t3 = Date.now();
      const again = await attempt(stack.config, { ...opts(() => {}, build), lockWaitMs: 30_000 });
      const t4 = Date.now();
      figures.push(
        `${c.component} @ ${c.step}: first run ${first.outcome} (exit ${first.exitCode}, ${seconds.toFixed(1)} s): ${first.message.split('\n')[0]!.slice(0, 140)}; re-run ${again.outcome} (exit ${again.exitCode}); ` +
          `image wait ${s(t0, t1)} s, QA ${s(t1, t2)} s, faulty run until restored ${s(t2, t3)} s, re-run ${s(t3, t4)} s`,
      );
      expect(again.exitCode, again.message).to.equal(ExitCode.ok);
      expect(['promoted', 'nothing']).to.include(again.outcome);
      await assertVerified('after the re-run', previous, next, again);
      expect((await readRelease(stack.clients.consul, 'production', sample.service))?.record.digest).to.equal(next);
      const p = await production();
      expect(p, 'production job after the re-run').to.include({ digest: next, open: false });
      expect((await progressOf())?.status).to.equal('done');
      expect(await stack.clients.consul.kv.get(weightKey(sample.service)), 'weight rule after the re-run').to.equal(undefined);
      for (let k = 0; k < 3; k++) expect((await viaFabio(`${sample.service}.prod.local`, '/version')).body).to.equal(version);
      // Read back from the engine: production's containers were created from exactly that digest.
      const running = await runningImage(stack.config, sample, 'production');
      expect(running.containers.map((x) => x.image)).to.deep.equal(running.containers.map(() => `127.0.0.1:5002/${sample.repository}@${next}`));
      expect(running.containers.length).to.be.at.least(1);
    });
  });
});
