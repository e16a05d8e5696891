/**
 * `promote`: for each service, read (source and target release records, recorded
 * progress), plan (plan.ts, pure), take the service's lock in the target
 * environment, then run the promotion (run.ts: the steps of steps.ts in order,
 * progress recorded in `hashiship/promotions/<env>/<service>` after each, so a
 * re-run resumes where a crashed one stopped; recover.ts cleans up and reverts:
 * any failure once production was touched removes the weight rule first, fails
 * the deployment so Nomad reverts (auto_revert), and ends with exit 3 and the
 * diagnosis). This file only reads, plans, locks and reports.
 */
import type { Clients } from '../../clients.js';
import type { HashishipConfig } from '../../config/index.js';
import type { Consul } from '../../consul/index.js';
import { ExitCode, GateError, HashishipError, InputError, worstExitCode } from '../../errors.js';
import type { HttpApi } from '../../http.js';
import { silent, type Logger } from '../../log.js';
import { realClock, type Clock } from '../../runtime.js';
import { parseDuration } from '../../service-spec/duration.js';
import type { ResolvedService } from '../../service-spec/overlay.js';
import { resolvedServices, type SpecDirs } from '../image.js';
import { acquireLock } from '../lock.js';
import { checkSteps, DefaultPolicy, formatPlan, planPromotion, progressKey, type PromotionPlan, type PromotionPolicy, type PromotionProgress } from './plan.js';
import { readRelease, releasedServices, type ReleaseRecord } from '../records.js';
import { runPromotion } from './run.js';
import { serverDeps } from './servers.js';
import { initialState, type ObservedWeight } from './state.js';

export type { ObservedWeight } from './state.js';

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
  /** The run's clients (Consul, Nomad, the registries to copy between), built once by the caller. */
  readonly clients: Clients;
  readonly log?: Logger;
  /** Time and waiting. @default realClock */
  readonly clock?: Clock;
  /** Stop after this step (tests simulate a crash). */
  readonly stopAfter?: string;
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

async function readProgress(consul: Consul, to: string, service: string): Promise<{ progress?: PromotionProgress; index: number }> {
  const e = await consul.kv.get(progressKey(to, service));
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
  const { clients } = opts;
  const targets = await resolvedServices(opts.to, opts.names, opts.dirs);
  let chosen = targets;
  if (opts.names.length === 0) {
    const released = new Set(await releasedServices(clients.consul, opts.from));
    chosen = targets.filter((t) => released.has(t.spec.name));
  }
  const results: ServicePromotion[] = [];
  for (const target of chosen) results.push(await promoteService(config, clients, target, opts));
  const codes = results.map((r) => r.exitCode).filter((c) => c !== ExitCode.ok);
  return { from: opts.from, to: opts.to, results, exitCode: worstExitCode(codes) };
}

/** Plan one service's promotion (reads only). */
export async function planService(
  consul: Consul,
  target: ResolvedService,
  opts: PromoteOptions,
): Promise<{ plan: PromotionPlan; progress?: PromotionProgress; progressIndex: number; policy: PromotionPolicy; current?: ReleaseRecord }> {
  const service = target.spec.name;
  const policy = policyOf(target, opts);
  const [source, current, prog] = await Promise.all([
    readRelease(consul, opts.from, service),
    readRelease(consul, opts.to, service),
    readProgress(consul, opts.to, service),
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
    now: (opts.clock ?? realClock).now(),
  });
  return {
    plan,
    ...(prog.progress === undefined ? {} : { progress: prog.progress }),
    progressIndex: prog.index,
    policy,
    ...(current === undefined ? {} : { current: current.record }),
  };
}

async function promoteService(config: HashishipConfig, clients: Clients, target: ResolvedService, opts: PromoteOptions): Promise<ServicePromotion> {
  const { consul } = clients;
  const clock = opts.clock ?? realClock;
  const started = clock.now();
  const service = target.spec.name;
  const log = opts.log ?? silent;
  const base = { service, weights: [] as ObservedWeight[], diagnosis: [] as string[] };
  const done = (
    r: Omit<ServicePromotion, 'seconds' | 'service' | 'weights' | 'diagnosis'> & Partial<Pick<ServicePromotion, 'weights' | 'diagnosis'>>,
  ): ServicePromotion => ({
    ...base,
    ...r,
    seconds: (clock.now() - started) / 1000,
  });
  let planned: Awaited<ReturnType<typeof planService>>;
  try {
    planned = await planService(consul, target, opts);
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
    lock = await acquireLock(consul, {
      environment: opts.to,
      service,
      holder: { what: `promotion of ${service} from ${opts.from}`, ...(planned.plan.source.build === undefined ? {} : { build: planned.plan.source.build }) },
      waitMs: opts.lockWaitMs ?? 0,
      clock,
    });
  } catch (err) {
    if (!(err instanceof HashishipError)) throw err;
    return done({ outcome: 'refused', exitCode: err.exitCode, message: err.message, plan: lines, error: err });
  }
  log({ kind: 'promote.lock', service, environment: opts.to, action: 'acquired' });
  try {
    // Another run may have finished while we waited for the lock: plan again under it.
    planned = await planService(consul, target, opts);
    const plan = planned.plan;
    const lines2 = formatPlan(plan, opts.from, opts.to);
    if (plan.decision === 'nothing') return done({ outcome: 'nothing', exitCode: ExitCode.ok, message: plan.reason, plan: lines2, digest: plan.digest });
    if (plan.decision === 'refuse') {
      const error = new GateError(`${service}: ${plan.reason}`, { context: plan.context });
      return done({ outcome: 'refused', exitCode: ExitCode.gate, message: error.message, plan: lines2, error });
    }
    const state = initialState({
      plan,
      from: opts.from,
      to: opts.to,
      policy: planned.policy,
      healthDeadlineMs: opts.healthDeadlineMs ?? 60_000,
      ...(target.environment?.registry === undefined ? {} : { registry: target.environment.registry }),
      ...(planned.progress === undefined ? {} : { recorded: planned.progress }),
      recordedIndex: planned.progressIndex,
      now: clock.now(),
    });
    const deps = serverDeps(config, clients, target, {
      to: opts.to,
      ...(opts.dirs === undefined ? {} : { dirs: opts.dirs }),
      pinned: Object.fromEntries(plan.source.images.map((i) => [i.repository, i.digest])),
      force: opts.force === true,
      fabio: opts.fabio,
      ...(opts.proxy === undefined ? {} : { proxy: opts.proxy }),
      clock,
      log,
    });
    const end = await runPromotion(deps, state, opts.stopAfter === undefined ? {} : { stopAfter: opts.stopAfter });
    const weights = [...end.state.weights];
    switch (end.outcome) {
      case 'stopped':
        return done({ outcome: 'stopped', exitCode: ExitCode.ok, message: `stopped after ${end.step} (as asked)`, digest: plan.digest, plan: lines2, weights });
      case 'promoted':
        return done({
          outcome: 'promoted',
          exitCode: ExitCode.ok,
          message: `${plan.digest} promoted to ${opts.to}${end.record === undefined ? '' : ` (release #${end.record.seq})`}`,
          digest: plan.digest,
          ...(end.record === undefined ? {} : { record: end.record }),
          plan: lines2,
          weights,
        });
      case 'failed':
        return done({
          outcome: end.error.exitCode === ExitCode.reverted ? 'reverted' : 'failed',
          exitCode: end.error.exitCode,
          message: end.error.message,
          plan: lines2,
          digest: plan.digest,
          error: end.error,
          weights,
          diagnosis: [...end.diagnosis],
        });
    }
  } finally {
    await lock.release();
    log({ kind: 'promote.lock', service, environment: opts.to, action: 'released' });
  }
}
