/**
 * Nomad deployments (`/v1/deployment/…`): a job version rolling out, its
 * per-group progress, canary promotion and failure.
 */
import { blockingGet, type Blocking, type BlockingOptions } from './blocking.js';
import type { NomadClient } from './client.js';
import type { AllocationStub } from './allocations.js';

/** Progress of one task group inside a deployment (api.DeploymentState). */
export interface DeploymentState {
  readonly AutoRevert?: boolean;
  readonly AutoPromote?: boolean;
  readonly Promoted?: boolean;
  readonly ProgressDeadline?: number;
  readonly RequireProgressBy?: string;
  readonly PlacedCanaries?: readonly string[] | null;
  readonly DesiredCanaries?: number;
  readonly DesiredTotal?: number;
  readonly PlacedAllocs?: number;
  readonly HealthyAllocs?: number;
  readonly UnhealthyAllocs?: number;
}

/** A deployment (the fields hashiship reads). */
export interface Deployment {
  readonly ID: string;
  readonly Namespace?: string;
  readonly JobID: string;
  readonly JobVersion: number;
  /** The job's ModifyIndex when the deployment was created. */
  readonly JobModifyIndex?: number;
  /** The job's JobModifyIndex (the spec's) when the deployment was created. */
  readonly JobSpecModifyIndex?: number;
  readonly JobCreateIndex?: number;
  /** running, paused, failed, successful, cancelled, initializing, pending, blocked, unblocking. */
  readonly Status: string;
  readonly StatusDescription: string;
  readonly TaskGroups?: Readonly<Record<string, DeploymentState>> | null;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  /** Unix nanoseconds of the creation. */
  readonly CreateTime?: number;
  /** Unix nanoseconds of the last change (status, health, promotion). */
  readonly ModifyTime?: number;
}

/** The answer to a promotion, a failure or a pause. */
export interface DeploymentUpdateResponse {
  readonly EvalID?: string;
  readonly EvalCreateIndex?: number;
  readonly DeploymentModifyIndex?: number;
  readonly RevertedJobVersion?: number | null;
}

/** Statuses in which a deployment still moves. */
export const ActiveDeploymentStatuses: ReadonlySet<string> = new Set(['running', 'paused', 'initializing', 'pending', 'blocked', 'unblocking']);

/** `/v1/deployment…`, one method per operation. */
export class Deployments {
  constructor(readonly client: NomadClient) {}

  /**
   * `GET /v1/deployment/:id`, blocking when `opts.index` is set.
   * @throws {ServerError} on any error, including an unknown ID (404).
   */
  get(id: string, opts: BlockingOptions = {}): Promise<Blocking<Deployment>> {
    if (id === '') throw new TypeError('deployments.get: a deployment ID is required');
    return blockingGet<Deployment>(this.client, 'deployments.get', `/v1/deployment/${encodeURIComponent(id)}`, opts);
  }

  /**
   * `GET /v1/deployment/allocations/:id`: the allocations placed by a deployment,
   * with their health; blocking when `opts.index` is set.
   */
  allocations(id: string, opts: BlockingOptions = {}): Promise<Blocking<AllocationStub[]>> {
    if (id === '') throw new TypeError('deployments.allocations: a deployment ID is required');
    return blockingGet<AllocationStub[]>(this.client, 'deployments.allocations', `/v1/deployment/allocations/${encodeURIComponent(id)}`, opts);
  }

  /**
   * `POST /v1/deployment/promote/:id`: promote canaries, of every group or of the named ones.
   * @throws {ServerError} when Nomad refuses (e.g. canaries not healthy yet).
   */
  async promote(id: string, groups?: readonly string[]): Promise<DeploymentUpdateResponse> {
    if (id === '') throw new TypeError('deployments.promote: a deployment ID is required');
    const data = groups === undefined || groups.length === 0 ? { DeploymentID: id, All: true } : { DeploymentID: id, Groups: groups };
    return (
      await this.client.request<DeploymentUpdateResponse>('deployments.promote', {
        method: 'POST',
        path: `/v1/deployment/promote/${encodeURIComponent(id)}`,
        data,
      })
    ).data;
  }

  /** `POST /v1/deployment/pause/:id`: pause (`true`) or resume (`false`) a running deployment. */
  async pause(id: string, pause: boolean): Promise<DeploymentUpdateResponse> {
    if (id === '') throw new TypeError('deployments.pause: a deployment ID is required');
    return (
      await this.client.request<DeploymentUpdateResponse>('deployments.pause', {
        method: 'POST',
        path: `/v1/deployment/pause/${encodeURIComponent(id)}`,
        data: { DeploymentID: id, Pause: pause },
      })
    ).data;
  }

  /** `POST /v1/deployment/fail/:id`: mark a running deployment failed (auto-revert applies). */
  async fail(id: string): Promise<DeploymentUpdateResponse> {
    if (id === '') throw new TypeError('deployments.fail: a deployment ID is required');
    return (
      await this.client.request<DeploymentUpdateResponse>('deployments.fail', {
        method: 'POST',
        path: `/v1/deployment/fail/${encodeURIComponent(id)}`,
        data: { DeploymentID: id },
      })
    ).data;
  }
}
