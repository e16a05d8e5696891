/**
 * The promotion planner (pure): from the source environment's release record,
 * the target's current record, the recorded progress of an earlier run and the
 * policy, decide whether to promote, refuse or do nothing, and list the steps.
 * Nothing here reads a server; flow.ts reads, calls this, then applies.
 */
import type { ContextLine } from '../../errors.js';
import type { ReleaseRecord } from '../records.js';

/** The KV prefix of promotion progress. */
export const PromotionsPrefix = 'hashiship/promotions';

/** The progress key of a service's promotion into an environment. */
export function progressKey(environment: string, service: string): string {
  return `${PromotionsPrefix}/${environment}/${service}`;
}

/** What a promotion into an environment demands (environment file `promotion:`, then flags). */
export interface PromotionPolicy {
  /** `--approve` is required. @default false */
  readonly requireApproval: boolean;
  /** The source release must be at least this old. @default 0 */
  readonly minSoakMs: number;
  /** Canary traffic steps in percent, increasing, ending with 100 (= promote). @default [10, 50, 100] */
  readonly steps: readonly number[];
  /** How long each weight step is held with health re-checked. @default 30000 */
  readonly holdMs: number;
}

export const DefaultPolicy: PromotionPolicy = { requireApproval: false, minSoakMs: 0, steps: [10, 50, 100], holdMs: 30_000 };

/** A promotion's progress as recorded in KV after each step. */
export interface PromotionProgress {
  readonly kind: 'hashiship.promotion';
  readonly version: 1;
  readonly service: string;
  readonly from: string;
  readonly to: string;
  readonly digest: string;
  readonly build?: string;
  /** Steps finished, in order. */
  readonly done: readonly string[];
  readonly status: 'running' | 'done' | 'failed';
  readonly deploymentId?: string;
  readonly jobVersion?: number;
  /** Canaries the deployment placed (0 for a first deployment: no weight steps). */
  readonly canaries?: number;
  /** ModifyIndex of the weight key after the last weight step (the CAS of the next). */
  readonly weightIndex?: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly error?: string;
}

/** One step of a plan. */
export interface PlannedStep {
  /** Recorded in the progress: `copy`, `canary`, `gate`, `smoke`, `weight:10`, `promote`, `unweight`, `record`. */
  readonly name: string;
  readonly detail: string;
}

/** Everything the planner looks at. */
export interface PlanInput {
  readonly service: string;
  readonly from: string;
  readonly to: string;
  /** The source environment's current release. */
  readonly source?: ReleaseRecord;
  /** The target environment's current release. */
  readonly target?: ReleaseRecord;
  /** The progress recorded by an earlier run. */
  readonly progress?: PromotionProgress;
  /** Only promote this build (`--build`). */
  readonly build?: string;
  readonly approve: boolean;
  readonly policy: PromotionPolicy;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/** The planner's decision. */
export type PromotionPlan =
  | { readonly decision: 'nothing'; readonly service: string; readonly digest: string; readonly reason: string }
  | { readonly decision: 'refuse'; readonly service: string; readonly reason: string; readonly context: readonly ContextLine[] }
  | {
      readonly decision: 'run';
      readonly service: string;
      readonly digest: string;
      readonly source: ReleaseRecord;
      readonly steps: readonly PlannedStep[];
      /** Steps an earlier run finished (skipped now). */
      readonly resumed: readonly string[];
      /** An unfinished promotion of another digest whose leftovers are cleaned first. */
      readonly abandoned?: PromotionProgress;
    };

/**
 * Check a step list: integers in 1..100, strictly increasing, ending with 100.
 * @returns the problem, or undefined.
 */
export function checkSteps(steps: readonly number[]): string | undefined {
  if (steps.length === 0) return 'give at least one step (e.g. 10,50,100)';
  for (const [i, s] of steps.entries()) {
    if (!Number.isInteger(s) || s < 1 || s > 100) return `step ${JSON.stringify(s)} is not a whole percentage from 1 to 100`;
    if (i > 0 && s <= steps[i - 1]!) return 'steps must increase';
  }
  if (steps[steps.length - 1] !== 100) return 'the last step must be 100 (the promotion)';
  return undefined;
}

const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

function durationText(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.ceil(s / 60);
  return m < 120 ? `${m} min` : `${(m / 60).toFixed(1)} h`;
}

/** The steps of a promotion of `source` into `to`. */
export function promotionSteps(input: Pick<PlanInput, 'to' | 'policy'>, source: ReleaseRecord): PlannedStep[] {
  const images = source.images.map((i) => `${i.repository}@${short(i.digest)}`).join(', ');
  const steps: PlannedStep[] = [
    { name: 'copy', detail: `copy ${images} to ${input.to}'s registry by digest (verified)` },
    { name: 'canary', detail: `deploy canaries in ${input.to} with the digest pinned` },
    { name: 'gate', detail: 'wait until every canary instance passes its Consul checks' },
    { name: 'smoke', detail: "run the spec's smoke requests through Fabio" },
  ];
  const hold = durationText(input.policy.holdMs);
  for (const p of input.policy.steps) {
    if (p < 100) steps.push({ name: `weight:${p}`, detail: `send ${p} % of the traffic to the canaries, hold ${hold} with health re-checked` });
  }
  steps.push(
    { name: 'promote', detail: 'promote the deployment (100 %) and wait until it is healthy' },
    { name: 'unweight', detail: 'remove the Fabio weight rule' },
    { name: 'record', detail: `write the release record of ${input.to}` },
  );
  return steps;
}

/** Decide what a promotion of one service does. Pure. */
export function planPromotion(input: PlanInput): PromotionPlan {
  const { service, from, to, source, target, progress } = input;
  const refuse = (reason: string, context: ContextLine[] = []): PromotionPlan => ({ decision: 'refuse', service, reason, context });
  if (source === undefined) {
    return refuse(`no release of ${service} in ${from}: nothing has passed ${from} yet`, [
      ['Suggestion', `deploy it to ${from} first (hashiship deploy --env ${from} ${service} --image ${service}=<tag> --build <n>)`],
    ]);
  }
  const evidence: ContextLine[] = [
    [`${from} release`, `#${source.seq} ${source.digest}${source.build === undefined ? '' : ` (build ${source.build})`} at ${source.time}`],
  ];
  if (input.build !== undefined && source.build !== input.build) {
    return refuse(
      `build ${input.build} of ${service} has no evidence in ${from}: its current release is ${source.build === undefined ? 'of no build' : `build ${source.build}`}`,
      [...evidence, ['Suggestion', `deploy build ${input.build} to ${from} and let it pass there first`]],
    );
  }
  if (!source.smoke.passed || source.health.total === 0 || source.health.passing < source.health.total) {
    return refuse(
      `${service}'s release in ${from} did not pass: health ${source.health.passing}/${source.health.total}, smoke ${source.smoke.passed ? 'passed' : 'failed'}`,
      evidence,
    );
  }
  const age = input.now - Date.parse(source.time);
  if (age < input.policy.minSoakMs) {
    return refuse(`${service}'s release in ${from} has soaked ${durationText(Math.max(0, age))}; ${to} requires ${durationText(input.policy.minSoakMs)}`, [
      ...evidence,
      ['Eligible in', durationText(input.policy.minSoakMs - age)],
    ]);
  }
  if (input.policy.requireApproval && !input.approve) {
    return refuse(`${to} requires manual approval to promote ${service}`, [...evidence, ['Suggestion', 'review the release, then run again with --approve']]);
  }
  const sameDigest = progress?.digest === source.digest;
  if (target?.digest === source.digest && (progress === undefined || !sameDigest || progress.status !== 'running')) {
    return {
      decision: 'nothing',
      service,
      digest: source.digest,
      reason: `${to} already runs ${source.digest} (release #${target.seq}${target.build === undefined ? '' : `, build ${target.build}`})`,
    };
  }
  const steps = promotionSteps(input, source);
  const resumed = sameDigest && progress.status === 'running' ? progress.done.filter((d) => steps.some((s) => s.name === d)) : [];
  const abandoned = progress !== undefined && progress.status === 'running' && !sameDigest ? progress : undefined;
  return {
    decision: 'run',
    service,
    digest: source.digest,
    source,
    steps,
    resumed,
    ...(abandoned === undefined ? {} : { abandoned }),
  };
}

/** The plan as lines for people. */
export function formatPlan(plan: PromotionPlan, from: string, to: string): string[] {
  switch (plan.decision) {
    case 'nothing':
      return [`${plan.service}: nothing to do: ${plan.reason}`];
    case 'refuse':
      return [`${plan.service}: refused: ${plan.reason}`, ...plan.context.map(([k, v]) => `  ${k}: ${v}`)];
    case 'run': {
      const lines = [`${plan.service}: promote ${plan.digest}${plan.source.build === undefined ? '' : ` (build ${plan.source.build})`} from ${from} to ${to}`];
      if (plan.abandoned !== undefined) lines.push(`  0. clean up the unfinished promotion of ${plan.abandoned.digest} (weight rule removed)`);
      plan.steps.forEach((s, i) => lines.push(`  ${i + 1}. ${s.detail}${plan.resumed.includes(s.name) ? '  [done by an earlier run]' : ''}`));
      return lines;
    }
  }
}
