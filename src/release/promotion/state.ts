/**
 * Where a promotion is, and what it may touch. {@link PromotionState} is a plain,
 * serialisable record: the planner's decision, the progress recorded in Consul KV
 * (`hashiship/promotions/<env>/<service>`, {@link PromotionProgress}) and what this
 * run observed. {@link PromotionDeps} is everything a step touches besides the state:
 * the servers of the target environment (one object per server), the clock and the
 * logger. servers.ts builds the real ones; a test passes its own.
 */
import type { HealthGateResult, ServiceInstance } from '../../consul/health.js';
import type { Logger } from '../../log.js';
import type { Deployment, DeploymentUpdateResponse } from '../../nomad/deployments.js';
import type { Clock } from '../../runtime.js';
import type { PromotionPlan, PromotionPolicy, PromotionProgress } from './plan.js';
import type { NewRecord, ReleaseRecord, SmokeEvidence } from '../records.js';

/** A plan that runs. */
export type RunPlan = Extract<PromotionPlan, { decision: 'run' }>;

/** What one weight step showed in Fabio. */
export interface ObservedWeight {
  readonly percent: number;
  /** Share of the route's traffic Fabio's /api/routes gave the canary targets. */
  readonly observed: number;
  readonly targets: number;
}

/** The spec's smoke requests sent through Fabio. */
export interface SmokeResult {
  readonly passed: boolean;
  readonly requests: readonly SmokeEvidence[];
}

/** Where a promotion of one service is: everything the steps read and write (JSON). */
export interface PromotionState {
  /** What the planner decided: the source release, the steps, an abandoned run to clean up. */
  readonly plan: RunPlan;
  readonly policy: PromotionPolicy;
  /** Deadline of each health gate (canaries passing, instances settled). */
  readonly healthDeadlineMs: number;
  /** The target environment's registry (where `copy` puts the images). */
  readonly registry?: string;
  /** As recorded in Consul KV after each step; `service`, `from`, `to`, `digest` name the promotion. */
  readonly progress: PromotionProgress;
  /** ModifyIndex of the progress key: the check-and-set of the next save (0: not recorded yet). */
  readonly progressIndex: number;
  /** Production was touched (a deployment registered): a failure from now on reverts. */
  readonly touched: boolean;
  /** What Fabio showed at each weight step of this run. */
  readonly weights: readonly ObservedWeight[];
  /** The smoke requests of this run (a resumed run's record step sends its own). */
  readonly smoke?: SmokeResult;
}

/** Nomad in the target environment, acting on the promoted service's job. */
export interface TargetNomad {
  /**
   * Register the job with the source's digests pinned and watch it until its canaries
   * wait for promotion (or, without canaries, until it is done).
   * @throws what the deploy engine throws (typed, with a diagnosis).
   */
  deploy(): Promise<{ readonly outcome: string; readonly deploymentId?: string }>;
  /** A deployment by ID; without one, the job's latest. */
  deployment(id?: string): Promise<Deployment | undefined>;
  /** Mark a deployment failed: Nomad reverts the job (auto_revert). */
  fail(id: string): Promise<DeploymentUpdateResponse>;
  /** The live job's version and stability. */
  job(): Promise<{ readonly Version: number; readonly Stable?: boolean } | undefined>;
  /**
   * Promote the job's canaries and watch the deployment to its end.
   * @throws `Diagnosed` when the deployment fails.
   */
  promote(): Promise<void>;
}

/** Everything a promotion step touches besides its state. Every call may throw a typed error. */
export interface PromotionDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly registry: {
    /**
     * Copy an image by digest (`registry/repository@digest` → `registry/repository:tag` or `@digest`).
     * @returns the digest of the copy.
     */
    copy(source: string, destination: string): Promise<string>;
  };
  /**
   * Nomad in the target environment. The first call reads the specs and pins the
   * source's digests (it writes nothing); later calls answer the same object.
   */
  nomad(): Promise<TargetNomad>;
  readonly consul: {
    /** Record the progress with check-and-set on `index`. @returns the new ModifyIndex. */
    saveProgress(progress: PromotionProgress, index: number): Promise<number>;
    /**
     * Wait until the target environment's instances pass every check: the canaries
     * (at least `canaries`) when `canaries > 0`, else every instance.
     * @throws {GateError} when the deadline passes.
     */
    waitHealthy(o: { readonly canaries: number; readonly deadlineMs: number; readonly quiet?: boolean }): Promise<HealthGateResult>;
    /** The service's instances, blocking until Consul's index passes `index` (at most `waitMs`). */
    instances(index: number, waitMs: number): Promise<{ readonly index: number; readonly instances: readonly ServiceInstance[] }>;
    /** Wait until only the target environment's new (or restored) instances remain, none a canary. */
    waitSettled(deadlineMs: number): Promise<void>;
    /** The Fabio weight rule's key (in messages). */
    readonly weightRule: string;
    /** Delete the weight rule (clean-up: does not wait for Fabio). */
    deleteWeightRule(): Promise<void>;
    /** The target environment's current release record. */
    readRelease(): Promise<ReleaseRecord | undefined>;
    writeRelease(record: NewRecord): Promise<ReleaseRecord>;
  };
  readonly fabio: {
    /** Give the canaries `percent` % of the traffic and wait until Fabio shows it. */
    applyWeight(
      percent: number,
      o: { readonly canaries: number; readonly deadlineMs: number },
    ): Promise<{ readonly modifyIndex: number; readonly routes: readonly { readonly weight: number; readonly tags: readonly string[] }[] }>;
    /** Remove the weight rule and wait until Fabio splits traffic evenly again. */
    removeWeight(): Promise<void>;
    /** Send the spec's smoke requests through Fabio's proxy. */
    smoke(o?: { readonly quiet?: boolean }): Promise<SmokeResult>;
    /**
     * Wait until Fabio routes only to the service's registered instances.
     * @returns `unrouted` when the service has no route to check.
     */
    routesSettled(deadlineMs: number): Promise<'confirmed' | 'unrouted'>;
  };
}

/** A step failed after it changed the state (e.g. production touched, a weight observed): the loop recovers from `state`. */
export class StepError extends Error {
  constructor(
    readonly state: PromotionState,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'StepError';
  }
}

/** Run `fn`; a failure is rethrown as a {@link StepError} carrying `state`. */
export async function failingAt<T>(state: PromotionState, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StepError(state, err);
  }
}

/** A new run's state, or the recorded one of the same digest to resume. */
export function initialState(o: {
  readonly plan: RunPlan;
  readonly from: string;
  readonly to: string;
  readonly policy: PromotionPolicy;
  readonly healthDeadlineMs: number;
  readonly registry?: string;
  readonly recorded?: PromotionProgress;
  readonly recordedIndex: number;
  readonly now: number;
}): PromotionState {
  const { plan, recorded } = o;
  const at = new Date(o.now).toISOString();
  const resumed = recorded !== undefined && recorded.digest === plan.digest && recorded.status === 'running';
  const progress: PromotionProgress = resumed
    ? recorded
    : {
        kind: 'hashiship.promotion',
        version: 1,
        service: plan.service,
        from: o.from,
        to: o.to,
        digest: plan.digest,
        ...(plan.source.build === undefined ? {} : { build: plan.source.build }),
        done: [],
        status: 'running',
        startedAt: at,
        updatedAt: at,
      };
  return {
    plan,
    policy: o.policy,
    healthDeadlineMs: o.healthDeadlineMs,
    ...(o.registry === undefined ? {} : { registry: o.registry }),
    progress,
    progressIndex: o.recordedIndex,
    touched: progress.done.includes('canary'),
    weights: [],
  };
}

/** Record a change of the progress (check-and-set on the state's index). */
export async function save(deps: PromotionDeps, state: PromotionState, change: Partial<PromotionProgress>): Promise<PromotionState> {
  const progress = { ...state.progress, ...change, updatedAt: new Date(deps.clock.now()).toISOString() };
  const progressIndex = await deps.consul.saveProgress(progress, state.progressIndex);
  return { ...state, progress, progressIndex };
}

/** The `promote.step` event. */
export function stepEvent(deps: PromotionDeps, state: PromotionState, step: string, status: 'start' | 'done' | 'skip' | 'fail', detail = ''): void {
  deps.log({ kind: 'promote.step', service: state.progress.service, step, status, detail });
}

/** Canaries of this promotion's deployment (a first deployment places none, whatever the spec says). */
export function canaryCount(state: PromotionState): number {
  return state.progress.canaries ?? 0;
}
