/**
 * A step harness for flows against the real stack, after Levant's
 * `TestCase{Setup, Steps[]{Run, Check, ExpectErr}, Cleanup}`: each step runs,
 * then either its check sees the result or its `expectError` sees the error;
 * cleanup always runs. Reusable checks read Nomad (deployment status, job
 * version) so a test asserts on the cluster, not only on what hashiship said.
 */
import { expect } from 'chai';
import { HashishipError } from '../../src/errors.js';
import type { NomadApi } from '../../src/deploy/runtime.js';

/** One step of a case. */
export interface Step<S> {
  readonly name: string;
  /** Do something; its result goes to `check`. */
  readonly run: (s: S) => Promise<unknown>;
  /** Assert on the result (and on the cluster). */
  readonly check?: (s: S, result: unknown) => unknown;
  /** The step must fail; assert on the error. */
  readonly expectError?: (err: unknown, s: S) => unknown;
}

/** A flow: setup, steps, cleanup. */
export interface TestCase<S> {
  readonly setup?: (s: S) => Promise<void>;
  readonly steps: readonly Step<S>[];
  /** Runs whatever happened before. */
  readonly cleanup?: (s: S) => Promise<void>;
}

/** Run a case; a failing step names itself. */
export async function runCase<S>(state: S, tc: TestCase<S>): Promise<void> {
  try {
    await tc.setup?.(state);
    for (const [i, step] of tc.steps.entries()) {
      const label = `step ${i + 1} (${step.name})`;
      let result: unknown;
      let failed = false;
      let error: unknown;
      try {
        result = await step.run(state);
      } catch (err) {
        failed = true;
        error = err;
      }
      try {
        if (step.expectError !== undefined) {
          if (!failed) throw new Error('expected an error, but the step succeeded');
          await step.expectError(error, state);
        } else if (failed) {
          throw error;
        }
        await step.check?.(state, result);
      } catch (err) {
        const e = err as Error;
        const detail = err instanceof HashishipError ? err.describe() : (e?.stack ?? String(err));
        throw new Error(`${label} failed: ${detail}`, { cause: err });
      }
    }
  } finally {
    await tc.cleanup?.(state);
  }
}

/** A check: the error is a hashiship error with this exit code. */
export function exitCode(code: number): (err: unknown) => void {
  return (err) => {
    expect(err, String(err)).to.be.instanceOf(HashishipError);
    expect((err as HashishipError).exitCode, (err as HashishipError).describe()).to.equal(code);
  };
}

/**
 * A check: the job's latest deployment reaches this status within `withinMs`
 * (followed with blocking queries; deploy returns once the outcome is decided,
 * Nomad marks it about a second later).
 */
export async function deploymentStatus(api: NomadApi, jobId: string, status: string, withinMs = 15_000): Promise<void> {
  const d = await api.jobs.latestDeployment(jobId);
  expect(d, `latest deployment of ${jobId}`).not.to.equal(undefined);
  const end = Date.now() + withinMs;
  let index = 0;
  let current = d!;
  while (current.Status !== status && Date.now() < end) {
    const r = await api.deployments.get(current.ID, { index, waitMs: Math.max(50, end - Date.now()) });
    current = r.data;
    index = r.index;
  }
  expect(current.Status, `latest deployment of ${jobId}`).to.equal(status);
}

/** A check: the job exists at this version. */
export async function jobVersion(api: NomadApi, jobId: string, version: number): Promise<void> {
  const j = await api.jobs.get(jobId);
  expect(j?.Version, `version of ${jobId}`).to.equal(version);
}

/** A check: the number of running allocations of the job's current version. */
export async function runningAllocs(api: NomadApi, jobId: string, n: number): Promise<void> {
  const j = await api.jobs.get(jobId);
  const allocs = (await api.allocations.ofJob(jobId)).data.filter(
    (a) => a.JobVersion === j?.Version && a.ClientStatus === 'running' && a.DesiredStatus === 'run',
  );
  expect(allocs.length, `running allocations of ${jobId} v${j?.Version}`).to.equal(n);
}

/** Stop and purge jobs, ignoring those that are gone. */
export async function purge(api: NomadApi, ...ids: readonly string[]): Promise<void> {
  for (const id of ids) await api.jobs.deregister(id, { purge: true }).catch(() => undefined);
}
