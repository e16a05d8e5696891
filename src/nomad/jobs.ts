/**
 * Nomad jobs (`/v1/jobs`, `/v1/job/…`): read, plan with diff, register with the
 * modify index enforced, stop, parse HCL, and the job's deployments and scaling.
 */
import { ServerError } from '../errors.js';
import { blockingGet, type Blocking, type BlockingOptions } from './blocking.js';
import type { NomadClient } from './client.js';
import type { Deployment } from './deployments.js';
import type { AllocMetric, Evaluation } from './evaluations.js';

/** A task as hashiship reads it from any job JSON (rendered, parsed or live). */
export interface JobTaskLike {
  readonly Name: string;
  readonly Driver?: string;
  readonly Config?: Readonly<Record<string, unknown>> | null;
  readonly Services?: readonly { readonly Name?: string; readonly Provider?: string }[] | null;
}

/** A task group as hashiship reads it from any job JSON. */
export interface JobGroupLike {
  readonly Name: string;
  readonly Count?: number | null;
  readonly Update?: {
    readonly MaxParallel?: number | null;
    readonly Canary?: number | null;
    readonly AutoRevert?: boolean | null;
    readonly AutoPromote?: boolean | null;
    readonly ProgressDeadline?: number | null;
    readonly HealthyDeadline?: number | null;
  } | null;
  readonly Scaling?: { readonly Min?: number | null; readonly Max?: number | null; readonly Enabled?: boolean | null } | null;
  readonly Services?: readonly { readonly Name?: string; readonly Provider?: string }[] | null;
  readonly Tasks?: readonly JobTaskLike[] | null;
}

/**
 * A job as submitted (API JSON: rendered by hashiship, or parsed from HCL).
 * Only the fields hashiship reads are typed; every other field passes through.
 */
export interface JobSpecLike {
  readonly ID: string;
  readonly Name?: string;
  readonly Namespace?: string | null;
  /** service, batch, system, sysbatch. */
  readonly Type?: string | null;
  readonly Meta?: Readonly<Record<string, string>> | null;
  readonly Update?: JobGroupLike['Update'];
  readonly Periodic?: { readonly Enabled?: boolean | null } | null;
  readonly ParameterizedJob?: unknown;
  readonly TaskGroups?: readonly JobGroupLike[] | null;
}

/** A job as Nomad stores it. */
export interface LiveJob extends JobSpecLike {
  readonly Version: number;
  readonly Status?: string;
  readonly Stop?: boolean;
  readonly Stable?: boolean;
  readonly JobModifyIndex: number;
  readonly ModifyIndex: number;
  readonly CreateIndex: number;
  /** Unix nanoseconds. */
  readonly SubmitTime?: number;
}

/** An entry of `GET /v1/jobs` (with `meta=true`). */
export interface JobStub {
  readonly ID: string;
  readonly Name: string;
  readonly Namespace?: string;
  readonly Type: string;
  readonly Status: string;
  readonly Stop?: boolean;
  readonly Periodic?: boolean;
  readonly ParameterizedJob?: boolean;
  readonly ParentID?: string;
  readonly JobModifyIndex: number;
  readonly ModifyIndex: number;
  readonly Meta?: Readonly<Record<string, string>> | null;
}

/** One field of a plan diff (structs.FieldDiff). */
export interface FieldDiff {
  /** None, Added, Deleted, Edited. */
  readonly Type: string;
  readonly Name: string;
  readonly Old: string;
  readonly New: string;
  readonly Annotations?: readonly string[] | null;
}

/** A nested object of a plan diff (structs.ObjectDiff). */
export interface ObjectDiff {
  readonly Type: string;
  readonly Name: string;
  readonly Fields?: readonly FieldDiff[] | null;
  readonly Objects?: readonly ObjectDiff[] | null;
}

/** A task's diff (structs.TaskDiff). */
export interface TaskDiff {
  readonly Type: string;
  readonly Name: string;
  readonly Fields?: readonly FieldDiff[] | null;
  readonly Objects?: readonly ObjectDiff[] | null;
  readonly Annotations?: readonly string[] | null;
}

/** A task group's diff with the scheduler's planned updates (structs.TaskGroupDiff). */
export interface TaskGroupDiff {
  readonly Type: string;
  readonly Name: string;
  readonly Fields?: readonly FieldDiff[] | null;
  readonly Objects?: readonly ObjectDiff[] | null;
  readonly Tasks?: readonly TaskDiff[] | null;
  /** e.g. `{"create/destroy update": 2, "ignore": 1, "canary": 1}`. */
  readonly Updates?: Readonly<Record<string, number>> | null;
}

/** A job's diff (structs.JobDiff). */
export interface JobDiff {
  readonly Type: string;
  readonly ID: string;
  readonly Fields?: readonly FieldDiff[] | null;
  readonly Objects?: readonly ObjectDiff[] | null;
  readonly TaskGroups?: readonly TaskGroupDiff[] | null;
}

/** `PUT /v1/job/:id/plan` (structs.JobPlanResponse). */
export interface PlanResponse {
  readonly Diff?: JobDiff | null;
  readonly FailedTGAllocs?: Readonly<Record<string, AllocMetric>> | null;
  /** The job's current JobModifyIndex; 0 when the job does not exist. */
  readonly JobModifyIndex: number;
  readonly CreatedEvals?: readonly Evaluation[] | null;
  readonly NextPeriodicLaunch?: string;
  readonly Warnings?: string;
  readonly Annotations?: {
    readonly DesiredTGUpdates?: Readonly<Record<string, Readonly<Record<string, number>>>> | null;
  } | null;
}

/** `PUT /v1/jobs` (structs.JobRegisterResponse). */
export interface RegisterResponse {
  /** Empty for periodic and parameterized jobs, which create no evaluation. */
  readonly EvalID: string;
  readonly EvalCreateIndex: number;
  readonly JobModifyIndex: number;
  readonly Warnings?: string;
  readonly Index?: number;
}

/** `GET /v1/job/:id/scale` (api.JobScaleStatusResponse). */
export interface ScaleStatus {
  readonly JobID: string;
  readonly JobModifyIndex?: number;
  readonly TaskGroups?: Readonly<
    Record<
      string,
      {
        readonly Desired?: number;
        readonly Placed?: number;
        readonly Running?: number;
        readonly Healthy?: number;
        readonly Unhealthy?: number;
        readonly Events?:
          | readonly {
              readonly Count?: number | null;
              readonly PreviousCount?: number;
              readonly Message?: string;
              readonly Error?: boolean;
              readonly Meta?: Readonly<Record<string, unknown>> | null;
              /** Unix nanoseconds. */
              readonly Time?: number;
            }[]
          | null;
      }
    >
  > | null;
}

/** Job summary counts per group (`GET /v1/job/:id/summary`). */
export interface JobSummary {
  readonly Summary?: Readonly<
    Record<
      string,
      {
        readonly Queued: number;
        readonly Complete: number;
        readonly Failed: number;
        readonly Running: number;
        readonly Starting: number;
        readonly Lost: number;
        readonly Unknown?: number;
      }
    >
  > | null;
}

/** Options of {@link Jobs.register}. */
export interface RegisterOptions {
  /**
   * Enforce the job's modify index: the registration fails unless the job's
   * current JobModifyIndex equals `jobModifyIndex` (0: the job must not exist).
   */
  readonly enforceIndex?: boolean;
  readonly jobModifyIndex?: number;
  /** Keep the live group counts instead of the submitted ones. @default false */
  readonly preserveCounts?: boolean;
}

/** The prefix Nomad puts on a refused enforced-index registration. */
export const EnforceIndexErrorPrefix = 'Enforcing job modify index';

/** True when a registration failed because the job changed since its index was read. */
export function isEnforceIndexError(err: unknown): boolean {
  return err instanceof ServerError && err.message.includes(EnforceIndexErrorPrefix);
}

/**
 * `/v1/jobs` and `/v1/job/…`, one method per operation, in the namespace of
 * the client (`new Jobs(client.in(job.Namespace))` for a job's own).
 */
export class Jobs {
  constructor(readonly client: NomadClient) {}

  /** `GET /v1/job/:id`; undefined when there is no such job. */
  async get(id: string): Promise<LiveJob | undefined> {
    requireId('jobs.get', id);
    const res = await this.client.request<LiveJob>('jobs.get', { path: `/v1/job/${encodeURIComponent(id)}`, accept: [404] });
    return res.status === 404 ? undefined : res.data;
  }

  /**
   * `GET /v1/jobs?meta=true`, optionally by ID prefix; in the client's namespace,
   * or in `opts.namespace` (`*`: every namespace the token may read; each stub names its own).
   */
  async list(opts: { readonly prefix?: string; readonly namespace?: string } = {}): Promise<JobStub[]> {
    return (
      await this.client.request<JobStub[]>('jobs.list', {
        path: '/v1/jobs',
        params: { meta: true, ...(opts.prefix === undefined ? {} : { prefix: opts.prefix }) },
        ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
      })
    ).data;
  }

  /**
   * `PUT /v1/job/:id/plan` with `Diff: true`: what registering `job` would change,
   * without changing anything.
   */
  async plan(job: JobSpecLike): Promise<PlanResponse> {
    requireId('jobs.plan', job.ID);
    return (
      await this.client.request<PlanResponse>('jobs.plan', {
        method: 'PUT',
        path: `/v1/job/${encodeURIComponent(job.ID)}/plan`,
        data: { Job: job, Diff: true },
      })
    ).data;
  }

  /**
   * `PUT /v1/jobs`: register (create or update) a job.
   * @throws {ServerError} when Nomad refuses; {@link isEnforceIndexError} tells a stale index.
   */
  async register(job: JobSpecLike, opts: RegisterOptions = {}): Promise<RegisterResponse> {
    requireId('jobs.register', job.ID);
    return (
      await this.client.request<RegisterResponse>('jobs.register', {
        method: 'PUT',
        path: '/v1/jobs',
        data: {
          Job: job,
          EnforceIndex: opts.enforceIndex ?? false,
          JobModifyIndex: opts.jobModifyIndex ?? 0,
          PreserveCounts: opts.preserveCounts ?? false,
        },
      })
    ).data;
  }

  /** `DELETE /v1/job/:id`: stop a job (and with `purge`, forget it). */
  async deregister(id: string, opts: { readonly purge?: boolean } = {}): Promise<{ readonly EvalID: string }> {
    requireId('jobs.deregister', id);
    return (
      await this.client.request<{ EvalID: string }>('jobs.deregister', {
        method: 'DELETE',
        path: `/v1/job/${encodeURIComponent(id)}`,
        params: opts.purge === true ? { purge: true } : {},
      })
    ).data;
  }

  /**
   * `POST /v1/jobs/parse`: HCL2 job text → API JSON, canonicalized unless
   * `canonicalize` is false (then fields the text leaves out stay unset).
   */
  async parse(hcl: string, variables?: string, opts: { readonly canonicalize?: boolean } = {}): Promise<LiveJob> {
    return (
      await this.client.request<LiveJob>('jobs.parse', {
        method: 'POST',
        path: '/v1/jobs/parse',
        data: { JobHCL: hcl, Canonicalize: opts.canonicalize ?? true, ...(variables === undefined ? {} : { Variables: variables }) },
      })
    ).data;
  }

  /** `GET /v1/job/:id/scale`: counts and scaling events per group; undefined when there is no such job. */
  async scaleStatus(id: string): Promise<ScaleStatus | undefined> {
    requireId('jobs.scaleStatus', id);
    const res = await this.client.request<ScaleStatus>('jobs.scaleStatus', {
      path: `/v1/job/${encodeURIComponent(id)}/scale`,
      accept: [404],
    });
    return res.status === 404 ? undefined : res.data;
  }

  /**
   * `POST /v1/job/:id/scale`: set a group's count as the Nomad Autoscaler and
   * `nomad job scale` do (a new job version plus a scaling event).
   */
  async scale(id: string, group: string, count: number, message: string): Promise<RegisterResponse> {
    requireId('jobs.scale', id);
    if (group === '' || !Number.isInteger(count) || count < 0) throw new TypeError('jobs.scale: a group and a count ≥ 0 are required');
    return (
      await this.client.request<RegisterResponse>('jobs.scale', {
        method: 'POST',
        path: `/v1/job/${encodeURIComponent(id)}/scale`,
        data: { Count: count, Target: { Group: group }, Message: message },
      })
    ).data;
  }

  /** `GET /v1/job/:id/summary`; undefined when there is no such job. */
  async summary(id: string): Promise<JobSummary | undefined> {
    requireId('jobs.summary', id);
    const res = await this.client.request<JobSummary>('jobs.summary', {
      path: `/v1/job/${encodeURIComponent(id)}/summary`,
      accept: [404],
    });
    return res.status === 404 ? undefined : res.data;
  }

  /** `GET /v1/job/:id/deployments`, newest first; blocking when `opts.index` is set. */
  deployments(id: string, opts: BlockingOptions = {}): Promise<Blocking<Deployment[]>> {
    requireId('jobs.deployments', id);
    return blockingGet<Deployment[]>(this.client, 'jobs.deployments', `/v1/job/${encodeURIComponent(id)}/deployments`, opts);
  }

  /** `GET /v1/job/:id/deployment`: the latest deployment, or undefined. */
  async latestDeployment(id: string): Promise<Deployment | undefined> {
    requireId('jobs.latestDeployment', id);
    const res = await this.client.request<Deployment | null>('jobs.latestDeployment', {
      path: `/v1/job/${encodeURIComponent(id)}/deployment`,
    });
    return res.data ?? undefined;
  }

  /** `GET /v1/job/:id/evaluations`, blocking when `opts.index` is set. */
  evaluations(id: string, opts: BlockingOptions = {}): Promise<Blocking<Evaluation[]>> {
    requireId('jobs.evaluations', id);
    return blockingGet<Evaluation[]>(this.client, 'jobs.evaluations', `/v1/job/${encodeURIComponent(id)}/evaluations`, opts);
  }
}

function requireId(operation: string, id: string): void {
  if (typeof id !== 'string' || id === '') throw new TypeError(`${operation}: a job ID is required`);
}
