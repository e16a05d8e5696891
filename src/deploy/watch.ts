/**
 * Watching a registration to its outcome with Nomad blocking queries (never a
 * sleep loop): evaluation → deployment (bounded retry), then the deployment,
 * its allocations and the job's follow-up evaluations in parallel; canaries
 * promoted or reported ready; a failed deployment's auto-revert followed to its
 * end; jobs without a deployment (batch, system, no update block) followed
 * through their allocations. Every wait is bounded by a deadline and a
 * heartbeat event is emitted while nothing else is said.
 */
import { ServerError } from '../errors.js';
import type { AllocHealth, DeployEvent, Event } from '../log.js';
import type { AllocationStub } from '../nomad/allocations.js';
import { nextIndex } from '../nomad/blocking.js';
import { ActiveDeploymentStatuses, type Deployment, type DeploymentState } from '../nomad/deployments.js';
import { TerminalEvalStatuses, type Evaluation } from '../nomad/evaluations.js';
import type { JobSpecLike } from '../nomad/jobs.js';
import type { CheckTracker } from './checks.js';
import { causeOf } from './diagnose.js';
import type { DeployContext } from './runtime.js';

/**
 * When `deploy` stops waiting: `healthy` once every allocation of the new
 * version is healthy (canaries promoted), which decides the outcome — Nomad
 * marks the deployment successful on its next evaluation, about a second later;
 * `successful` waits for that mark too; `promotion-ready` stops when canaries
 * are healthy and wait for promotion.
 */
export type Until = 'healthy' | 'successful' | 'promotion-ready';

/** Options of a watch. */
export interface WatchOptions {
  /**
   * `healthy`: promote canaries once all are healthy (or wait for auto_promote)
   * and stop when every allocation of the new version is healthy; `successful`:
   * also wait for Nomad to mark the deployment successful; `promotion-ready`:
   * stop when canaries are healthy and wait for promotion. @default "healthy"
   */
  readonly until?: Until;
  /** Absolute deadline in the runtime's clock (ms). */
  readonly deadline: number;
  /** Heartbeat at least this often while waiting. @default 30000 */
  readonly heartbeatMs?: number;
  readonly signal?: AbortSignal;
  /** Follows Consul checks for the diagnosis. */
  readonly checks?: CheckTracker;
  /** How long to look for the deployment of a completed evaluation. @default 10000 */
  readonly deploymentLookupMs?: number;
  /** How long to look for the deployment of an auto-revert. @default 60000 */
  readonly revertLookupMs?: number;
}

/** How a watch ended. Failures are outcomes here; deploy.ts turns them into typed errors. */
export type WatchOutcome =
  | { readonly kind: 'successful'; readonly version?: number; readonly deployment?: Deployment }
  | { readonly kind: 'registered'; readonly detail: string }
  | { readonly kind: 'promotion-ready'; readonly deployment: Deployment }
  | { readonly kind: 'placement'; readonly evaluation: Evaluation; readonly deployment?: Deployment }
  | {
      readonly kind: 'failed';
      readonly reverted: boolean;
      readonly reason: string;
      readonly deployment?: Deployment;
      readonly revert?: Deployment;
      readonly allocations: readonly AllocationStub[];
      readonly notes: readonly string[];
    }
  | {
      readonly kind: 'timeout';
      readonly reason: string;
      readonly deployment?: Deployment;
      readonly allocations: readonly AllocationStub[];
    };

/** What was registered: the job, and Nomad's answer to the registration. */
export interface Registration {
  readonly job: JobSpecLike;
  /** Empty for periodic and parameterized jobs. */
  readonly evalId: string;
  readonly evalCreateIndex?: number;
  readonly jobModifyIndex: number;
}

const ROLLBACK = /rolling back to job version (\d+)/;

/** Sum of a numeric field over a deployment's groups. */
function sum(d: Deployment, f: (s: DeploymentState) => number | undefined): number {
  return Object.values(d.TaskGroups ?? {}).reduce((n, s) => n + (f(s) ?? 0), 0);
}

/** Groups that wait for canary promotion, and whether all their canaries are healthy. */
export function canaryState(d: Deployment): { readonly groups: string[]; readonly ready: boolean; readonly auto: boolean } {
  const groups = Object.entries(d.TaskGroups ?? {})
    .filter(([, s]) => (s.DesiredCanaries ?? 0) > 0 && s.Promoted !== true)
    .map(([g]) => g)
    .sort();
  const states = groups.map((g) => d.TaskGroups![g]!);
  const ready =
    groups.length > 0 && states.every((s) => (s.PlacedCanaries?.length ?? 0) >= (s.DesiredCanaries ?? 0) && (s.HealthyAllocs ?? 0) >= (s.DesiredCanaries ?? 0));
  return { groups, ready, auto: groups.length > 0 && states.every((s) => s.AutoPromote === true) };
}

/**
 * True when a running deployment's outcome is decided: every group has all its
 * allocations placed and healthy and no canaries wait for promotion. Healthy
 * counts only grow, so Nomad will mark it successful on its next evaluation.
 */
export function healthyComplete(d: Deployment): boolean {
  const groups = Object.values(d.TaskGroups ?? {});
  return (
    d.Status === 'running' &&
    groups.length > 0 &&
    groups.every(
      (s) =>
        ((s.DesiredCanaries ?? 0) === 0 || s.Promoted === true) &&
        (s.PlacedAllocs ?? 0) >= (s.DesiredTotal ?? 0) &&
        (s.HealthyAllocs ?? 0) >= (s.DesiredTotal ?? 0),
    )
  );
}

/** An allocation's state as one word. */
export function allocHealth(a: AllocationStub): AllocHealth {
  if (a.ClientStatus === 'failed') return 'failed';
  if (a.ClientStatus === 'lost') return 'lost';
  if (a.ClientStatus === 'complete') return a.DesiredStatus === 'run' ? 'complete' : 'stopped';
  if (a.DeploymentStatus?.Healthy === true) return 'healthy';
  if (a.DeploymentStatus?.Healthy === false) return 'unhealthy';
  if (a.ClientStatus === 'running') return 'running';
  return 'placed';
}

/** The group counts a job asks for, or undefined when the scheduler decides (system jobs). */
export function expectedAllocs(job: JobSpecLike): number | undefined {
  const type = job.Type ?? 'service';
  if (type === 'system' || type === 'sysbatch') return undefined;
  return (job.TaskGroups ?? []).reduce((n, g) => n + (g.Count ?? 1), 0);
}

/** Whether Nomad will create a deployment for a job (an update block with max_parallel > 0). */
export function expectsDeployment(job: JobSpecLike): boolean {
  const type = job.Type ?? 'service';
  if (type === 'batch' || type === 'sysbatch') return false;
  const jobLevel = (job.Update?.MaxParallel ?? 0) > 0;
  const groups = job.TaskGroups ?? [];
  return groups.some((g) => (g.Update?.MaxParallel ?? (jobLevel ? 1 : 0)) > 0);
}

class Stop {
  constructor(readonly value: unknown) {}
}

/** One job's watch: shared clock, deadline, heartbeat and event bookkeeping. */
class Watcher {
  readonly #started: number;
  #lastSaid: number;
  readonly #allocs = new Map<string, AllocHealth>();
  readonly #deployments = new Map<string, string>();
  readonly heartbeatMs: number;

  constructor(
    readonly ctx: DeployContext,
    readonly jobId: string,
    readonly opts: WatchOptions,
  ) {
    this.#started = ctx.runtime.now();
    this.#lastSaid = this.#started;
    this.heartbeatMs = opts.heartbeatMs ?? 30_000;
  }

  get now(): number {
    return this.ctx.runtime.now();
  }

  emit(e: DeployEvent | Event): void {
    this.#lastSaid = this.now;
    this.ctx.runtime.log(this.ctx.redactor.deep(e));
  }

  /** Say we are still waiting when nothing was said for a heartbeat interval. */
  heartbeat(what: string): void {
    const now = this.now;
    if (now - this.#lastSaid < this.heartbeatMs) return;
    this.emit({ kind: 'heartbeat', waitingFor: `${this.jobId}: ${what}`, seconds: (now - this.#started) / 1000 });
  }

  expired(): boolean {
    return this.now >= this.opts.deadline;
  }

  /** How long the next blocking query may wait: until the next heartbeat is due, never past the deadline. */
  waitMs(): number {
    const now = this.now;
    const untilBeat = this.heartbeatMs - (now - this.#lastSaid);
    return Math.max(50, Math.min(untilBeat, this.opts.deadline - now, this.heartbeatMs));
  }

  /** Retry transient errors (unreachable, 5xx) a few times with back-off; bounded. */
  async retry<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (signal?.aborted === true || this.opts.signal?.aborted === true) throw err;
        const transient = err instanceof ServerError && (err.status === undefined || err.status >= 500) && !err.message.endsWith('cancelled');
        if (!transient || attempt >= 4 || this.expired()) throw err;
        this.emit({ kind: 'debug', message: `retrying after: ${(err as Error).message}` });
        await this.ctx.runtime.sleep(250 * 2 ** attempt, signal ?? this.opts.signal);
      }
    }
  }

  /**
   * While an allocation runs without being healthy, read the check output from the
   * Consul agent: once the deployment fails the allocation (and its checks) go away.
   */
  async refreshChecks(allocs: readonly AllocationStub[]): Promise<void> {
    const checks = this.opts.checks;
    if (checks === undefined) return;
    const pending = allocs.some((a) => a.ClientStatus === 'running' && a.DesiredStatus === 'run' && a.DeploymentStatus?.Healthy !== true);
    if (pending) await checks.refreshLocal();
  }

  noteAlloc(a: AllocationStub): void {
    const health = allocHealth(a);
    if (this.#allocs.get(a.ID) === health) return;
    this.#allocs.set(a.ID, health);
    const detail = health === 'failed' || health === 'unhealthy' || health === 'lost' ? causeOf(a, this.opts.checks?.forAlloc(a.ID) ?? []).cause : undefined;
    this.emit({
      kind: 'deploy.alloc',
      job: this.jobId,
      allocId: a.ID,
      group: a.TaskGroup,
      version: a.JobVersion,
      health,
      canary: a.DeploymentStatus?.Canary === true,
      ...(a.NodeName === undefined || a.NodeName === '' ? {} : { node: a.NodeName }),
      ...(detail === undefined ? {} : { detail }),
    });
  }

  noteDeployment(d: Deployment): void {
    const healthy = sum(d, (s) => s.HealthyAllocs);
    const desired = sum(d, (s) => s.DesiredTotal);
    const canaries = sum(d, (s) => s.DesiredCanaries);
    const key = `${d.Status}|${d.StatusDescription}|${healthy}|${desired}|${canaries}|${sum(d, (s) => s.PlacedAllocs)}`;
    if (this.#deployments.get(d.ID) === key) return;
    this.#deployments.set(d.ID, key);
    this.emit({
      kind: 'deploy.deployment',
      job: this.jobId,
      deploymentId: d.ID,
      version: d.JobVersion,
      status: d.Status,
      description: d.StatusDescription,
      healthy,
      desired,
      canaries,
      ...(typeof d.ModifyTime === 'number' && d.ModifyTime > 0 ? { changedAt: d.ModifyTime / 1e6 } : {}),
    });
  }

  /** Block on an evaluation until it is complete, failed or cancelled (or the deadline). */
  async evaluation(evalId: string): Promise<Evaluation | undefined> {
    let index = 0;
    let status = '';
    for (;;) {
      const r = await this.retry(() => this.ctx.nomad.evaluations.get(evalId, { index, waitMs: this.waitMs(), ...this.#signal() }));
      const e = r.data;
      if (e.Status !== status) {
        status = e.Status;
        const failed = Object.keys(e.FailedTGAllocs ?? {});
        this.emit({
          kind: 'deploy.evaluation',
          job: this.jobId,
          evalId,
          status: e.Status,
          ...(failed.length > 0
            ? { detail: `could not place group${failed.length === 1 ? '' : 's'} ${failed.join(', ')}` }
            : e.StatusDescription
              ? { detail: e.StatusDescription }
              : {}),
        });
      }
      if (TerminalEvalStatuses.has(e.Status)) return e;
      if (this.expired()) return undefined;
      this.heartbeat(`evaluation ${evalId.slice(0, 8)} ${e.Status}`);
      index = nextIndex(index, r.index);
    }
  }

  #signal(signal?: AbortSignal): { signal?: AbortSignal } {
    const s = signal ?? this.opts.signal;
    return s === undefined ? {} : { signal: s };
  }

  /** Look for a deployment of the job for up to `boundMs`, with blocking queries on the job's deployments. */
  async findDeployment(match: (d: Deployment) => boolean, boundMs: number): Promise<Deployment | undefined> {
    const end = Math.min(this.now + boundMs, this.opts.deadline);
    let index = 0;
    for (;;) {
      const wait = Math.max(50, Math.min(end - this.now, this.waitMs()));
      const r = await this.retry(() => this.ctx.nomad.jobs.deployments(this.jobId, { index, waitMs: wait, ...this.#signal() }));
      const found = r.data.find(match);
      if (found !== undefined) return found;
      if (this.now >= end) return undefined;
      this.heartbeat('looking for the deployment');
      index = nextIndex(index, r.index);
    }
  }

  /**
   * Follow a deployment to its end: the deployment, its allocations and (when
   * `evalsFrom` is set) the job's follow-up evaluations, each with its own
   * blocking query. Promotes canaries for `until: healthy` unless auto_promote.
   */
  async followDeployment(
    first: Deployment,
    mode: { readonly until: Until; readonly evalsFrom?: number },
  ): Promise<
    | { readonly kind: 'ended'; readonly deployment: Deployment }
    | { readonly kind: 'healthy'; readonly deployment: Deployment }
    | { readonly kind: 'promotion-ready'; readonly deployment: Deployment }
    | { readonly kind: 'placement'; readonly evaluation: Evaluation; readonly deployment: Deployment }
    | { readonly kind: 'timeout'; readonly deployment: Deployment }
  > {
    const ac = new AbortController();
    const parent = this.opts.signal;
    const onAbort = () => ac.abort(parent?.reason);
    parent?.addEventListener('abort', onAbort, { once: true });
    let latest = first;
    const id = first.ID;
    const loop = async (body: () => Promise<void>): Promise<never> => {
      for (;;) {
        try {
          await body();
        } catch (err) {
          if (err instanceof Stop) throw err;
          if (ac.signal.aborted) return new Promise<never>(() => {});
          throw err;
        }
      }
    };
    let allocIndex = 0;
    const allocs = loop(async () => {
      const r = await this.retry(() => this.ctx.nomad.deployments.allocations(id, { index: allocIndex, waitMs: this.waitMs(), signal: ac.signal }), ac.signal);
      await this.refreshChecks(r.data);
      for (const a of r.data) this.noteAlloc(a);
      allocIndex = nextIndex(allocIndex, r.index);
    });
    let evalIndex = 0;
    const evals =
      mode.evalsFrom === undefined
        ? new Promise<never>(() => {})
        : loop(async () => {
            const r = await this.retry(
              () => this.ctx.nomad.jobs.evaluations(this.jobId, { index: evalIndex, waitMs: this.waitMs(), signal: ac.signal }),
              ac.signal,
            );
            const failed = r.data
              .filter((e) => e.CreateIndex !== undefined && e.CreateIndex >= (mode.evalsFrom ?? 0))
              .filter((e) => Object.keys(e.FailedTGAllocs ?? {}).length > 0)
              .sort((a, b) => (b.CreateIndex ?? 0) - (a.CreateIndex ?? 0))[0];
            if (failed !== undefined) {
              this.emit({
                kind: 'deploy.evaluation',
                job: this.jobId,
                evalId: failed.ID,
                status: failed.Status,
                detail: `could not place group${Object.keys(failed.FailedTGAllocs ?? {}).length === 1 ? '' : 's'} ${Object.keys(failed.FailedTGAllocs ?? {}).join(', ')}`,
              });
              throw new Stop({ kind: 'placement', evaluation: failed, deployment: latest });
            }
            evalIndex = nextIndex(evalIndex, r.index);
          });
    let depIndex = 0;
    let promotedAt = -1;
    const deployment = loop(async () => {
      const r = await this.retry(() => this.ctx.nomad.deployments.get(id, { index: depIndex, waitMs: this.waitMs(), signal: ac.signal }), ac.signal);
      const d = r.data;
      latest = d;
      this.noteDeployment(d);
      if (!ActiveDeploymentStatuses.has(d.Status)) {
        // The failed allocations and their checks go away soon: read the check output now.
        if (d.Status === 'failed') await this.opts.checks?.refreshLocal();
        throw new Stop({ kind: 'ended', deployment: d });
      }
      if (mode.until !== 'successful' && healthyComplete(d)) throw new Stop({ kind: 'healthy', deployment: d });
      const canary = canaryState(d);
      if (canary.ready && !canary.auto) {
        if (mode.until === 'promotion-ready') throw new Stop({ kind: 'promotion-ready', deployment: d });
        if (promotedAt !== d.ModifyIndex) {
          promotedAt = d.ModifyIndex;
          this.emit({ kind: 'deploy.promote', job: this.jobId, deploymentId: d.ID, groups: canary.groups });
          try {
            await this.ctx.nomad.deployments.promote(d.ID);
          } catch (err) {
            // A promotion can race the deployment's own state (a canary turning unhealthy); the next change retries.
            if (!(err instanceof ServerError) || err.status === undefined) throw err;
            this.emit({ kind: 'debug', message: `promotion refused: ${err.message}` });
          }
        }
      }
      if (this.expired()) throw new Stop({ kind: 'timeout', deployment: d });
      this.heartbeat(`deployment ${d.ID.slice(0, 8)} ${d.Status}: ${sum(d, (s) => s.HealthyAllocs)}/${sum(d, (s) => s.DesiredTotal)} healthy`);
      depIndex = nextIndex(depIndex, r.index);
    });
    for (const p of [deployment, allocs, evals]) p.catch(() => {});
    try {
      await Promise.race([deployment, allocs, evals]);
      throw new Error('unreachable');
    } catch (err) {
      if (err instanceof Stop) return err.value as never;
      throw err;
    } finally {
      ac.abort();
      parent?.removeEventListener('abort', onAbort);
      await Promise.race([Promise.allSettled([deployment, allocs, evals]), Promise.resolve()]);
    }
  }

  /** Follow the allocations of a job version that has no deployment until they run (or complete). */
  async followAllocations(job: JobSpecLike, version: number): Promise<WatchOutcome> {
    const type = job.Type ?? 'service';
    const batch = type === 'batch' || type === 'sysbatch';
    const expected = expectedAllocs(job);
    let index = 0;
    for (;;) {
      const r = await this.retry(() => this.ctx.nomad.allocations.ofJob(this.jobId, { index, waitMs: this.waitMs(), ...this.#signal() }));
      const mine = r.data.filter((a) => a.JobVersion === version);
      for (const a of mine) this.noteAlloc(a);
      const final = mine.filter((a) => (a.ClientStatus === 'failed' || a.ClientStatus === 'lost') && !a.NextAllocation && !a.FollowupEvalID);
      if (final.length > 0) {
        return {
          kind: 'failed',
          reverted: false,
          reason: `${final.length} allocation${final.length === 1 ? '' : 's'} of version ${version} failed and will not be rescheduled`,
          allocations: final,
          notes: [],
        };
      }
      if (batch) {
        const complete = mine.filter((a) => a.ClientStatus === 'complete').length;
        const done = expected === undefined ? mine.length > 0 && complete === mine.length : complete >= expected;
        if (done) return { kind: 'successful', version };
      } else {
        const wanted = mine.filter((a) => a.DesiredStatus === 'run');
        const running = wanted.filter((a) => a.ClientStatus === 'running').length;
        const done = expected === undefined ? wanted.length > 0 && running === wanted.length : running >= expected;
        if (done) return { kind: 'successful', version };
      }
      if (this.expired()) {
        return { kind: 'timeout', reason: `allocations of version ${version} did not ${batch ? 'complete' : 'run'} by the deadline`, allocations: mine };
      }
      this.heartbeat(`allocations of version ${version}`);
      index = nextIndex(index, r.index);
    }
  }

  /** A failed deployment: follow Nomad's auto-revert, if any, to its end. */
  async afterFailure(d: Deployment): Promise<WatchOutcome> {
    const allocations = (await this.retry(() => this.ctx.nomad.deployments.allocations(d.ID))).data;
    const m = ROLLBACK.exec(d.StatusDescription);
    if (d.Status !== 'failed' || m === null) {
      return { kind: 'failed', reverted: false, reason: `deployment ${d.Status}: ${d.StatusDescription}`, deployment: d, allocations, notes: [] };
    }
    const toVersion = Number(m[1]);
    this.emit({ kind: 'deploy.revert', job: this.jobId, fromVersion: d.JobVersion, toVersion });
    const revert = await this.findDeployment((x) => x.JobVersion > d.JobVersion, this.opts.revertLookupMs ?? 60_000);
    if (revert === undefined) {
      const live = await this.ctx.nomad.jobs.get(this.jobId);
      const registered = live !== undefined && live.Version > d.JobVersion;
      return {
        kind: 'failed',
        reverted: registered,
        reason: `deployment failed: ${d.StatusDescription}`,
        deployment: d,
        allocations,
        notes: [
          registered
            ? `Reverted: Nomad registered version ${live.Version} (the spec of version ${toVersion}); it has no deployment to follow`
            : `Not reverted: no revert appeared within ${((this.opts.revertLookupMs ?? 60_000) / 1000).toFixed(0)} s`,
        ],
      };
    }
    const r = await this.followDeployment(revert, { until: 'healthy' });
    const end = r.deployment;
    const reverted = (r.kind === 'ended' && end.Status === 'successful') || r.kind === 'healthy';
    return {
      kind: 'failed',
      reverted,
      reason: `deployment failed: ${d.StatusDescription}`,
      deployment: d,
      revert: end,
      allocations,
      notes: [
        reverted
          ? `Reverted: version ${end.JobVersion} (the spec of version ${toVersion}) is running; revert deployment ${end.ID.slice(0, 8)} ${r.kind === 'healthy' ? 'healthy' : 'successful'}`
          : `Not reverted: revert deployment ${end.ID.slice(0, 8)} (version ${end.JobVersion}) ${r.kind === 'timeout' ? 'still running at the deadline' : `${end.Status}: ${end.StatusDescription}`}`,
      ],
    };
  }

  /** Turn the end of the main deployment into an outcome. */
  async ended(r: Awaited<ReturnType<Watcher['followDeployment']>>): Promise<WatchOutcome> {
    switch (r.kind) {
      case 'promotion-ready':
        return { kind: 'promotion-ready', deployment: r.deployment };
      case 'healthy':
        // The deployment's count can arrive before the allocations query sees the same
        // change: read them once more so every allocation's health is reported.
        for (const a of (await this.ctx.nomad.deployments.allocations(r.deployment.ID)).data) this.noteAlloc(a);
        return { kind: 'successful', version: r.deployment.JobVersion, deployment: r.deployment };
      case 'placement':
        return { kind: 'placement', evaluation: r.evaluation, deployment: r.deployment };
      case 'timeout':
        return {
          kind: 'timeout',
          reason: `deployment ${r.deployment.ID.slice(0, 8)} still ${r.deployment.Status} at the deadline: ${r.deployment.StatusDescription}`,
          deployment: r.deployment,
          allocations: (await this.ctx.nomad.deployments.allocations(r.deployment.ID)).data,
        };
      case 'ended':
        if (r.deployment.Status === 'successful') return { kind: 'successful', version: r.deployment.JobVersion, deployment: r.deployment };
        return this.afterFailure(r.deployment);
    }
  }
}

/**
 * Watch a registration to its outcome: the evaluation, then the deployment it
 * created (found with a bounded retry) or, without one, the job's allocations.
 * @throws {ServerError} when Nomad cannot be reached (after bounded retries).
 */
export async function watchRegistration(ctx: DeployContext, reg: Registration, opts: WatchOptions): Promise<WatchOutcome> {
  const jobId = reg.job.ID;
  const w = new Watcher(ctx, jobId, opts);
  const until = opts.until ?? 'healthy';
  if (reg.evalId === '') {
    const what = reg.job.Periodic?.Enabled === true ? 'periodic' : reg.job.ParameterizedJob ? 'parameterized' : 'not scheduled';
    return { kind: 'registered', detail: `${what} job registered; it runs when ${what === 'periodic' ? 'its schedule fires' : 'dispatched'}` };
  }
  const evaluation = await w.evaluation(reg.evalId);
  if (evaluation === undefined) return { kind: 'timeout', reason: `evaluation ${reg.evalId.slice(0, 8)} not complete by the deadline`, allocations: [] };
  const live = await ctx.nomad.jobs.get(jobId);
  const version = live?.Version ?? 0;
  const matches = (d: Deployment) =>
    d.JobSpecModifyIndex !== undefined && d.JobSpecModifyIndex > 0 ? d.JobSpecModifyIndex === reg.jobModifyIndex : d.JobVersion === version;
  if (Object.keys(evaluation.FailedTGAllocs ?? {}).length > 0) {
    // The deployment (if any) is already in the state: one read, no wait.
    const deployment = await w.findDeployment(matches, 0);
    return { kind: 'placement', evaluation, ...(deployment === undefined ? {} : { deployment }) };
  }
  if (evaluation.Status !== 'complete') {
    return { kind: 'failed', reverted: false, reason: `evaluation ${evaluation.Status}: ${evaluation.StatusDescription ?? ''}`, allocations: [], notes: [] };
  }
  const lookup = expectsDeployment(reg.job) ? (opts.deploymentLookupMs ?? 10_000) : 0;
  const deployment = await w.findDeployment(matches, lookup);
  if (deployment === undefined) return w.followAllocations(reg.job, version);
  const r = await w.followDeployment(deployment, { until, evalsFrom: reg.evalCreateIndex ?? deployment.CreateIndex });
  return w.ended(r);
}

/**
 * Watch an existing deployment (e.g. after `promote-canaries`) to its outcome,
 * following an auto-revert like {@link watchRegistration}.
 */
export async function watchDeployment(ctx: DeployContext, deployment: Deployment, opts: WatchOptions): Promise<WatchOutcome> {
  const w = new Watcher(ctx, deployment.JobID, opts);
  const r = await w.followDeployment(deployment, { until: opts.until ?? 'healthy', evalsFrom: deployment.CreateIndex });
  return w.ended(r);
}

/**
 * Before registering a new version: let a deployment whose outcome is decided
 * (all healthy, see {@link healthyComplete}) receive Nomad's successful mark,
 * so that its version becomes stable (the target of a later auto-revert) rather
 * than cancelled by the new one. Bounded by `boundMs`; blocking queries only.
 */
export async function settleDecided(ctx: DeployContext, jobId: string, boundMs = 10_000): Promise<void> {
  const latest = await ctx.nomad.jobs.latestDeployment(jobId);
  if (latest === undefined || !healthyComplete(latest)) return;
  const end = ctx.runtime.now() + boundMs;
  let index = 0;
  for (;;) {
    const r = await ctx.nomad.deployments.get(latest.ID, { index, waitMs: Math.max(50, end - ctx.runtime.now()) });
    if (!ActiveDeploymentStatuses.has(r.data.Status) || ctx.runtime.now() >= end) return;
    index = nextIndex(index, r.index);
  }
}
