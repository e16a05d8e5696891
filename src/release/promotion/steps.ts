/**
 * The steps of a promotion, one function each: `(deps, state) → state`, or a typed
 * error (a {@link StepError} when the step changed the state before it failed).
 * The names are the ones the planner lists and the progress records: `copy`,
 * `canary`, `gate`, `smoke`, `weight:<percent>`, `promote`, `unweight`, `record`.
 * A step never records that it is done and never cleans up: run.ts and recover.ts do.
 */
import { describeFailures, selectInstances } from '../../consul/health.js';
import { GateError, InputError } from '../../errors.js';
import { CanaryTag } from '../../fabio/weights.js';
import { EnvironmentMeta, healthEvidence } from '../evidence.js';
import { canaryCount, failingAt, save, stepEvent, type PromotionDeps, type PromotionState, type TargetNomad } from './state.js';

/** One step. */
export type Step = (deps: PromotionDeps, state: PromotionState) => Promise<PromotionState>;

/** Copy every image of the source release to the target registry, by digest, verified. */
export async function copy(deps: PromotionDeps, s: PromotionState): Promise<PromotionState> {
  const registry = s.registry;
  if (registry === undefined) throw new InputError([{ subject: `${s.progress.to}: registry`, message: 'the target environment names no registry' }]);
  for (const img of s.plan.source.images) {
    const tag = img.tag ?? s.plan.source.build;
    const digest = await deps.registry.copy(
      `${img.registry}/${img.repository}@${img.digest}`,
      `${registry}/${img.repository}${tag === undefined ? `@${img.digest}` : `:${tag}`}`,
    );
    if (digest !== img.digest) throw new GateError(`${img.repository}: the copy in ${registry} has digest ${digest}, not ${img.digest}`);
  }
  return s;
}

/** Record the deployment to follow: `id`, or the job's latest (registered by an earlier run). */
async function recordDeployment(deps: PromotionDeps, s: PromotionState, nomad: TargetNomad, id: string | undefined): Promise<PromotionState> {
  const d = await nomad.deployment(id);
  const canaries = Object.values(d?.TaskGroups ?? {}).reduce((n, g) => n + (g.DesiredCanaries ?? 0), 0);
  return save(deps, s, { canaries, ...(d === undefined ? {} : { deploymentId: d.ID, jobVersion: d.JobVersion }) });
}

/** Deploy the canaries with the digest pinned. Production counts as touched from the registration on. */
export async function canary(deps: PromotionDeps, s: PromotionState): Promise<PromotionState> {
  const nomad = await deps.nomad();
  const touched: PromotionState = { ...s, touched: true };
  return failingAt(touched, async () => {
    const r = await nomad.deploy();
    // Unchanged: registered by an earlier run, whose deployment is the one to finish.
    return recordDeployment(deps, touched, nomad, r.outcome === 'unchanged' ? undefined : r.deploymentId);
  });
}

/** Wait until every canary instance (every instance without canaries) passes its Consul checks. */
export async function gate(deps: PromotionDeps, s: PromotionState): Promise<PromotionState> {
  await deps.consul.waitHealthy({ canaries: canaryCount(s), deadlineMs: s.healthDeadlineMs });
  return s;
}

/** Send the spec's smoke requests through Fabio; any failed request fails the step. */
export async function smoke(deps: PromotionDeps, s: PromotionState): Promise<PromotionState> {
  const r = await deps.fabio.smoke();
  if (!r.passed) {
    throw new GateError(`${s.progress.service}: smoke tests failed in ${s.progress.to}`, {
      context: r.requests
        .filter((q) => !q.ok)
        .slice(0, 5)
        .map((q) => [`Smoke ${q.name}`, `${q.url}: ${q.detail}`] as const),
    });
  }
  return { ...s, smoke: r };
}

/** Hold the current weight for `ms`, failing as soon as a canary instance stops passing. */
export async function hold(deps: PromotionDeps, s: PromotionState, ms: number): Promise<void> {
  const { clock } = deps;
  const end = clock.now() + ms;
  let index = 0;
  const sel = { service: s.progress.service, version: s.progress.to, versionMetaKey: EnvironmentMeta, tags: [CanaryTag] };
  while (clock.now() < end) {
    const r = await deps.consul.instances(index, Math.max(1, end - clock.now()));
    index = r.index;
    const selected = selectInstances(r.instances, sel);
    const bad = selected.filter((i) => !i.passing);
    if (selected.length === 0 || bad.length > 0) {
      throw new GateError(`consul: ${s.progress.service}: canary health failed during the hold`, {
        context: selected.length === 0 ? [['Instances', 'no canary instance registered']] : describeFailures(bad),
      });
    }
  }
}

/** `weight:<percent>`: give the canaries that share of the traffic, observe it in Fabio, hold it with health re-checked. */
export function weight(percent: number): Step {
  return async (deps, s) => {
    if (canaryCount(s) === 0) {
      stepEvent(deps, s, `weight:${percent}`, 'skip', `${s.progress.to} deploys without canaries`);
      return s;
    }
    const r = await deps.fabio.applyWeight(percent, { canaries: canaryCount(s), deadlineMs: s.healthDeadlineMs });
    const canaries = r.routes.filter((x) => x.tags.includes(CanaryTag));
    const observed = Math.round(canaries.reduce((sum, x) => sum + x.weight, 0) * 10_000) / 10_000;
    const weighted: PromotionState = { ...s, weights: [...s.weights, { percent, observed, targets: r.routes.length }] };
    deps.log({ kind: 'promote.weight', service: s.progress.service, percent, observed, holdMs: s.policy.holdMs });
    return failingAt(weighted, async () => {
      const saved = await save(deps, weighted, { weightIndex: r.modifyIndex });
      await hold(deps, saved, s.policy.holdMs);
      return saved;
    });
  };
}

/** Promote the deployment (100 %) and wait until only the new instances remain. */
export async function promote(deps: PromotionDeps, s: PromotionState): Promise<PromotionState> {
  const nomad = await deps.nomad();
  await nomad.promote();
  // Only the new instances remain (the old ones leave after their shutdown delay).
  await deps.consul.waitSettled(s.healthDeadlineMs);
  return s;
}

/** Remove the Fabio weight rule. */
export async function unweight(deps: PromotionDeps, s: PromotionState): Promise<PromotionState> {
  if (canaryCount(s) === 0) return s;
  await deps.fabio.removeWeight();
  return s;
}

/** Write the target environment's release record: the source's images and evidence of what runs now. */
export async function record(deps: PromotionDeps, s: PromotionState): Promise<PromotionState> {
  const nomad = await deps.nomad();
  const current = await deps.consul.readRelease();
  if (current?.digest === s.plan.digest && current.via === 'promote') return s; // written by the run that crashed after it
  const live = await nomad.job();
  // The health of what runs now (every instance, after the promotion), not the canary gate's.
  const health = await deps.consul.waitHealthy({ canaries: 0, deadlineMs: s.healthDeadlineMs, quiet: true });
  // After a resume the smoke step of this run may not have happened: run it now.
  const smokeResult = s.smoke ?? (await deps.fabio.smoke({ quiet: true }));
  const src = s.plan.source;
  const { service, from, to } = s.progress;
  const rec = await deps.consul.writeRelease({
    service,
    environment: to,
    images: src.images.map((i) => ({ ...i, registry: s.registry ?? i.registry })),
    digest: src.digest,
    jobVersion: live?.Version ?? s.progress.jobVersion ?? 0,
    ...(src.build === undefined ? {} : { build: src.build }),
    ...(src.commit === undefined ? {} : { commit: src.commit }),
    time: new Date(deps.clock.now()).toISOString(),
    health: healthEvidence(health, deps.clock.now()),
    smoke: { passed: smokeResult.passed, requests: [...smokeResult.requests] },
    via: 'promote',
    promotedFrom: { environment: from, seq: src.seq, ...(src.build === undefined ? {} : { build: src.build }) },
  });
  deps.log({ kind: 'promote.record', service, environment: to, seq: rec.seq, digest: rec.digest, written: true });
  return s;
}

const named: Readonly<Record<string, Step>> = { copy, canary, gate, smoke, promote, unweight, record };

/**
 * The function of a step name.
 * @throws {Error} for a name the planner never gives (a bug).
 */
export function stepOf(name: string): Step {
  const w = /^weight:(\d+)$/.exec(name);
  if (w !== null) return weight(Number(w[1]));
  const step = named[name];
  if (step === undefined) throw new Error(`promote: unknown step ${name}`);
  return step;
}
