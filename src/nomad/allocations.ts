/**
 * Nomad allocations (`/v1/allocation/…`, `/v1/client/fs/logs/…`): what runs
 * where, each task's events, and the tasks' logs.
 */
import { blockingGet, type Blocking, type BlockingOptions } from './blocking.js';
import type { NomadClient } from './client.js';

/** One event in a task's life (api.TaskEvent). */
export interface TaskEvent {
  readonly Type: string;
  /** Unix nanoseconds. */
  readonly Time: number;
  readonly Message?: string;
  readonly DisplayMessage?: string;
  readonly Details?: Readonly<Record<string, string>> | null;
  readonly FailsTask?: boolean;
  readonly RestartReason?: string;
  readonly SetupError?: string;
  readonly DriverError?: string;
  readonly ExitCode?: number;
  readonly Signal?: number;
  readonly KillReason?: string;
  readonly KillError?: string;
  readonly DownloadError?: string;
  readonly ValidationError?: string;
  readonly FailedSibling?: string;
  readonly VaultError?: string;
}

/** A task's state inside an allocation (api.TaskState). */
export interface TaskState {
  /** pending, running, dead. */
  readonly State: string;
  readonly Failed: boolean;
  readonly Restarts?: number;
  readonly StartedAt?: string | null;
  readonly FinishedAt?: string | null;
  readonly Events?: readonly TaskEvent[] | null;
}

/** Health of an allocation inside a deployment. */
export interface AllocDeploymentStatus {
  /** Unset until the client decided. */
  readonly Healthy?: boolean | null;
  readonly Timestamp?: string;
  readonly Canary?: boolean;
  readonly ModifyIndex?: number;
}

/** An allocation as lists return it (api.AllocationListStub). */
export interface AllocationStub {
  readonly ID: string;
  readonly Name: string;
  readonly NodeID?: string;
  readonly NodeName?: string;
  readonly JobID: string;
  readonly JobVersion: number;
  readonly TaskGroup: string;
  /** run, stop, evict. */
  readonly DesiredStatus: string;
  readonly DesiredDescription?: string;
  /** pending, running, complete, failed, lost, unknown. */
  readonly ClientStatus: string;
  readonly ClientDescription?: string;
  readonly TaskStates?: Readonly<Record<string, TaskState>> | null;
  readonly DeploymentStatus?: AllocDeploymentStatus | null;
  readonly FollowupEvalID?: string;
  readonly NextAllocation?: string;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  /** Unix nanoseconds. */
  readonly ModifyTime?: number;
}

/** A whole allocation (the fields hashiship reads beyond the stub). */
export interface Allocation extends AllocationStub {
  readonly DeploymentID?: string;
  readonly Job?: {
    readonly TaskGroups?:
      | readonly {
          readonly Name: string;
          readonly Tasks?: readonly { readonly Name: string; readonly Resources?: { readonly MemoryMB?: number } | null }[] | null;
        }[]
      | null;
  } | null;
}

/** `/v1/allocation…` and the client log API, one method per operation. */
export class Allocations {
  constructor(readonly client: NomadClient) {}

  /**
   * `GET /v1/allocation/:id`.
   * @throws {ServerError} on any error, including an unknown ID (404).
   */
  async get(id: string): Promise<Allocation> {
    if (id === '') throw new TypeError('allocations.get: an allocation ID is required');
    return (await blockingGet<Allocation>(this.client, 'allocations.get', `/v1/allocation/${encodeURIComponent(id)}`)).data;
  }

  /** `GET /v1/job/:id/allocations`, blocking when `opts.index` is set. */
  ofJob(jobId: string, opts: BlockingOptions & { readonly all?: boolean } = {}): Promise<Blocking<AllocationStub[]>> {
    if (jobId === '') throw new TypeError('allocations.ofJob: a job ID is required');
    return blockingGet<AllocationStub[]>(this.client, 'allocations.ofJob', `/v1/job/${encodeURIComponent(jobId)}/allocations`, {
      ...opts,
      params: { ...opts.params, ...(opts.all === true ? { all: true } : {}) },
    });
  }

  /**
   * The last bytes of a task's stdout or stderr (`GET /v1/client/fs/logs/:alloc`,
   * `origin=end`), as text; undefined when the log is gone or was never written.
   * @throws {ServerError} when Nomad cannot be reached.
   */
  async logTail(allocId: string, task: string, type: 'stdout' | 'stderr', bytes = 16_384): Promise<string | undefined> {
    if (allocId === '' || task === '') throw new TypeError('allocations.logTail: an allocation ID and a task are required');
    const res = await this.client.request<string>('allocations.logs', {
      path: `/v1/client/fs/logs/${encodeURIComponent(allocId)}`,
      params: { task, type, origin: 'end', offset: bytes, plain: true, follow: false },
      responseType: 'text',
      accept: [400, 404, 500],
      timeoutMs: 15_000,
    });
    if (res.status >= 300) return undefined;
    return typeof res.data === 'string' ? res.data : String(res.data);
  }
}
