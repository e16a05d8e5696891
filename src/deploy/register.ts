/**
 * Registration: know what we own, keep what the autoscaler set, change nothing
 * when nothing changed, and register with the job modify index enforced so a
 * job changed since its plan is refused.
 */
import { GateError, ServerError } from '../errors.js';
import { OwnershipMeta } from '../nomad/job.js';
import {
  isEnforceIndexError,
  type JobGroupLike,
  type JobSpecLike,
  type Jobs,
  type LiveJob,
  type PlanResponse,
  type RegisterResponse,
  type ScaleStatus,
} from '../nomad/jobs.js';

/** Who owns the live job with the same ID. */
export type Ownership = { readonly status: 'absent' } | { readonly status: 'owned' } | { readonly status: 'foreign'; readonly detail: string };

/** A group whose live count is kept instead of the spec's. */
export interface PreservedCount {
  readonly group: string;
  /** The count that will be registered (the live one, clamped to the scaling bounds). */
  readonly count: number;
  /** The count the spec asks for. */
  readonly spec: number;
  readonly reason: string;
}

/**
 * Whether hashiship owns a live job for `environment`: its meta must carry
 * `hashiship_tool = hashiship` and `hashiship_environment = <environment>`.
 */
export function ownershipOf(live: LiveJob | undefined, environment: string): Ownership {
  if (live === undefined) return { status: 'absent' };
  const meta = live.Meta ?? {};
  const tool = meta[OwnershipMeta.tool];
  const env = meta[OwnershipMeta.environment];
  if (tool !== 'hashiship') return { status: 'foreign', detail: 'not stamped by hashiship (job meta hashiship_tool is unset)' };
  if (env !== environment) {
    return { status: 'foreign', detail: `stamped by hashiship for environment ${JSON.stringify(env ?? '')}, not ${JSON.stringify(environment)}` };
  }
  return { status: 'owned' };
}

/** The job with hashiship's ownership meta for `environment` set (other meta kept). */
export function stampOwnership<T extends JobSpecLike>(job: T, environment: string): T {
  return { ...job, Meta: { ...job.Meta, [OwnershipMeta.tool]: 'hashiship', [OwnershipMeta.environment]: environment } };
}

/**
 * Refuse to overwrite a job someone else owns.
 * @throws {GateError} (exit 6) when the live job is foreign and `force` is not set.
 */
export function checkOwnership(id: string, environment: string, ownership: Ownership, force: boolean): void {
  if (ownership.status !== 'foreign' || force) return;
  throw new GateError(`${id}: refusing to overwrite a job hashiship does not own in ${environment}`, {
    context: [
      ['Job', id],
      ['Owner', ownership.detail],
      ['Suggestion', 'rename the service, stop the other job, or pass --force-owner to take it over'],
    ],
  });
}

/**
 * Groups whose live count was set by scaling (the Nomad Autoscaler or
 * `nomad job scale`), not by a registration: the group has an enabled scaling
 * policy, or its latest scaling event set the count it runs now.
 */
export function scaledGroups(live: LiveJob | undefined, scale: ScaleStatus | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of live?.TaskGroups ?? []) {
    const events = (scale?.TaskGroups?.[g.Name]?.Events ?? []).filter((e) => typeof e.Count === 'number' && e.Error !== true);
    const latest = [...events].sort((a, b) => (b.Time ?? 0) - (a.Time ?? 0))[0];
    if (latest !== undefined && latest.Count === g.Count) {
      out.set(g.Name, `scaled to ${latest.Count}${latest.Message ? ` (${latest.Message})` : ''}`);
    } else if (g.Scaling?.Enabled === true) {
      out.set(g.Name, 'the group has an enabled scaling policy');
    }
  }
  return out;
}

function clamp(n: number, g: JobGroupLike): number {
  const min = g.Scaling?.Min ?? undefined;
  const max = g.Scaling?.Max ?? undefined;
  let v = n;
  if (typeof min === 'number' && v < min) v = min;
  if (typeof max === 'number' && max > 0 && v > max) v = max;
  return v;
}

/**
 * Keep the live count of groups the autoscaler scaled (see {@link scaledGroups}),
 * clamped to the new spec's scaling bounds, unless `reset` is set.
 */
export function preserveCounts<T extends JobSpecLike>(
  job: T,
  live: LiveJob | undefined,
  scaled: ReadonlyMap<string, string>,
  reset: boolean,
): { readonly job: T; readonly preserved: PreservedCount[] } {
  if (reset || live === undefined) return { job, preserved: [] };
  const preserved: PreservedCount[] = [];
  const groups = (job.TaskGroups ?? []).map((g) => {
    const reason = scaled.get(g.Name);
    const liveGroup = (live.TaskGroups ?? []).find((x) => x.Name === g.Name);
    const liveCount = liveGroup?.Count;
    const spec = g.Count ?? 1;
    if (reason === undefined || typeof liveCount !== 'number') return g;
    const count = clamp(liveCount, g);
    if (count === spec) return g;
    preserved.push({ group: g.Name, count, spec, reason });
    return { ...g, Count: count };
  });
  return { job: preserved.length === 0 ? job : { ...job, TaskGroups: groups }, preserved };
}

/** A job ready to plan and register, with what was read to prepare it. */
export interface PreparedJob<T extends JobSpecLike = JobSpecLike> {
  readonly source: string;
  /** The job to register: stamped, counts preserved. */
  readonly job: T;
  readonly live: LiveJob | undefined;
  readonly ownership: Ownership;
  readonly preserved: readonly PreservedCount[];
}

/** Options of {@link prepareJob}. */
export interface PrepareOptions {
  readonly environment: string;
  /** Register the spec's counts even where the autoscaler set others. @default false */
  readonly resetCounts?: boolean;
}

/**
 * Read the live job and its scaling, stamp ownership and keep scaled counts.
 * @throws {ServerError} when Nomad cannot be read.
 */
export async function prepareJob<T extends JobSpecLike>(
  jobs: Jobs,
  input: { readonly job: T; readonly source: string },
  opts: PrepareOptions,
): Promise<PreparedJob<T>> {
  const live = await jobs.get(input.job.ID);
  const scale = live === undefined ? undefined : await jobs.scaleStatus(input.job.ID);
  const stamped = stampOwnership(input.job, opts.environment);
  const { job, preserved } = preserveCounts(stamped, live, scaledGroups(live, scale), opts.resetCounts === true);
  return { source: input.source, job, live, ownership: ownershipOf(live, opts.environment), preserved };
}

/** Nomad's plan of a prepared job (diff, placement failures, modify index). */
export function planPrepared(jobs: Jobs, prepared: PreparedJob): Promise<PlanResponse> {
  return jobs.plan(prepared.job);
}

/**
 * Register with the job modify index enforced: Nomad refuses when the job
 * changed since `jobModifyIndex` was read (0: the job must not exist).
 * @throws {GateError} (exit 6) when the job changed since; {@link ServerError} for other refusals.
 */
export async function registerEnforced(jobs: Jobs, job: JobSpecLike, jobModifyIndex: number): Promise<RegisterResponse> {
  try {
    return await jobs.register(job, { enforceIndex: true, jobModifyIndex });
  } catch (err) {
    if (isEnforceIndexError(err)) {
      const reason = (err as ServerError).message.replace(/^.*?Enforcing job modify index/, 'Enforcing job modify index');
      throw new GateError(`${job.ID}: the job changed since it was planned; nothing was registered`, {
        cause: err,
        context: [
          ['Job', job.ID],
          ['Planned at', `job modify index ${jobModifyIndex}${jobModifyIndex === 0 ? ' (the job did not exist)' : ''}`],
          ['Nomad', reason],
          ['Suggestion', 'run hashiship plan again and review the new diff'],
        ],
      });
    }
    throw err;
  }
}
