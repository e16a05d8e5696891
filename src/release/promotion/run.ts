/**
 * The one loop of a promotion: from a state (new, or recorded by an interrupted
 * run), clean up and check what an earlier run left, then apply each step not yet
 * done, recording the progress after each, and recover from a failed one. It takes
 * its servers, clock and logger as {@link PromotionDeps}, holds nothing between
 * calls and returns the state it reached, so a long-running process (a release
 * agent) can drive promotions with it as the CLI does.
 */
import type { ReleaseRecord } from '../records.js';
import { cleanupAbandoned, recover, resumeDeployment, typed, type Failed } from './recover.js';
import { save, stepEvent, StepError, type PromotionDeps, type PromotionState } from './state.js';
import { stepOf } from './steps.js';

/** Options of {@link runPromotion}. */
export interface RunOptions {
  /** Stop after this step, as a crash would (tests and operators resuming later). */
  readonly stopAfter?: string;
}

/** How a run ended. `failed` carries the error to report: exit 3 when Nomad rolled back. */
export type PromotionEnd =
  | { readonly outcome: 'promoted'; readonly state: PromotionState; readonly record?: ReleaseRecord }
  | { readonly outcome: 'stopped'; readonly state: PromotionState; readonly step: string }
  | ({ readonly outcome: 'failed' } & Failed);

/**
 * Drive a promotion from `state` to its end. Typed failures are outcomes, never
 * thrown; the progress in Consul KV says where a re-run resumes.
 * @throws only what is not a typed error (a bug).
 */
export async function runPromotion(deps: PromotionDeps, state: PromotionState, opts: RunOptions = {}): Promise<PromotionEnd> {
  let s = state;
  try {
    s = await cleanupAbandoned(deps, s);
    s = await save(deps, s, { status: 'running' });
    s = await resumeDeployment(deps, s);
    for (const step of s.plan.steps) {
      if (s.progress.done.includes(step.name)) {
        stepEvent(deps, s, step.name, 'skip', 'done by an earlier run');
        continue;
      }
      stepEvent(deps, s, step.name, 'start', step.detail);
      try {
        s = await stepOf(step.name)(deps, s);
      } catch (err) {
        const at = err instanceof StepError ? err.state : s;
        return { outcome: 'failed', ...(await recover(deps, at, step.name, err instanceof StepError ? err.cause : err)) };
      }
      s = await save(deps, s, { done: [...s.progress.done, step.name] });
      stepEvent(deps, s, step.name, 'done');
      if (opts.stopAfter === step.name) return { outcome: 'stopped', state: s, step: step.name };
    }
    s = await save(deps, s, { status: 'done' });
    const record = await deps.consul.readRelease();
    return { outcome: 'promoted', state: s, ...(record === undefined ? {} : { record }) };
  } catch (err) {
    return { outcome: 'failed', state: s, ...typed(err) };
  }
}
