/**
 * The promotion apply without a stack: `runPromotion` (run.ts) driving the steps
 * (steps.ts) and the recovery (recover.ts) over a fake clock (no real waiting) and
 * a failing client — a PromotionDeps object shaped like the real one (servers.ts)
 * that keeps the servers' state in memory and throws the project's ServerError for
 * the calls of a server that is down, from the start of a chosen step (as the
 * integration test promote-faults does on the real stack). The real servers are
 * covered by test/integration/promote*.test.ts; these tests reach what a stack
 * cannot produce on demand: a crash after every step, a clean-up that fails, a
 * revert that never ends.
 */
import { expect } from 'chai';
import type { HealthGateResult, ServiceInstance } from '../../src/consul/health.js';
import { Diagnosed } from '../../src/deploy/deploy.js';
import { ExitCode, GateError, RevertedError, ServerError } from '../../src/errors.js';
import type { Event } from '../../src/log.js';
import type { Deployment } from '../../src/nomad/deployments.js';
import { DefaultPolicy, planPromotion, type PromotionPolicy, type PromotionProgress } from '../../src/release/promotion/plan.js';
import type { NewRecord, ReleaseRecord } from '../../src/release/records.js';
import { RevertDeadlineMs } from '../../src/release/promotion/recover.js';
import { runPromotion, type PromotionEnd } from '../../src/release/promotion/run.js';
import { initialState, type PromotionDeps, type TargetNomad } from '../../src/release/promotion/state.js';
import type { Clock } from '../../src/runtime.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const T0 = Date.parse('2026-11-23T12:00:00Z');
const Steps = ['copy', 'canary', 'gate', 'smoke', 'weight:10', 'weight:50', 'promote', 'unweight', 'record'] as const;
const Policy: PromotionPolicy = { ...DefaultPolicy, steps: [10, 50, 100], holdMs: 30_000 };
const HealthDeadlineMs = 60_000;

type Server = 'registry' | 'nomad' | 'consul' | 'fabio';

/** A clock whose sleep only moves its time: waiting costs nothing. */
class FakeClock implements Clock {
  t = T0;
  slept = 0;
  readonly now = (): number => this.t;
  readonly sleep = (ms: number): Promise<void> => {
    this.t += ms;
    this.slept += ms;
    return Promise.resolve();
  };
}

function qaRecord(): ReleaseRecord {
  return {
    kind: 'hashiship.release',
    version: 1,
    service: 'web',
    environment: 'qa',
    seq: 4,
    images: [{ repository: 'acme/web', registry: 'registry.qa:5000', digest: D('a'), tag: '42' }],
    digest: D('a'),
    jobVersion: 3,
    build: '42',
    time: '2026-11-23T11:00:00Z',
    health: { passing: 2, total: 2, at: '2026-11-23T11:00:00Z' },
    smoke: { passed: true, requests: [] },
    via: 'deploy',
  };
}

/**
 * The servers of the target environment, in memory: the progress and release keys
 * and the weight rule in Consul KV, the job and its deployments in Nomad, the
 * registry's images, the canary instances' health. `deps()` answers a PromotionDeps
 * on them whose calls throw ServerError while their server is down.
 */
class Servers {
  readonly clock = new FakeClock();
  readonly events: Event[] = [];
  /** Server → down until this time (Infinity: for good). */
  readonly down = new Map<Server, number>();
  /** Take a server down when a step starts: the failing client's schedule. */
  readonly faults: { step: string; server: Server; forMs: number }[] = [];
  /** Change the servers when a step starts (e.g. a canary stops passing). */
  readonly atStep = new Map<string, () => void>();
  /** Every call made, `server.operation`. */
  readonly calls: string[] = [];

  progress: { value: PromotionProgress; index: number } | undefined;
  kvIndex = 100;
  weightRule: string | undefined;
  release: ReleaseRecord = { ...qaRecord(), environment: 'production', seq: 1, digest: D('b'), images: [], via: 'promote' };
  copied = new Map<string, string>();
  /** The digest the registry answers for a copy (a registry that rewrites manifests answers another). */
  copyDigest: string | undefined;
  job = { Version: 1, Stable: true };
  deployments: (Deployment & { doneAt?: number })[] = [];
  canariesPassing = true;
  smokePasses = true;
  /** Nomad's revert deployment needs this long to finish (Infinity: never). */
  revertMs = 2_000;

  constructor() {
    this.deployments.push(this.deployment('d0-previous', 1, 'successful', 0));
  }

  deployment(id: string, version: number, status: string, canaries: number): Deployment {
    return {
      ID: id,
      JobID: 'web',
      JobVersion: version,
      Status: status,
      StatusDescription: status,
      TaskGroups: { web: { DesiredCanaries: canaries } },
      CreateIndex: 1,
      ModifyIndex: 1,
    };
  }

  isDown(server: Server): boolean {
    return (this.down.get(server) ?? -1) > this.clock.now();
  }

  /** One call of a server: refused while it is down. */
  call<T>(server: Server, operation: string, fn: () => T): Promise<T> {
    this.calls.push(`${server}.${operation}`);
    if (this.isDown(server)) return Promise.reject(new ServerError(server, operation, `http://127.0.0.1/${server}`, 'connection refused'));
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  count(op: string): number {
    return this.calls.filter((c) => c === op).length;
  }

  canaries(): ServiceInstance[] {
    const d = this.latest();
    if (d?.Status !== 'running') return [];
    return [
      {
        id: '_nomad-task-c1',
        node: 'n1',
        address: '127.0.0.1',
        port: 8080,
        tags: ['canary', 'urlprefix-/web'],
        meta: { environment: 'production' },
        checks: [{ id: 'c1-http', name: 'http', status: this.canariesPassing ? 'passing' : 'critical', output: 'HTTP GET: 500', notes: '' }],
        passing: this.canariesPassing,
      },
    ];
  }

  latest(): (Deployment & { doneAt?: number }) | undefined {
    const d = this.deployments.at(-1);
    if (d?.doneAt !== undefined && this.clock.now() >= d.doneAt && d.Status === 'running') {
      this.deployments[this.deployments.length - 1] = { ...d, Status: 'successful' };
      this.job = { ...this.job, Stable: true };
    }
    return this.deployments.at(-1);
  }

  nomad(): TargetNomad {
    return {
      deploy: () =>
        this.call('nomad', 'jobs.register', () => {
          const running = this.latest();
          if (running?.Status === 'running' && running.JobVersion === this.job.Version) return { outcome: 'unchanged' };
          this.job = { Version: this.job.Version + 1, Stable: false };
          const d = this.deployment(`d${this.deployments.length}-canary`, this.job.Version, 'running', 1);
          this.deployments.push(d);
          return { outcome: 'promotion-ready', deploymentId: d.ID };
        }),
      deployment: (id) => this.call('nomad', 'deployments.get', () => (id === undefined ? this.latest() : this.deployments.find((d) => d.ID === id))),
      fail: (id) =>
        this.call('nomad', 'deployments.fail', () => {
          const i = this.deployments.findIndex((d) => d.ID === id);
          const failed = this.deployments[i]!;
          this.deployments[i] = { ...failed, Status: 'failed' };
          const previous = failed.JobVersion - 1;
          this.job = { Version: failed.JobVersion + 1, Stable: false };
          this.deployments.push({
            ...this.deployment(`d${this.deployments.length}-revert`, this.job.Version, 'running', 0),
            doneAt: this.clock.now() + this.revertMs,
          });
          return { RevertedJobVersion: previous };
        }),
      job: () => this.call('nomad', 'jobs.get', () => this.job),
      promote: () =>
        this.call('nomad', 'deployments.promote', () => {
          const d = this.latest()!;
          this.deployments[this.deployments.length - 1] = { ...d, Status: 'successful' };
          this.job = { ...this.job, Stable: true };
        }),
    };
  }

  deps(): PromotionDeps {
    const clock = this.clock;
    const log = (e: Event) => {
      this.events.push(e);
      if (e.kind !== 'promote.step' || e.status !== 'start') return;
      for (const f of this.faults) if (f.step === e.step) this.down.set(f.server, clock.now() + f.forMs);
      this.atStep.get(e.step)?.();
    };
    let nomad: TargetNomad | undefined;
    return {
      clock,
      log,
      registry: {
        copy: (source, destination) =>
          this.call('registry', 'copy', () => {
            this.copied.set(destination, source);
            return this.copyDigest ?? source.slice(source.indexOf('@') + 1);
          }),
      },
      // Like the real one: the first call resolves the images in the registry (nothing is written).
      nomad: () => (nomad !== undefined ? Promise.resolve(nomad) : this.call('registry', 'manifests.get', () => (nomad = this.nomad()))),
      consul: {
        saveProgress: (p, index) =>
          this.call('consul', 'kv.set progress', () => {
            if ((this.progress?.index ?? 0) !== index) throw new GateError(`consul: kv.set: cas ${index} is stale`);
            this.progress = { value: p, index: ++this.kvIndex };
            return this.kvIndex;
          }),
        waitHealthy: async ({ canaries, deadlineMs }) => {
          const selected = canaries > 0 ? this.canaries() : [];
          const ok = await this.call('consul', 'health.service', () => canaries === 0 || (selected.length >= canaries && selected.every((i) => i.passing)));
          if (!ok) {
            await clock.sleep(deadlineMs);
            throw new GateError(`consul: web: not healthy after ${deadlineMs / 1000} s`);
          }
          return { service: 'web', instances: selected, passing: selected.length, elapsedMs: 0, queries: 1 } satisfies HealthGateResult;
        },
        // A blocking query that times out: the clock moves by its wait.
        instances: async (index, waitMs) => {
          const instances = await this.call('consul', 'health.service', () => this.canaries());
          await clock.sleep(Math.min(waitMs, 10_000));
          return { index: index + 1, instances };
        },
        waitSettled: (deadlineMs) => this.call('consul', `settled ${deadlineMs}`, () => undefined),
        weightRule: 'fabio/config/hashiship/web',
        deleteWeightRule: () =>
          this.call('consul', 'kv.delete weight', () => {
            this.weightRule = undefined;
          }),
        readRelease: () => this.call('consul', 'kv.get release', () => this.release),
        writeRelease: (r: NewRecord) =>
          this.call('consul', 'kv.set release', () => (this.release = { ...r, kind: 'hashiship.release', version: 1, seq: this.release.seq + 1 })),
      },
      fabio: {
        applyWeight: (percent) =>
          this.call('fabio', 'weight', () => {
            this.weightRule = `route weight web /web weight ${percent / 100} tags "canary"`;
            return {
              modifyIndex: ++this.kvIndex,
              routes: [
                { weight: percent / 100, tags: ['canary'] },
                { weight: 1 - percent / 100, tags: [] },
              ],
            };
          }),
        removeWeight: () =>
          this.call('consul', 'kv.delete weight', () => {
            this.weightRule = undefined;
          }).then(() => this.call('fabio', 'routes', () => undefined)),
        smoke: () =>
          this.call('fabio', 'smoke', () => ({
            passed: this.smokePasses,
            requests: [
              { name: '/', url: 'http://web/', status: this.smokePasses ? 200 : 500, ok: this.smokePasses, detail: this.smokePasses ? '200 ok' : 'status 500' },
            ],
          })),
        routesSettled: () => this.call('fabio', 'routes', () => 'confirmed' as const),
      },
    };
  }

  /** Plan from what the servers record now (as planService does), then run the one loop. */
  async attempt(opts: { stopAfter?: string } = {}): Promise<PromotionEnd> {
    const plan = planPromotion({
      service: 'web',
      from: 'qa',
      to: 'production',
      source: qaRecord(),
      target: this.release,
      ...(this.progress === undefined ? {} : { progress: this.progress.value }),
      approve: false,
      policy: Policy,
      now: this.clock.now(),
    });
    if (plan.decision !== 'run') throw new Error(`expected a run, got ${JSON.stringify(plan)}`);
    const state = initialState({
      plan,
      from: 'qa',
      to: 'production',
      policy: Policy,
      healthDeadlineMs: HealthDeadlineMs,
      registry: 'registry.production:5000',
      ...(this.progress === undefined ? {} : { recorded: this.progress.value }),
      recordedIndex: this.progress?.index ?? 0,
      now: this.clock.now(),
    });
    return runPromotion(this.deps(), state, opts);
  }

  stepEvents(status: string): string[] {
    return this.events.flatMap((e) => (e.kind === 'promote.step' && e.status === status ? [e.step] : []));
  }
}

const context = (end: PromotionEnd): Record<string, string> => (end.outcome === 'failed' ? Object.fromEntries(end.error.context) : {});
const failure = (end: PromotionEnd) => {
  if (end.outcome !== 'failed') throw new Error(`expected a failure, got ${end.outcome}`);
  return end;
};

describe('promote flow: the one loop over a fake clock and a failing client', function () {
  this.timeout(5_000);

  it('runs every step once, holds each weight on the fake clock, writes the release and leaves no weight rule', async () => {
    const s = new Servers();
    const started = Date.now();
    const end = await s.attempt();
    expect(end.outcome, JSON.stringify(end)).to.equal('promoted');
    expect(s.stepEvents('done')).to.deep.equal([...Steps]);
    expect(end.state.weights.map((w) => [w.percent, w.observed])).to.deep.equal([
      [10, 0.1],
      [50, 0.5],
    ]);
    expect(s.clock.now() - T0, 'two holds of 30 s on the fake clock').to.be.at.least(2 * Policy.holdMs);
    expect(Date.now() - started, 'no real waiting').to.be.below(2_000);
    expect(s.release).to.include({ digest: D('a'), via: 'promote', seq: 2, environment: 'production', time: new Date(s.clock.now()).toISOString() });
    expect(s.release.images[0]?.registry).to.equal('registry.production:5000');
    expect(s.copied.get('registry.production:5000/acme/web:42')).to.equal(`registry.qa:5000/acme/web@${D('a')}`);
    expect(s.weightRule).to.equal(undefined);
    expect(s.progress?.value).to.deep.include({ status: 'done', done: [...Steps], canaries: 1, deploymentId: 'd1-canary', jobVersion: 2 });
    expect(s.progress?.value.updatedAt).to.equal(new Date(s.clock.now()).toISOString());
  });

  describe('resume from the recorded progress', () => {
    for (const [i, step] of Steps.entries()) {
      it(`after ${step}: the next run skips ${i + 1} recorded step(s) and finishes; nothing is done twice`, async () => {
        const s = new Servers();
        const first = await s.attempt({ stopAfter: step });
        expect(first.outcome).to.equal('stopped');
        expect(s.progress?.value.done).to.deep.equal(Steps.slice(0, i + 1));
        s.events.length = 0;
        const second = await s.attempt();
        expect(second.outcome, JSON.stringify(second)).to.equal('promoted');
        expect(s.stepEvents('skip')).to.deep.equal(Steps.slice(0, i + 1));
        expect(s.stepEvents('start')).to.deep.equal(Steps.slice(i + 1));
        expect(s.count('registry.copy'), 'copies').to.equal(1);
        expect(s.count('nomad.jobs.register'), 'registrations').to.equal(1);
        expect(s.count('nomad.deployments.promote'), 'promotions').to.equal(1);
        expect(s.count('consul.kv.set release'), 'release records').to.equal(1);
        expect(s.release.digest).to.equal(D('a'));
        expect(s.progress?.value.status).to.equal('done');
        expect(s.weightRule).to.equal(undefined);
      });
    }

    it('a crash inside a step (its progress not recorded): the step runs again, the earlier ones do not', async () => {
      const s = new Servers();
      await s.attempt({ stopAfter: 'smoke' });
      // The crashed run had written the 10 % rule, then died before recording weight:10.
      s.weightRule = 'route weight web /web weight 0.1 tags "canary"';
      s.events.length = 0;
      const end = await s.attempt();
      expect(end.outcome).to.equal('promoted');
      expect(s.stepEvents('start')[0]).to.equal('weight:10');
      expect(s.count('nomad.jobs.register')).to.equal(1);
    });

    it('a recorded deployment that Nomad failed since: the weight rule goes and the canaries are deployed again (only copy stays done)', async () => {
      const s = new Servers();
      await s.attempt({ stopAfter: 'weight:10' });
      const d = s.deployments.at(-1)!;
      s.deployments[s.deployments.length - 1] = { ...d, Status: 'failed' };
      s.events.length = 0;
      const end = await s.attempt();
      expect(end.outcome, JSON.stringify(end)).to.equal('promoted');
      const resume = s.events.filter((e) => e.kind === 'promote.step' && e.step === 'resume');
      expect(resume.map((e) => e.kind === 'promote.step' && e.detail)).to.deep.equal([
        `deployment ${d.ID.slice(0, 8)} is failed: deploying the canaries again`,
        '',
      ]);
      expect(s.stepEvents('skip')).to.deep.equal(['copy']);
      expect(s.count('nomad.jobs.register')).to.equal(2);
      expect(s.count('registry.copy')).to.equal(1);
      expect(s.calls.indexOf('consul.kv.delete weight'), 'rule removed before the canary').to.be.below(s.calls.lastIndexOf('nomad.jobs.register'));
    });

    it("an unfinished promotion of another digest: its weight rule is removed before this one's first step", async () => {
      const s = new Servers();
      s.progress = {
        value: { ...(await new Servers().attempt({ stopAfter: 'weight:10' })).state.progress, digest: D('c') },
        index: 7,
      };
      s.kvIndex = 7;
      s.weightRule = 'route weight web /web weight 0.1 tags "canary"';
      const end = await s.attempt();
      expect(end.outcome).to.equal('promoted');
      expect(s.events[0]).to.deep.include({ kind: 'promote.step', step: 'cleanup', status: 'start', detail: `unfinished promotion of ${D('c')}` });
      expect(s.calls[0]).to.equal('consul.kv.delete weight');
      expect(s.stepEvents('skip'), 'nothing of the other digest counts as done').to.deep.equal([]);
    });
  });

  describe('clean-up and revert', () => {
    it('before production is touched (the registry down at copy): the error as is (exit 2), nothing reverted, the run marked failed', async () => {
      const s = new Servers();
      s.faults.push({ step: 'copy', server: 'registry', forMs: Infinity });
      const end = failure(await s.attempt());
      expect(end.error).to.be.instanceOf(ServerError);
      expect(end.error.exitCode).to.equal(ExitCode.unreachable);
      expect(end.error.message).to.equal('registry: copy: connection refused');
      expect(s.count('nomad.deployments.fail')).to.equal(0);
      expect(s.count('consul.kv.delete weight')).to.equal(0);
      expect(s.progress?.value).to.deep.include({ status: 'failed', error: 'registry: copy: connection refused', done: [] });
      expect(s.stepEvents('fail')).to.deep.equal(['copy']);
    });

    it('the images cannot be pinned at canary (nothing registered yet): the error as is, no revert', async () => {
      const s = new Servers();
      s.faults.push({ step: 'canary', server: 'registry', forMs: Infinity });
      const end = failure(await s.attempt());
      expect(end.error.exitCode).to.equal(ExitCode.unreachable);
      expect(s.count('nomad.deployments.fail')).to.equal(0);
      expect(s.progress?.value.status).to.equal('failed');
    });

    it('Fabio down at weight:10: the rule is removed first, the deployment failed, Nomad reverts; exit 3 saying so; the next run completes', async () => {
      const s = new Servers();
      s.faults.push({ step: 'weight:10', server: 'fabio', forMs: 1_000 });
      const end = failure(await s.attempt());
      expect(end.error).to.be.instanceOf(RevertedError);
      expect(end.error.exitCode).to.equal(ExitCode.reverted);
      expect(end.error.message).to.equal(`web: promotion of ${D('a')} failed at weight:10; the weight rule was removed and Nomad rolled back`);
      const c = context(end);
      expect(c).to.deep.include({
        Step: 'weight:10',
        Cause: 'fabio: weight: connection refused',
        'Weight rule': 'removed (fabio/config/hashiship/web)',
        Deployment: 'd1-canar (version 2) marked failed; Nomad reverts to version 1',
        Traffic: 'previous instances only (Consul and Fabio)',
      });
      const order = ['consul.kv.delete weight', 'nomad.deployments.fail'].map((op) => s.calls.indexOf(op));
      expect(order[0], 'weight rule removed before the deployment is failed').to.be.below(order[1]!).and.at.least(0);
      expect(s.latest()).to.include({ Status: 'successful', ID: 'd2-revert' });
      expect(s.clock.slept, 'waited for the revert on the fake clock').to.be.at.least(s.revertMs);
      expect(s.progress?.value).to.deep.include({ status: 'failed', error: 'fabio: weight: connection refused' });
      expect(s.release.digest, 'no release record for the failed digest').to.equal(D('b'));

      s.faults.length = 0;
      s.clock.t += 10_000;
      const again = await s.attempt();
      expect(again.outcome, JSON.stringify(again)).to.equal('promoted');
      expect(s.release.digest).to.equal(D('a'));
    });

    it('a canary that stops passing during the hold: GateError cause, reverted (exit 3), the observed weight kept', async () => {
      const s = new Servers();
      // The canary fails its checks once the 10 % step starts (after Fabio showed the weight).
      s.atStep.set('weight:10', () => (s.canariesPassing = false));
      const end = failure(await s.attempt());
      expect(end.error.exitCode).to.equal(ExitCode.reverted);
      expect(context(end).Cause).to.equal('consul: web: canary health failed during the hold');
      expect(context(end)['Instance _nomad-task-c1']).to.match(/check "http" \(c1-http\) critical/);
      expect(end.state.weights.map((w) => w.percent)).to.deep.equal([10]);
      expect(s.count('nomad.deployments.fail')).to.equal(1);
    });

    it('the clean-up itself fails (Consul down from weight:10 on): exit 2 saying the clean-up did not finish, the progress stays running; the next run cleans up and finishes', async () => {
      const s = new Servers();
      s.faults.push({ step: 'weight:10', server: 'consul', forMs: Infinity });
      const end = failure(await s.attempt());
      expect(end.error).to.be.instanceOf(ServerError);
      expect(end.error.exitCode).to.equal(ExitCode.unreachable);
      expect(end.error.message).to.equal(
        'consul: cleanup: promotion of web failed at weight:10 and the clean-up did not finish; run the promotion again to finish it',
      );
      expect(context(end)['Weight rule']).to.equal('NOT removed: consul: kv.delete weight: connection refused');
      expect(s.progress?.value.status, 'a re-run must clean up and retry').to.equal('running');

      s.down.clear();
      s.faults.length = 0;
      s.events.length = 0;
      const again = await s.attempt();
      expect(again.outcome, JSON.stringify(again)).to.equal('promoted');
      // Nomad reverted the failed deployment meanwhile: the re-run removes the rule and deploys the canaries again.
      expect(s.stepEvents('start')).to.deep.equal(['resume', ...Steps.slice(1)]);
      expect(s.stepEvents('skip')).to.deep.equal(['copy']);
      expect(s.count('nomad.jobs.register')).to.equal(2);
      expect(s.weightRule).to.equal(undefined);
    });

    it('Nomad down when the deployment must be failed: the rule is removed, exit 2 names the clean-up; the next run resumes the same deployment', async () => {
      const s = new Servers();
      s.faults.push({ step: 'smoke', server: 'fabio', forMs: Infinity }, { step: 'smoke', server: 'nomad', forMs: Infinity });
      const end = failure(await s.attempt());
      expect(end.error.message).to.contain('and the clean-up did not finish');
      expect(context(end)).to.deep.include({
        'Weight rule': 'removed (fabio/config/hashiship/web)',
        Deployment: 'NOT failed: nomad: deployments.get: connection refused',
      });
      expect(s.progress?.value).to.deep.include({ status: 'running', error: 'fabio: smoke: connection refused' });
      s.down.clear();
      s.faults.length = 0;
      expect((await s.attempt()).outcome).to.equal('promoted');
      expect(s.count('nomad.jobs.register')).to.equal(1);
    });

    it('a revert Nomad never finishes: bounded by its deadline on the fake clock, exit 6 saying the rule was removed (not "rolled back")', async () => {
      const s = new Servers();
      s.revertMs = Infinity;
      s.smokePasses = false;
      const end = failure(await s.attempt());
      expect(end.error).to.be.instanceOf(GateError);
      expect(end.error.message).to.equal(`web: promotion of ${D('a')} failed at smoke; the weight rule was removed`);
      expect(context(end).Cause).to.equal('web: smoke tests failed in production');
      expect(context(end)['Smoke /']).to.equal('http://web/: status 500');
      expect(context(end)).to.not.have.property('Traffic');
      expect(s.clock.slept)
        .to.be.at.least(RevertDeadlineMs - 250)
        .and.below(RevertDeadlineMs + 1_000);
      expect(s.progress?.value.status).to.equal('failed');
    });

    it('after the deployment was promoted (Consul down at unweight): nothing reverted, exit 2 "run the promotion again"; the re-run finishes', async () => {
      const s = new Servers();
      s.faults.push({ step: 'unweight', server: 'consul', forMs: 1 });
      const end = failure(await s.attempt());
      expect(end.error).to.be.instanceOf(ServerError);
      expect(end.error.message).to.equal(
        'consul: unweight: promotion of web failed at unweight after the deployment was promoted; run the promotion again to finish it',
      );
      expect(context(end)).to.deep.include({
        Production: `runs ${D('a')} (promoted after every check)`,
        'Weight rule': 'NOT removed (fabio/config/hashiship/web): consul: kv.delete weight: connection refused',
      });
      expect(s.count('nomad.deployments.fail'), 'a promoted deployment is not failed').to.equal(0);
      expect(s.progress?.value.status).to.equal('running');
      s.down.clear();
      s.faults.length = 0;
      s.events.length = 0;
      expect((await s.attempt()).outcome).to.equal('promoted');
      expect(s.stepEvents('start')).to.deep.equal(['unweight', 'record']);
    });

    it('the record step fails: its error as is, no clean-up, no revert (production passed every check)', async () => {
      const s = new Servers();
      s.faults.push({ step: 'record', server: 'consul', forMs: Infinity });
      const end = failure(await s.attempt());
      expect(end.error.message).to.equal('consul: kv.get release: connection refused');
      expect(s.count('nomad.deployments.fail')).to.equal(0);
      expect(s.count('consul.kv.delete weight')).to.equal(1); // the unweight step's, none after
    });

    it('a deployment the deploy engine reports failed and reverted: the diagnosis is kept and no second fail is sent', async () => {
      const s = new Servers();
      const deps = s.deps();
      const nomad = s.nomad();
      const diagnosed = new Diagnosed(new RevertedError('nomad: web: deployment failed; Nomad rolled back to version 1'), ['alloc c1: exit 1']);
      deps.nomad = () => Promise.resolve({ ...nomad, deploy: () => Promise.reject(diagnosed) });
      const plan = planPromotion({ service: 'web', from: 'qa', to: 'production', source: qaRecord(), approve: false, policy: Policy, now: T0 });
      if (plan.decision !== 'run') throw new Error('expected a run');
      const state = initialState({
        plan,
        from: 'qa',
        to: 'production',
        policy: Policy,
        healthDeadlineMs: HealthDeadlineMs,
        registry: 'r',
        recordedIndex: 0,
        now: T0,
      });
      const end = failure(await runPromotion(deps, state));
      expect(end.error.exitCode).to.equal(ExitCode.reverted);
      expect(end.diagnosis).to.deep.equal(['alloc c1: exit 1']);
      expect(context(end).Cause).to.equal('nomad: web: deployment failed; Nomad rolled back to version 1');
      expect(s.count('nomad.deployments.fail')).to.equal(0);
      expect(s.count('consul.kv.delete weight')).to.equal(1);
    });
  });
});
