/**
 * The promotion state machine: for each service, read (source and target
 * release records, recorded progress), plan (plan.ts, pure), take the service's
 * lock in the target environment, then apply the steps in order, recording
 * progress in `hashiship/promotions/<env>/<service>` after each so a re-run
 * resumes where a crashed one stopped. Any failure once production was touched
 * removes the weight rule first, fails the deployment so Nomad reverts
 * (auto_revert), and ends with exit 3 and the diagnosis.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HashishipConfig } from '../config/index.js';
import { createConsul, type ConsulApi } from '../consul/client.js';
import { readInstances, selectInstances, waitForHealthy, describeFailures, type HealthGateResult } from '../consul/health.js';
import { kvGet, kvPutCas, kvUpdate } from '../consul/kv.js';
import { Diagnosed, deployJob, promoteCanaries } from '../deploy/deploy.js';
import type { DeployContext } from '../deploy/runtime.js';
import { ExitCode, GateError, HashishipError, InputError, RevertedError, ServerError, worstExitCode, type ContextLine } from '../errors.js';
import { applyCanaryWeight, removeCanaryWeight } from '../fabio/canary.js';
import { waitForRoutes } from '../fabio/routes.js';
import type { HttpApi } from '../http.js';
import { CanaryTag, weightKey } from '../fabio/weights.js';
import { silent, type Logger } from '../log.js';
import { ActiveDeploymentStatuses } from '../nomad/deployments.js';
import { copyImage, RegistryClients, type RegistryAccess } from '../registry/index.js';
import { parseDuration } from '../spec/duration.js';
import type { ResolvedService } from '../spec/overlay.js';
import { EnvironmentMeta, healthEvidence, runSmoke, serviceRouting, waitSettled } from './evidence.js';
import { contextForSet, pinnedInputs, resolvedServices, type SpecDirs } from './image.js';
import { acquireLock } from './lock.js';
import { checkSteps, DefaultPolicy, formatPlan, planPromotion, progressKey, type PromotionPlan, type PromotionPolicy, type PromotionProgress } from './plan.js';
import { readRelease, releasedServices, writeRelease, type ReleaseRecord, type SmokeEvidence } from './records.js';

/** Options of {@link promote}. */
export interface PromoteOptions {
  readonly from: string;
  readonly to: string;
  /** Services to promote; empty: every service of `to` with a release in `from`. */
  readonly names: readonly string[];
  readonly dirs?: SpecDirs;
  readonly build?: string;
  readonly approve?: boolean;
  /** Flags over the environment's `promotion:` block. */
  readonly steps?: readonly number[];
  readonly holdMs?: number;
  readonly minSoakMs?: number;
  readonly dryRun?: boolean;
  /** Overwrite a different digest under an existing tag in the target registry. */
  readonly force?: boolean;
  /** Wait this long for another promotion's lock. @default 0 */
  readonly lockWaitMs?: number;
  /** Deadline of each health gate (canaries passing). @default 60000 */
  readonly healthDeadlineMs?: number;
  readonly fabio: HttpApi;
  readonly proxy?: string;
  readonly access?: RegistryAccess;
  readonly log?: Logger;
  /** Stop after this step (tests simulate a crash). */
  readonly stopAfter?: string;
}

/** What one weight step showed in Fabio. */
export interface ObservedWeight {
  readonly percent: number;
  /** Share of the route's traffic Fabio's /api/routes gave the canary targets. */
  readonly observed: number;
  readonly targets: number;
}

/** The outcome of one service. */
export interface ServicePromotion {
  readonly service: string;
  readonly outcome: 'planned' | 'nothing' | 'refused' | 'promoted' | 'reverted' | 'failed' | 'stopped';
  readonly exitCode: number;
  readonly message: string;
  readonly plan: readonly string[];
  readonly digest?: string;
  readonly record?: ReleaseRecord;
  readonly weights: readonly ObservedWeight[];
  readonly diagnosis: readonly string[];
  readonly error?: HashishipError;
  readonly seconds: number;
}

/** The outcome of a promotion run. */
export interface PromoteResult {
  readonly from: string;
  readonly to: string;
  readonly results: readonly ServicePromotion[];
  readonly exitCode: number;
}

/** The policy of a target environment: its `promotion:` block, then the flags. */
export function policyOf(target: ResolvedService | undefined, opts: Pick<PromoteOptions, 'steps' | 'holdMs' | 'minSoakMs'>): PromotionPolicy {
  const p = target?.environment?.promotion;
  const ms = (d: string | undefined) => (d === undefined ? undefined : (parseDuration(d) ?? 0) / 1e6);
  const steps = opts.steps ?? p?.steps ?? DefaultPolicy.steps;
  const problem = checkSteps(steps);
  if (problem !== undefined) {
    const subject =
      opts.steps !== undefined ? `--steps=${steps.join(',')}` : `${target?.environmentFile ?? target?.environment?.name ?? 'environment'}: promotion.steps`;
    throw new InputError([{ subject, message: problem }]);
  }
  return {
    requireApproval: p?.require_approval ?? DefaultPolicy.requireApproval,
    minSoakMs: opts.minSoakMs ?? ms(p?.min_soak) ?? DefaultPolicy.minSoakMs,
    steps,
    holdMs: opts.holdMs ?? ms(p?.hold) ?? DefaultPolicy.holdMs,
  };
}

async function readProgress(config: HashishipConfig, to: string, service: string, consul: ConsulApi): Promise<{ progress?: PromotionProgress; index: number }> {
  const e = await kvGet(config.consul, progressKey(to, service), { consul });
  if (e === undefined) return { index: 0 };
  try {
    const p = JSON.parse(e.value) as PromotionProgress;
    return p.kind === 'hashiship.promotion' ? { progress: p, index: e.modifyIndex } : { index: e.modifyIndex };
  } catch {
    return { index: e.modifyIndex };
  }
}

/** Promote every chosen service, one after the other; the exit code is the worst. */
export async function promote(config: HashishipConfig, opts: PromoteOptions): Promise<PromoteResult> {
  if (opts.from === opts.to) throw new InputError([{ subject: '--to', message: `promoting ${opts.from} into itself` }]);
  const consul = createConsul(config.consul);
  const targets = await resolvedServices(opts.to, opts.names, opts.dirs);
  let chosen = targets;
  if (opts.names.length === 0) {
    const released = new Set(await releasedServices(config.consul, opts.from, { consul }));
    chosen = targets.filter((t) => released.has(t.spec.name));
  }
  const results: ServicePromotion[] = [];
  for (const target of chosen) results.push(await promoteService(config, consul, target, opts));
  const codes = results.map((r) => r.exitCode).filter((c) => c !== ExitCode.ok);
  return { from: opts.from, to: opts.to, results, exitCode: worstExitCode(codes) };
}

/** Plan one service's promotion (reads only). */
export async function planService(
  config: HashishipConfig,
  consul: ConsulApi,
  target: ResolvedService,
  opts: PromoteOptions,
): Promise<{ plan: PromotionPlan; progress?: PromotionProgress; progressIndex: number; policy: PromotionPolicy; current?: ReleaseRecord }> {
  const service = target.spec.name;
  const policy = policyOf(target, opts);
  const [source, current, prog] = await Promise.all([
    readRelease(config.consul, opts.from, service, { consul }),
    readRelease(config.consul, opts.to, service, { consul }),
    readProgress(config, opts.to, service, consul),
  ]);
  const plan = planPromotion({
    service,
    from: opts.from,
    to: opts.to,
    ...(source === undefined ? {} : { source: source.record }),
    ...(current === undefined ? {} : { target: current.record }),
    ...(prog.progress === undefined ? {} : { progress: prog.progress }),
    ...(opts.build === undefined ? {} : { build: opts.build }),
    approve: opts.approve === true,
    policy,
    now: Date.now(),
  });
  return {
    plan,
    ...(prog.progress === undefined ? {} : { progress: prog.progress }),
    progressIndex: prog.index,
    policy,
    ...(current === undefined ? {} : { current: current.record }),
  };
}

class StepFailure extends Error {
  constructor(
    readonly step: string,
    readonly error: HashishipError,
    readonly lines: readonly string[],
  ) {
    super(error.message);
  }
}

async function promoteService(config: HashishipConfig, consul: ConsulApi, target: ResolvedService, opts: PromoteOptions): Promise<ServicePromotion> {
  const started = Date.now();
  const service = target.spec.name;
  const log = opts.log ?? silent;
  const base = { service, weights: [] as ObservedWeight[], diagnosis: [] as string[] };
  const done = (
    r: Omit<ServicePromotion, 'seconds' | 'service' | 'weights' | 'diagnosis'> & Partial<Pick<ServicePromotion, 'weights' | 'diagnosis'>>,
  ): ServicePromotion => ({
    ...base,
    ...r,
    seconds: (Date.now() - started) / 1000,
  });
  let planned: Awaited<ReturnType<typeof planService>>;
  try {
    planned = await planService(config, consul, target, opts);
  } catch (err) {
    if (!(err instanceof HashishipError)) throw err;
    return done({ outcome: 'failed', exitCode: err.exitCode, message: err.message, plan: [], error: err });
  }
  const lines = formatPlan(planned.plan, opts.from, opts.to);
  if (opts.dryRun === true) {
    return done({ outcome: 'planned', exitCode: planned.plan.decision === 'refuse' ? ExitCode.gate : ExitCode.ok, message: lines[0] ?? '', plan: lines });
  }
  if (planned.plan.decision === 'nothing')
    return done({ outcome: 'nothing', exitCode: ExitCode.ok, message: planned.plan.reason, plan: lines, digest: planned.plan.digest });
  if (planned.plan.decision === 'refuse') {
    const error = new GateError(`${service}: ${planned.plan.reason}`, { context: planned.plan.context });
    return done({ outcome: 'refused', exitCode: ExitCode.gate, message: error.message, plan: lines, error });
  }
  let lock;
  try {
    lock = await acquireLock(config.consul, {
      environment: opts.to,
      service,
      holder: { what: `promotion of ${service} from ${opts.from}`, ...(planned.plan.source.build === undefined ? {} : { build: planned.plan.source.build }) },
      waitMs: opts.lockWaitMs ?? 0,
      consul,
    });
  } catch (err) {
    if (!(err instanceof HashishipError)) throw err;
    return done({ outcome: 'refused', exitCode: err.exitCode, message: err.message, plan: lines, error: err });
  }
  log({ kind: 'promote.lock', service, environment: opts.to, action: 'acquired' });
  try {
    // Another run may have finished while we waited for the lock: plan again under it.
    planned = await planService(config, consul, target, opts);
    const plan = planned.plan;
    const lines2 = formatPlan(plan, opts.from, opts.to);
    if (plan.decision === 'nothing') return done({ outcome: 'nothing', exitCode: ExitCode.ok, message: plan.reason, plan: lines2, digest: plan.digest });
    if (plan.decision === 'refuse') {
      const error = new GateError(`${service}: ${plan.reason}`, { context: plan.context });
      return done({ outcome: 'refused', exitCode: ExitCode.gate, message: error.message, plan: lines2, error });
    }
    const runner = new Runner(config, consul, target, opts, plan, planned, log);
    return await runner.run().then(
      (r) => done({ ...r, plan: lines2, weights: runner.weights }),
      (err: unknown) => {
        if (!(err instanceof HashishipError) && !(err instanceof Diagnosed)) throw err;
        const e = err instanceof Diagnosed ? err.error : err;
        return done({
          outcome: e.exitCode === ExitCode.reverted ? 'reverted' : 'failed',
          exitCode: e.exitCode,
          message: e.message,
          plan: lines2,
          digest: plan.digest,
          error: e,
          weights: runner.weights,
          diagnosis: err instanceof Diagnosed ? err.lines : [],
        });
      },
    );
  } finally {
    await lock.release();
    log({ kind: 'promote.lock', service, environment: opts.to, action: 'released' });
  }
}

/** Applies one planned promotion. */
class Runner {
  readonly weights: ObservedWeight[] = [];
  readonly service: string;
  readonly routing: ReturnType<typeof serviceRouting>;
  progress: PromotionProgress;
  progressIndex: number;
  ctx: DeployContext | undefined;
  health: HealthGateResult | undefined;
  smoke: { passed: boolean; requests: SmokeEvidence[] } | undefined;
  /** Production was touched (a deployment registered): failures revert. */
  touched = false;

  constructor(
    readonly config: HashishipConfig,
    readonly consul: ConsulApi,
    readonly target: ResolvedService,
    readonly opts: PromoteOptions,
    readonly plan: Extract<PromotionPlan, { decision: 'run' }>,
    planned: { progress?: PromotionProgress; progressIndex: number },
    readonly log: Logger,
  ) {
    this.service = target.spec.name;
    this.routing = serviceRouting(target);
    const now = new Date().toISOString();
    const resumed = planned.progress !== undefined && planned.progress.digest === plan.digest && planned.progress.status === 'running';
    this.progress = resumed
      ? planned.progress!
      : {
          kind: 'hashiship.promotion',
          version: 1,
          service: this.service,
          from: opts.from,
          to: opts.to,
          digest: plan.digest,
          ...(plan.source.build === undefined ? {} : { build: plan.source.build }),
          done: [],
          status: 'running',
          startedAt: now,
          updatedAt: now,
        };
    this.progressIndex = planned.progressIndex;
    this.touched = this.progress.done.includes('canary');
  }

  async save(change: Partial<PromotionProgress>): Promise<void> {
    this.progress = { ...this.progress, ...change, updatedAt: new Date().toISOString() };
    const e = await kvPutCas(this.config.consul, progressKey(this.opts.to, this.service), JSON.stringify(this.progress), this.progressIndex, {
      consul: this.consul,
    });
    this.progressIndex = e.modifyIndex;
  }

  step(step: string, status: 'start' | 'done' | 'skip' | 'fail', detail = ''): void {
    this.log({ kind: 'promote.step', service: this.service, step, status, detail });
  }

  async context(): Promise<DeployContext> {
    if (this.ctx !== undefined) return this.ctx;
    const pinned = await pinnedInputs(this.opts.to, [this.service], {
      ...(this.opts.dirs === undefined ? {} : { dirs: this.opts.dirs }),
      pinned: Object.fromEntries(this.plan.source.images.map((i) => [i.repository, i.digest])),
      ...(this.opts.access === undefined ? {} : { access: this.opts.access }),
      ...(this.config.nomad.namespace === undefined ? {} : { namespace: this.config.nomad.namespace }),
    });
    this.input = pinned.set.inputs[0];
    this.ctx = contextForSet(this.config, pinned.set, this.log);
    return this.ctx;
  }

  input: Awaited<ReturnType<typeof pinnedInputs>>['set']['inputs'][number] | undefined;

  async run(): Promise<Omit<ServicePromotion, 'seconds' | 'service' | 'weights' | 'diagnosis' | 'plan'>> {
    if (this.plan.abandoned !== undefined) {
      this.step('cleanup', 'start', `unfinished promotion of ${this.plan.abandoned.digest}`);
      await kvUpdate(this.config.consul, weightKey(this.routing.service), () => null, { consul: this.consul, log: this.log });
      this.step('cleanup', 'done', 'weight rule removed');
    }
    await this.save({ status: 'running' });
    await this.checkResumedDeployment();
    for (const s of this.plan.steps) {
      if (this.progress.done.includes(s.name)) {
        this.step(s.name, 'skip', 'done by an earlier run');
        continue;
      }
      this.step(s.name, 'start', s.detail);
      try {
        await this.apply(s.name);
      } catch (err) {
        await this.fail(s.name, err);
      }
      await this.save({ done: [...this.progress.done, s.name] });
      this.step(s.name, 'done');
      if (this.opts.stopAfter === s.name) {
        return { outcome: 'stopped', exitCode: ExitCode.ok, message: `stopped after ${s.name} (as asked)`, digest: this.plan.digest };
      }
    }
    await this.save({ status: 'done' });
    const rec = (await readRelease(this.config.consul, this.opts.to, this.service, { consul: this.consul }))?.record;
    return {
      outcome: 'promoted',
      exitCode: ExitCode.ok,
      message: `${this.plan.digest} promoted to ${this.opts.to}${rec === undefined ? '' : ` (release #${rec.seq})`}`,
      digest: this.plan.digest,
      ...(rec === undefined ? {} : { record: rec }),
    };
  }

  /**
   * A resumed run trusts its recorded deployment only while Nomad still runs it
   * (or finished it successfully); a deployment that failed or was cancelled
   * since (a revert, a newer registration) means deploying the canary again.
   */
  async checkResumedDeployment(): Promise<void> {
    const id = this.progress.deploymentId;
    if (!this.progress.done.includes('canary') || id === undefined) return;
    const ctx = await this.context();
    const d = await ctx.nomad.deployments.get(id).then(
      (r) => r.data,
      () => undefined,
    );
    if (d !== undefined && (ActiveDeploymentStatuses.has(d.Status) || d.Status === 'successful')) return;
    this.step('resume', 'start', `deployment ${id.slice(0, 8)} is ${d?.Status ?? 'gone'}: deploying the canaries again`);
    await kvUpdate(this.config.consul, weightKey(this.routing.service), () => null, { consul: this.consul, log: this.log });
    const keep = this.progress.done.filter((x) => x === 'copy');
    const { deploymentId: _d, weightIndex: _w, ...rest } = this.progress;
    this.progress = { ...rest, done: keep };
    this.touched = false;
    await this.save({ done: keep });
    this.step('resume', 'done');
  }

  async apply(step: string): Promise<void> {
    const weight = /^weight:(\d+)$/.exec(step);
    if (weight !== null) return this.weightStep(Number(weight[1]));
    switch (step) {
      case 'copy':
        return this.copy();
      case 'canary':
        return this.canary();
      case 'gate':
        return void (await this.gate());
      case 'smoke':
        return this.smokeStep();
      case 'promote':
        return this.promoteStep();
      case 'unweight':
        return this.unweight();
      case 'record':
        return this.record();
      default:
        throw new Error(`promote: unknown step ${step}`);
    }
  }

  async copy(): Promise<void> {
    const registry = this.target.environment?.registry;
    if (registry === undefined) throw new InputError([{ subject: `${this.opts.to}: registry`, message: 'the target environment names no registry' }]);
    const clients = new RegistryClients(this.opts.access ?? {});
    for (const img of this.plan.source.images) {
      const tag = img.tag ?? this.plan.source.build;
      const r = await copyImage(
        `${img.registry}/${img.repository}@${img.digest}`,
        `${registry}/${img.repository}${tag === undefined ? `@${img.digest}` : `:${tag}`}`,
        {
          clients,
          force: this.opts.force === true,
          log: this.log,
          ...(this.opts.access ?? {}),
        },
      );
      if (r.digest !== img.digest) {
        throw new GateError(`${img.repository}: the copy in ${registry} has digest ${r.digest}, not ${img.digest}`);
      }
    }
  }

  async canary(): Promise<void> {
    const ctx = await this.context();
    this.touched = true;
    const r = await deployJob(ctx, this.opts.to, this.input!, { until: 'promotion-ready' });
    // Unchanged: registered by an earlier run, whose deployment is the one to finish.
    await this.recordDeployment(ctx, r.outcome === 'unchanged' ? undefined : r.deploymentId);
  }

  /** Canaries of this promotion's deployment (a first deployment places none, whatever the spec says). */
  canaryCount(): number {
    return this.progress.canaries ?? 0;
  }

  async recordDeployment(ctx: DeployContext, id: string | undefined): Promise<void> {
    const d = id === undefined ? await ctx.nomad.jobs.latestDeployment(this.service) : (await ctx.nomad.deployments.get(id)).data;
    const canaries = Object.values(d?.TaskGroups ?? {}).reduce((n, g) => n + (g.DesiredCanaries ?? 0), 0);
    await this.save({ canaries, ...(d === undefined ? {} : { deploymentId: d.ID, jobVersion: d.JobVersion }) });
  }

  async gate(): Promise<HealthGateResult> {
    const h = await waitForHealthy(this.config.consul, {
      service: this.routing.service,
      version: this.opts.to,
      versionMetaKey: EnvironmentMeta,
      ...(this.canaryCount() > 0 ? { tags: [CanaryTag] } : {}),
      require: 'all',
      min: Math.max(1, this.canaryCount()),
      deadlineMs: this.opts.healthDeadlineMs ?? 60_000,
      consul: this.consul,
      log: this.log,
    });
    this.health = h;
    return h;
  }

  async smokeStep(): Promise<void> {
    const s = await runSmoke(this.target, { ...(this.opts.proxy === undefined ? {} : { proxy: this.opts.proxy }), log: this.log });
    this.smoke = s;
    if (!s.passed) {
      throw new GateError(`${this.service}: smoke tests failed in ${this.opts.to}`, {
        context: s.requests
          .filter((q) => !q.ok)
          .slice(0, 5)
          .map((q) => [`Smoke ${q.name}`, `${q.url}: ${q.detail}`] as const),
      });
    }
  }

  /** Hold the current weight for `ms`, failing as soon as a canary instance stops passing. */
  async hold(ms: number): Promise<void> {
    const end = Date.now() + ms;
    let index = 0;
    const sel = { service: this.routing.service, version: this.opts.to, versionMetaKey: EnvironmentMeta, tags: [CanaryTag] };
    while (Date.now() < end) {
      const r = await readInstances(this.config.consul, this.routing.service, { index, waitMs: Math.max(1, end - Date.now()), consul: this.consul });
      index = r.index;
      const selected = selectInstances(r.instances, sel);
      const bad = selected.filter((i) => !i.passing);
      if (selected.length === 0 || bad.length > 0) {
        throw new GateError(`consul: ${this.service}: canary health failed during the hold`, {
          context: selected.length === 0 ? [['Instances', 'no canary instance registered']] : describeFailures(bad),
        });
      }
    }
  }

  async weightStep(percent: number): Promise<void> {
    if (this.canaryCount() === 0) {
      this.step(`weight:${percent}`, 'skip', `${this.opts.to} deploys without canaries`);
      return;
    }
    const policy = policyOf(this.target, this.opts);
    const r = await applyCanaryWeight(this.config.consul, this.opts.fabio, percent / 100, {
      service: this.routing.service,
      routeTags: this.routing.tags,
      minCanaries: this.canaryCount(),
      healthDeadlineMs: this.opts.healthDeadlineMs ?? 60_000,
      consul: this.consul,
      log: this.log,
    });
    const canaries = r.routes.filter((x) => x.tags.includes(CanaryTag));
    const observed = Math.round(canaries.reduce((s, x) => s + x.weight, 0) * 10_000) / 10_000;
    this.weights.push({ percent, observed, targets: r.routes.length });
    this.log({ kind: 'promote.weight', service: this.service, percent, observed, holdMs: policy.holdMs });
    await this.save({ weightIndex: r.modifyIndex });
    await this.hold(policy.holdMs);
  }

  async promoteStep(): Promise<void> {
    const ctx = await this.context();
    const r = await promoteCanaries(ctx, [this.service], { environment: this.opts.to });
    const s = r.results[0];
    if (s?.error !== undefined) throw new Diagnosed(s.error, s.diagnosis);
    // Only the new instances remain (the old ones leave after their shutdown delay).
    await waitSettled(this.config, this.target, { deadlineMs: this.opts.healthDeadlineMs ?? 60_000, consul: this.consul });
  }

  async unweight(): Promise<void> {
    if (this.canaryCount() === 0) return;
    await removeCanaryWeight(this.config.consul, this.opts.fabio, {
      service: this.routing.service,
      routeTags: this.routing.tags,
      consul: this.consul,
      log: this.log,
    });
  }

  async record(): Promise<void> {
    const ctx = await this.context();
    const current = await readRelease(this.config.consul, this.opts.to, this.service, { consul: this.consul });
    if (current?.record.digest === this.plan.digest && current.record.via === 'promote') return; // written by the run that crashed after it
    const live = await ctx.nomad.jobs.get(this.service);
    // The health of what runs now (every instance, after the promotion), not the canary gate's.
    const health = await waitForHealthy(this.config.consul, {
      service: this.routing.service,
      version: this.opts.to,
      versionMetaKey: EnvironmentMeta,
      require: 'all',
      deadlineMs: this.opts.healthDeadlineMs ?? 60_000,
      consul: this.consul,
    });
    // After a resume the smoke step of this run may not have happened: run it now.
    const smoke = this.smoke ?? (await runSmoke(this.target, { ...(this.opts.proxy === undefined ? {} : { proxy: this.opts.proxy }) }));
    const src = this.plan.source;
    const rec = await writeRelease(
      this.config.consul,
      {
        service: this.service,
        environment: this.opts.to,
        images: src.images.map((i) => ({ ...i, registry: this.target.environment?.registry ?? i.registry })),
        digest: src.digest,
        jobVersion: live?.Version ?? this.progress.jobVersion ?? 0,
        ...(src.build === undefined ? {} : { build: src.build }),
        ...(src.commit === undefined ? {} : { commit: src.commit }),
        time: new Date().toISOString(),
        health: healthEvidence(health, Date.now()),
        smoke,
        via: 'promote',
        promotedFrom: { environment: this.opts.from, seq: src.seq, ...(src.build === undefined ? {} : { build: src.build }) },
      },
      { consul: this.consul, log: this.log },
    );
    this.log({ kind: 'promote.record', service: this.service, environment: this.opts.to, seq: rec.seq, digest: rec.digest, written: true });
  }

  /**
   * A step failed. Before production was touched (copy): its error as is. After:
   * remove the weight rule first, fail the deployment so Nomad reverts, and end
   * with exit 3 carrying the cause — or exit 2 when the clean-up itself failed
   * (the progress stays `running`, so a re-run cleans up and retries).
   */
  async fail(step: string, err: unknown): Promise<never> {
    if (!(err instanceof HashishipError) && !(err instanceof Diagnosed)) throw err;
    const cause = err instanceof Diagnosed ? err.error : err;
    const lines = err instanceof Diagnosed ? err.lines : [];
    this.step(step, 'fail', cause.message);
    if (!this.touched) {
      // Production untouched (the copy failed): nothing to clean up; the run is over.
      await this.save({ status: 'failed', error: cause.message }).catch(() => undefined);
      throw err;
    }
    if (step === 'record') throw err;
    if (this.progress.done.includes('promote')) {
      // The deployment is promoted: production runs this release, which passed every check,
      // so there is nothing to revert (failing it would not roll back; calling it reverted
      // would be false). The progress stays running: a re-run finishes the remaining steps.
      const key = weightKey(this.routing.service);
      const rule = await kvUpdate(this.config.consul, key, () => null, { consul: this.consul, log: this.log }).then(
        () => `removed (${key})`,
        (e: Error) => `NOT removed (${key}): ${e.message}`,
      );
      const context: ContextLine[] = [
        ['Step', step],
        ['Cause', cause.message],
        ...cause.context,
        ['Production', `runs ${this.plan.digest} (promoted after every check)`],
        ['Weight rule', rule],
      ];
      const server = cause instanceof ServerError ? cause : undefined;
      throw new Diagnosed(
        new ServerError(
          server?.server ?? 'promote',
          step,
          server?.address ?? '',
          `promotion of ${this.service} failed at ${step} after the deployment was promoted; run the promotion again to finish it`,
          { context },
        ),
        lines,
      );
    }
    const cleanup: ContextLine[] = [];
    let cleanupFailed: HashishipError | undefined;
    try {
      await kvUpdate(this.config.consul, weightKey(this.routing.service), () => null, { consul: this.consul, log: this.log });
      cleanup.push(['Weight rule', `removed (${weightKey(this.routing.service)})`]);
    } catch (e) {
      cleanupFailed ??= e instanceof HashishipError ? e : undefined;
      cleanup.push(['Weight rule', `NOT removed: ${(e as Error).message}`]);
    }
    let reverted = cause instanceof RevertedError;
    if (!reverted) {
      try {
        const ctx = await this.context();
        const d = await ctx.nomad.jobs.latestDeployment(this.service);
        if (d !== undefined && ActiveDeploymentStatuses.has(d.Status)) {
          const res = await ctx.nomad.deployments.fail(d.ID);
          cleanup.push([
            'Deployment',
            `${d.ID.slice(0, 8)} (version ${d.JobVersion}) marked failed${res.RevertedJobVersion == null ? '' : `; Nomad reverts to version ${res.RevertedJobVersion}`}`,
          ]);
          reverted = await this.waitRevert(ctx, d.ID);
        } else {
          cleanup.push(['Deployment', d === undefined ? 'none' : `${d.ID.slice(0, 8)} already ${d.Status}`]);
          reverted = true;
        }
      } catch (e) {
        cleanupFailed ??= e instanceof HashishipError ? e : undefined;
        cleanup.push(['Deployment', `NOT failed: ${(e as Error).message}`]);
      }
    }
    if (reverted && cleanupFailed === undefined) cleanup.push(['Traffic', await this.settledAfterRevert()]);
    const context: ContextLine[] = [['Step', step], ['Cause', cause.message], ...cause.context, ...cleanup];
    if (cleanupFailed !== undefined) {
      await this.save({ error: cause.message }).catch(() => undefined);
      throw new Diagnosed(
        new ServerError(
          cleanupFailed instanceof ServerError ? cleanupFailed.server : 'promote',
          'cleanup',
          cleanupFailed instanceof ServerError ? cleanupFailed.address : '',
          `promotion of ${this.service} failed at ${step} and the clean-up did not finish; run the promotion again to finish it`,
          { context },
        ),
        lines,
      );
    }
    await this.save({ status: 'failed', error: cause.message }).catch(() => undefined);
    throw new Diagnosed(
      reverted
        ? new RevertedError(`${this.service}: promotion of ${this.plan.digest} failed at ${step}; the weight rule was removed and Nomad rolled back`, {
            context,
          })
        : new GateError(`${this.service}: promotion of ${this.plan.digest} failed at ${step}; the weight rule was removed`, { context }),
      lines,
    );
  }

  /**
   * After a revert, wait (bounded) until the canary has left Consul and Fabio routes
   * only to the restored instances, so that exit 3 means production serves the
   * previous release. Best effort: what could not be confirmed is said, not thrown.
   */
  async settledAfterRevert(): Promise<string> {
    try {
      await waitSettled(this.config, this.target, { deadlineMs: 30_000, consul: this.consul });
    } catch (e) {
      return `not confirmed in Consul: ${(e as Error).message}`;
    }
    if (this.routing.tags.length === 0) return 'previous instances only (Consul)';
    const sources = this.routing.tags.map((t) => t.slice('urlprefix-'.length).split(/\s+/)[0]!);
    return waitForRoutes(this.opts.fabio, { service: this.routing.service, sources, targets: this.routing.count }, { deadlineMs: 15_000, log: this.log }).then(
      () => 'previous instances only (Consul and Fabio)',
      (e: Error) => `previous instances only in Consul; Fabio not confirmed: ${e.message}`,
    );
  }

  /** Wait (up to 60 s) until Nomad's revert deployment after `failedId` is successful. */
  async waitRevert(ctx: DeployContext, failedId: string): Promise<boolean> {
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      const d = await ctx.nomad.jobs.latestDeployment(this.service);
      if (d !== undefined && d.ID !== failedId && d.Status === 'successful') return true;
      if (d !== undefined && d.ID !== failedId && d.Status === 'failed') return false;
      const job = await ctx.nomad.jobs.get(this.service);
      if (d?.ID === failedId && job?.Stable === true && job.Version !== d.JobVersion) return true;
      await sleep(250);
    }
    return false;
  }
}
