/**
 * Nomad evaluations (`/v1/evaluation/…`): the scheduler's answer to a
 * registration, with its placement failures.
 */
import { blockingGet, type Blocking, type BlockingOptions } from './blocking.js';
import type { NomadClient } from './client.js';

/** The scheduler's account of why allocations of a group could not be placed (api.AllocationMetric). */
export interface AllocMetric {
  readonly NodesEvaluated?: number;
  readonly NodesFiltered?: number;
  readonly NodesInPool?: number;
  readonly NodesAvailable?: Readonly<Record<string, number>> | null;
  readonly ClassFiltered?: Readonly<Record<string, number>> | null;
  readonly ConstraintFiltered?: Readonly<Record<string, number>> | null;
  readonly NodesExhausted?: number;
  readonly ClassExhausted?: Readonly<Record<string, number>> | null;
  readonly DimensionExhausted?: Readonly<Record<string, number>> | null;
  readonly QuotaExhausted?: readonly string[] | null;
  readonly ResourcesExhausted?: Readonly<Record<string, unknown>> | null;
  readonly CoalescedFailures?: number;
}

/** An evaluation (the fields hashiship reads). */
export interface Evaluation {
  readonly ID: string;
  readonly JobID: string;
  readonly Type?: string;
  readonly TriggeredBy?: string;
  /** pending, complete, failed, canceled, blocked. */
  readonly Status: string;
  readonly StatusDescription?: string;
  readonly DeploymentID?: string;
  readonly NextEval?: string;
  readonly BlockedEval?: string;
  readonly FailedTGAllocs?: Readonly<Record<string, AllocMetric>> | null;
  readonly QueuedAllocations?: Readonly<Record<string, number>> | null;
  readonly CreateIndex?: number;
  readonly ModifyIndex: number;
}

/** Statuses after which an evaluation changes no more. */
export const TerminalEvalStatuses: ReadonlySet<string> = new Set(['complete', 'failed', 'canceled']);

/** `/v1/evaluation…`, one method per operation. */
export class Evaluations {
  constructor(readonly client: NomadClient) {}

  /**
   * `GET /v1/evaluation/:id`, blocking when `opts.index` is set.
   * @throws {ServerError} on any error, including an unknown ID (404).
   */
  get(id: string, opts: BlockingOptions = {}): Promise<Blocking<Evaluation>> {
    if (id === '') throw new TypeError('evaluations.get: an evaluation ID is required');
    return blockingGet<Evaluation>(this.client, 'evaluations.get', `/v1/evaluation/${encodeURIComponent(id)}`, opts);
  }
}
