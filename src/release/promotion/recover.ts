/**
 * Recovery: what a promotion does besides its steps. Before the steps, clean up an
 * abandoned promotion of another digest and check that a resumed run's deployment
 * is still the one to follow. After a failed step, clean up and revert: remove the
 * weight rule first, fail the deployment so Nomad reverts (auto_revert), wait for
 * the revert, and end with the error that says what production serves now.
 */
import { Diagnosed } from '../../deploy/deploy.js';
import { GateError, HashishipError, RevertedError, ServerError, type ContextLine } from '../../errors.js';
import { ActiveDeploymentStatuses } from '../../nomad/deployments.js';
import { save, stepEvent, type PromotionDeps, type PromotionState, type TargetNomad } from './state.js';

/** How long a failed promotion waits for Nomad's revert deployment. */
export const RevertDeadlineMs = 60_000;
/** How long it waits, after a revert, for Consul and then Fabio to show only the restored instances. */
export const SettleDeadlineMs = 30_000;
export const RoutesDeadlineMs = 15_000;

/** A promotion that ended in failure: the error (with its diagnosis) and the state it left. */
export interface Failed {
  readonly state: PromotionState;
  readonly error: HashishipError;
  readonly diagnosis: readonly string[];
}

/**
 * The typed error of a failure.
 * @throws `err` itself when it is not typed (a bug: never turned into an outcome).
 */
export function typed(err: unknown): { readonly error: HashishipError; readonly diagnosis: readonly string[] } {
  if (err instanceof Diagnosed) return { error: err.error, diagnosis: err.lines };
  if (err instanceof HashishipError) return { error: err, diagnosis: [] };
  throw err;
}

/** An unfinished promotion of another digest: remove its weight rule before this one starts. */
export async function cleanupAbandoned(deps: PromotionDeps, s: PromotionState): Promise<PromotionState> {
  if (s.plan.abandoned === undefined) return s;
  stepEvent(deps, s, 'cleanup', 'start', `unfinished promotion of ${s.plan.abandoned.digest}`);
  await deps.consul.deleteWeightRule();
  stepEvent(deps, s, 'cleanup', 'done', 'weight rule removed');
  return s;
}

/**
 * A resumed run trusts its recorded deployment only while Nomad still runs it
 * (or finished it successfully); a deployment that failed or was cancelled
 * since (a revert, a newer registration) means deploying the canary again:
 * the weight rule goes, and only `copy` stays done.
 */
export async function resumeDeployment(deps: PromotionDeps, s: PromotionState): Promise<PromotionState> {
  const id = s.progress.deploymentId;
  if (!s.progress.done.includes('canary') || id === undefined) return s;
  const nomad = await deps.nomad();
  const d = await nomad.deployment(id).catch(() => undefined);
  if (d !== undefined && (ActiveDeploymentStatuses.has(d.Status) || d.Status === 'successful')) return s;
  stepEvent(deps, s, 'resume', 'start', `deployment ${id.slice(0, 8)} is ${d?.Status ?? 'gone'}: deploying the canaries again`);
  await deps.consul.deleteWeightRule();
  const keep = s.progress.done.filter((x) => x === 'copy');
  const { deploymentId: _d, weightIndex: _w, ...rest } = s.progress;
  const next = await save(deps, { ...s, progress: { ...rest, done: keep }, touched: false }, { done: keep });
  stepEvent(deps, next, 'resume', 'done');
  return next;
}

/** Wait (bounded) until Nomad's revert deployment after `failedId` is successful. */
export async function waitRevert(deps: PromotionDeps, nomad: TargetNomad, failedId: string): Promise<boolean> {
  const end = deps.clock.now() + RevertDeadlineMs;
  while (deps.clock.now() < end) {
    const d = await nomad.deployment();
    if (d !== undefined && d.ID !== failedId && d.Status === 'successful') return true;
    if (d !== undefined && d.ID !== failedId && d.Status === 'failed') return false;
    const job = await nomad.job();
    if (d?.ID === failedId && job?.Stable === true && job.Version !== d.JobVersion) return true;
    await deps.clock.sleep(250);
  }
  return false;
}

/**
 * After a revert, wait (bounded) until the canary has left Consul and Fabio routes
 * only to the restored instances, so that exit 3 means production serves the
 * previous release. Best effort: what could not be confirmed is said, not thrown.
 */
export async function settledAfterRevert(deps: PromotionDeps): Promise<string> {
  try {
    await deps.consul.waitSettled(SettleDeadlineMs);
  } catch (e) {
    return `not confirmed in Consul: ${(e as Error).message}`;
  }
  return deps.fabio.routesSettled(RoutesDeadlineMs).then(
    (r) => (r === 'unrouted' ? 'previous instances only (Consul)' : 'previous instances only (Consul and Fabio)'),
    (e: Error) => `previous instances only in Consul; Fabio not confirmed: ${e.message}`,
  );
}

/** Fail the deployment of this promotion so Nomad reverts; the lines say what happened. */
async function revert(deps: PromotionDeps, cleanup: ContextLine[]): Promise<boolean> {
  const nomad = await deps.nomad();
  const d = await nomad.deployment();
  if (d === undefined || !ActiveDeploymentStatuses.has(d.Status)) {
    cleanup.push(['Deployment', d === undefined ? 'none' : `${d.ID.slice(0, 8)} already ${d.Status}`]);
    return true;
  }
  const res = await nomad.fail(d.ID);
  cleanup.push([
    'Deployment',
    `${d.ID.slice(0, 8)} (version ${d.JobVersion}) marked failed${res.RevertedJobVersion == null ? '' : `; Nomad reverts to version ${res.RevertedJobVersion}`}`,
  ]);
  return waitRevert(deps, nomad, d.ID);
}

/**
 * A step failed. Before production was touched (copy): its error as is. After:
 * remove the weight rule first, fail the deployment so Nomad reverts, and end
 * with exit 3 carrying the cause — or exit 2 when the clean-up itself failed
 * (the progress stays `running`, so a re-run cleans up and retries). Once the
 * deployment is promoted nothing is reverted: a re-run finishes the steps.
 * @throws `err` when it is not typed (a bug).
 */
export async function recover(deps: PromotionDeps, s: PromotionState, step: string, err: unknown): Promise<Failed> {
  const { error: cause, diagnosis } = typed(err);
  const { service } = s.progress;
  const digest = s.plan.digest;
  stepEvent(deps, s, step, 'fail', cause.message);
  if (!s.touched) {
    // Production untouched (the copy failed): nothing to clean up; the run is over.
    const saved = await save(deps, s, { status: 'failed', error: cause.message }).catch(() => s);
    return { state: saved, error: cause, diagnosis };
  }
  if (step === 'record') return { state: s, error: cause, diagnosis };
  if (s.progress.done.includes('promote')) {
    // The deployment is promoted: production runs this release, which passed every check,
    // so there is nothing to revert (failing it would not roll back; calling it reverted
    // would be false). The progress stays running: a re-run finishes the remaining steps.
    const key = deps.consul.weightRule;
    const rule = await deps.consul.deleteWeightRule().then(
      () => `removed (${key})`,
      (e: Error) => `NOT removed (${key}): ${e.message}`,
    );
    const context: ContextLine[] = [
      ['Step', step],
      ['Cause', cause.message],
      ...cause.context,
      ['Production', `runs ${digest} (promoted after every check)`],
      ['Weight rule', rule],
    ];
    const server = cause instanceof ServerError ? cause : undefined;
    const error = new ServerError(
      server?.server ?? 'promote',
      step,
      server?.address ?? '',
      `promotion of ${service} failed at ${step} after the deployment was promoted; run the promotion again to finish it`,
      { context },
    );
    return { state: s, error, diagnosis };
  }
  const cleanup: ContextLine[] = [];
  let cleanupFailed: HashishipError | undefined;
  try {
    await deps.consul.deleteWeightRule();
    cleanup.push(['Weight rule', `removed (${deps.consul.weightRule})`]);
  } catch (e) {
    cleanupFailed ??= e instanceof HashishipError ? e : undefined;
    cleanup.push(['Weight rule', `NOT removed: ${(e as Error).message}`]);
  }
  let reverted = cause instanceof RevertedError;
  if (!reverted) {
    try {
      reverted = await revert(deps, cleanup);
    } catch (e) {
      cleanupFailed ??= e instanceof HashishipError ? e : undefined;
      cleanup.push(['Deployment', `NOT failed: ${(e as Error).message}`]);
    }
  }
  if (reverted && cleanupFailed === undefined) cleanup.push(['Traffic', await settledAfterRevert(deps)]);
  const context: ContextLine[] = [['Step', step], ['Cause', cause.message], ...cause.context, ...cleanup];
  if (cleanupFailed !== undefined) {
    const saved = await save(deps, s, { error: cause.message }).catch(() => s);
    const error = new ServerError(
      cleanupFailed instanceof ServerError ? cleanupFailed.server : 'promote',
      'cleanup',
      cleanupFailed instanceof ServerError ? cleanupFailed.address : '',
      `promotion of ${service} failed at ${step} and the clean-up did not finish; run the promotion again to finish it`,
      { context },
    );
    return { state: saved, error, diagnosis };
  }
  const saved = await save(deps, s, { status: 'failed', error: cause.message }).catch(() => s);
  const error = reverted
    ? new RevertedError(`${service}: promotion of ${digest} failed at ${step}; the weight rule was removed and Nomad rolled back`, { context })
    : new GateError(`${service}: promotion of ${digest} failed at ${step}; the weight rule was removed`, { context });
  return { state: saved, error, diagnosis };
}
