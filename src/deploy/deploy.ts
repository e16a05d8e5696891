/**
 * Plan and deploy an environment: plan every job (Nomad's plan API), then per
 * job check ownership, skip when nothing changed, register with the modify
 * index enforced, watch to the outcome, and explain a failure. Services run
 * concurrently up to a limit; the result carries each service's outcome and
 * the worst exit code. Outcomes map to typed errors: {@link RevertedError} (3),
 * {@link DeployFailedError} (4), {@link PlacementError} (5), {@link GateError} (6);
 * healthy canaries waiting for promotion are a result with exit code 10.
 */
import {
  DeployFailedError,
  Diagnosed,
  ExitCode,
  GateError,
  HashishipError,
  InputError,
  PlacementError,
  RevertedError,
  exitCodeOf,
  worstExitCode,
  type ContextLine,
} from '../errors.js';
import type { DeployOutcome, Logger } from '../log.js';
import { OwnershipMeta } from '../nomad/job.js';
import { ActiveDeploymentStatuses, type Deployment } from '../nomad/deployments.js';
import type { JobSpecLike, JobStub } from '../nomad/jobs.js';
import { CheckTracker, consulServicesByGroup, consulServicesOf } from './checks.js';
import { formatDuration } from '../service-spec/duration.js';
import { diagnose, formatDiagnosis, placementOutlook, type Diagnosis } from './diagnose.js';
import { groupedLogger } from './events.js';
import { mapLimit } from '../concurrency.js';
import type { InputSet, JobInput } from './inputs.js';
import { checkPruneInput, jobHash, jobPlan, orphanPlan, planDocument, pruneRefusal, type JobPlan, type NamespacePlan, type PlanDocument } from './plan.js';
import { checkOwnership, ownershipOf, planPrepared, prepareJob, registerEnforced, stampOwnership, type PreparedJob } from './register.js';
import { inNamespace, namespaceOf, type DeployContext } from './runtime.js';
import { healthyComplete, settleDecided, watchDeployment, watchRegistration, type Until, type WatchOutcome } from './watch.js';

/** The exit code of several services (errors.ts's documented order). */
export { worstExitCode };

/** A job by its namespace and ID: the same ID may live in several namespaces. */
export interface JobRef {
  readonly id: string;
  readonly namespace: string;
}

/** `namespace/id`, a key that tells jobs of the same ID apart. */
export function jobKey(ref: JobRef): string {
  return `${ref.namespace}/${ref.id}`;
}

/**
 * The jobs hashiship owns in an environment, in every namespace the token may
 * read (running or pending; periodic children excluded); each stub names its namespace.
 */
export async function ownedJobs(ctx: DeployContext, environment: string): Promise<JobStub[]> {
  const all = await ctx.nomad.jobs.list({ namespace: '*' });
  return all.filter(
    (j) => j.Meta?.[OwnershipMeta.tool] === 'hashiship' && j.Meta?.[OwnershipMeta.environment] === environment && j.Stop !== true && (j.ParentID ?? '') === '',
  );
}

/**
 * Where the named jobs of an environment live: for each ID, the namespaces where
 * hashiship owns a job of that ID in the environment; else the one namespace
 * holding a job of that ID; else the default namespace (NOMAD_NAMESPACE, else
 * `default`). Without names, every job hashiship owns in the environment.
 * @throws {ServerError} when Nomad cannot be reached.
 */
export async function locateJobs(ctx: DeployContext, environment: string, jobIds: readonly string[] = []): Promise<JobRef[]> {
  const owned = (await ownedJobs(ctx, environment)).map((j) => ({ id: j.ID, namespace: j.Namespace ?? 'default' }));
  const byKey = (a: JobRef, b: JobRef) => (a.id === b.id ? (a.namespace < b.namespace ? -1 : 1) : a.id < b.id ? -1 : 1);
  if (jobIds.length === 0) return owned.sort(byKey);
  const out: JobRef[] = [];
  for (const id of jobIds) {
    const mine = owned.filter((j) => j.id === id).sort(byKey);
    if (mine.length > 0) {
      out.push(...mine);
      continue;
    }
    const anywhere = (await ctx.nomad.jobs.list({ prefix: id, namespace: '*' })).filter((j) => j.ID === id && (j.ParentID ?? '') === '');
    const only = anywhere.length === 1 ? anywhere[0]!.Namespace : undefined;
    out.push({ id, namespace: only ?? ctx.nomad.client.namespace ?? 'default' });
  }
  return out.filter((r, i) => out.findIndex((x) => jobKey(x) === jobKey(r)) === i);
}

/**
 * The jobs `promote-canaries` acts on: the named ones, located like
 * {@link locateJobs}; without names, every job hashiship owns in the
 * environment whose latest deployment is running.
 * @throws {ServerError} when Nomad cannot be reached.
 */
export async function promotionTargets(ctx: DeployContext, environment: string, jobIds: readonly string[] = []): Promise<JobRef[]> {
  const refs = await locateJobs(ctx, environment, jobIds);
  if (jobIds.length > 0) return refs;
  const running = await Promise.all(
    refs.map(async (r) => ((await inNamespace(ctx, r.namespace).nomad.jobs.latestDeployment(r.id))?.Status === 'running' ? r : undefined)),
  );
  return running.filter((r): r is JobRef => r !== undefined);
}

/** Options of {@link planEnvironment}. */
export interface PlanOptions {
  /** Register the spec's counts even where the autoscaler set others. @default false */
  readonly resetCounts?: boolean;
  /** How many jobs to plan at once. @default 4 */
  readonly parallel?: number;
  /**
   * A gate run before anything is planned or registered, e.g. the secrets pre-flight
   * (`secretsGate` in src/vault/preflight); its error (GateError, exit 6) refuses the run.
   */
  readonly secrets?: (set: InputSet) => Promise<unknown>;
  /**
   * Stop the jobs hashiship owns in the environment whose spec is gone (`--prune`);
   * without it they are listed as kept and left running. Needs the whole
   * environment and at least one job. @default false
   */
  readonly prune?: boolean;
}

/** A plan with the prepared jobs it was computed for (needed to apply it). */
export interface PlannedEnvironment {
  readonly document: PlanDocument;
  readonly prepared: ReadonlyMap<string, PreparedJob>;
  /** How many jobs hashiship owns in the environment now (counted for a whole environment only; 0 otherwise). */
  readonly owned: number;
}

/**
 * The namespaces an input set needs: those the environment declares (created
 * when missing), and a refusal for a job whose namespace neither exists nor is declared.
 * @throws {GateError} (exit 6) naming the job, its namespace and the environment file.
 */
async function planNamespaces(ctx: DeployContext, set: InputSet): Promise<NamespacePlan[]> {
  const existing = new Set((await ctx.nomad.namespaces.list()).map((n) => n.Name));
  const declared = new Map<string, NamespacePlan>();
  for (const n of set.namespaces ?? []) {
    if (declared.has(n.name)) continue;
    declared.set(n.name, {
      name: n.name,
      ...(n.description === undefined ? {} : { description: n.description }),
      action: existing.has(n.name) ? 'none' : 'create',
    });
  }
  const missing = set.inputs
    .map((i) => ({ id: i.job.ID, namespace: namespaceOf(i.job, ctx.nomad.client), source: i.source }))
    .filter((j) => !existing.has(j.namespace) && !declared.has(j.namespace));
  if (missing.length > 0) {
    const names = [...new Set(missing.map((m) => m.namespace))];
    throw new GateError(`namespace${names.length === 1 ? '' : 's'} ${names.join(', ')} not found in Nomad; nothing was planned or registered`, {
      context: [
        ...missing.map((m) => ['Job', `${m.id} (${m.source}) is in namespace ${m.namespace}`] as const),
        ['Environment', set.environmentFile ?? set.environment],
        [
          'Suggestion',
          `declare ${names.length === 1 ? 'it' : 'them'} under \`namespaces:\` in the environment file (plan shows it, deploy creates it), or create ${names.length === 1 ? 'it' : 'them'}: ${names.map((n) => `nomad namespace apply ${n}`).join('; ')}`,
        ],
      ],
    });
  }
  return [...declared.values()];
}

/**
 * Plan every job of an input set, each in its own namespace; when the set is
 * the whole environment, the jobs hashiship owns there without a spec (in any
 * namespace) are listed: as stops with `prune`, as kept without. The namespaces
 * the environment declares are listed first, those missing as to be created.
 * @throws {InputError} for `prune` with named services, job files or an empty set (before any request);
 * {@link ServerError} when Nomad cannot be reached or refuses a plan; what `opts.secrets` throws (GateError, exit 6);
 * {@link GateError} for a job in a namespace that neither exists nor is declared.
 */
export async function planEnvironment(ctx: DeployContext, set: InputSet, opts: PlanOptions = {}): Promise<PlannedEnvironment> {
  checkPruneInput({ complete: set.complete, jobs: set.inputs.length, prune: opts.prune === true });
  await opts.secrets?.(set);
  const namespaces = await planNamespaces(ctx, set);
  const toCreate = new Set(namespaces.filter((n) => n.action === 'create').map((n) => n.name));
  const prepared = new Map<string, PreparedJob>();
  const plans = await mapLimit(set.inputs, opts.parallel ?? 4, async (input) => {
    const namespace = namespaceOf(input.job, ctx.nomad.client);
    const job = { ...input.job, Namespace: namespace };
    if (toCreate.has(namespace)) {
      // Nomad plans nothing in a namespace that does not exist: the job is new there.
      const p: PreparedJob = {
        source: input.source,
        job: stampOwnership(job, set.environment),
        live: undefined,
        ownership: { status: 'absent' },
        preserved: [],
      };
      prepared.set(p.job.ID, p);
      return jobPlan(
        {
          source: input.source,
          job: p.job,
          exists: false,
          ownership: p.ownership,
          preservedCounts: [],
          response: { JobModifyIndex: 0 },
          namespace,
          unplanned: `namespace ${namespace} is created on deploy, then Nomad places the job`,
        },
        ctx.redactor,
      );
    }
    const jobs = inNamespace(ctx, namespace).nomad.jobs;
    const p = await prepareJob(jobs, { ...input, job }, { environment: set.environment, resetCounts: opts.resetCounts === true });
    prepared.set(p.job.ID, p);
    const response = await planPrepared(jobs, p);
    return jobPlan(
      {
        source: input.source,
        job: p.job,
        exists: p.live !== undefined,
        ...(p.live === undefined ? {} : { liveVersion: p.live.Version }),
        ownership: p.ownership,
        preservedCounts: p.preserved,
        response,
        namespace,
      },
      ctx.redactor,
    );
  });
  const owned = set.complete
    ? (await ownedJobs(ctx, set.environment)).map((j) => ({ id: j.ID, namespace: j.Namespace ?? 'default', jobModifyIndex: j.JobModifyIndex }))
    : [];
  const wanted = plans.map((p) => ({ id: p.id, namespace: p.namespace ?? 'default' }));
  const orphans = orphanPlan({ environment: set.environment, wanted, owned, prune: opts.prune === true });
  const document = planDocument(set.environment, plans, orphans.stops, new Date(ctx.runtime.now()), { ...orphans, namespaces });
  for (const j of document.jobs) {
    const d = j.diffText.length;
    ctx.runtime.log({
      kind: 'deploy.plan',
      job: j.id,
      action: j.action,
      detail: j.action === 'none' ? '' : `${d} diff line${d === 1 ? '' : 's'}, job modify index ${j.jobModifyIndex}`,
    });
  }
  for (const s of document.stops)
    ctx.runtime.log({ kind: 'deploy.plan', job: s.id, action: 'stop', detail: `namespace ${s.namespace ?? 'default'}; ${s.reason}` });
  for (const k of document.kept ?? [])
    ctx.runtime.log({ kind: 'deploy.plan', job: k.id, action: 'keep', detail: `namespace ${k.namespace ?? 'default'}; ${k.reason}` });
  return { document, prepared, owned: owned.length };
}

/** Options of {@link deployEnvironment}. */
export interface DeployOptions extends PlanOptions {
  /** @default "healthy" */
  readonly until?: Until;
  /** Overwrite a job hashiship does not own in this environment. @default false */
  readonly forceOwner?: boolean;
  /** With `prune`: stop more jobs than {@link PruneLimit} allows (`--force`). @default false */
  readonly forcePrune?: boolean;
  /** Per-service deadline; default: twice the longest progress deadline plus two minutes. */
  readonly timeoutMs?: number;
  /** @default 30000 */
  readonly heartbeatMs?: number;
  /** Apply exactly this plan (from `plan --out`): refuse any job that changed since. */
  readonly plan?: PlanDocument;
  /** Keep each service's events together (on by default when more than one runs at once). */
  readonly grouped?: boolean;
  readonly signal?: AbortSignal;
  /**
   * After a successful deployment, wait until every instance its allocations registered
   * in Consul passes there (false: trust Nomad's deployment health alone). @default true
   */
  readonly healthGate?: boolean;
  /** Deadline of that Consul health gate. @default 60000 */
  readonly healthDeadlineMs?: number;
  /** Passed to the watch (tests shorten them). */
  readonly deploymentLookupMs?: number;
  readonly revertLookupMs?: number;
}

/** The outcome of one service. */
export interface ServiceResult {
  readonly job: string;
  /** The Nomad namespace of the job. */
  readonly namespace?: string;
  readonly outcome: DeployOutcome;
  readonly exitCode: number;
  readonly seconds: number;
  /** One line. */
  readonly message: string;
  readonly version?: number;
  readonly deploymentId?: string;
  /** The diagnosis of a failure, as printed. */
  readonly diagnosis: readonly string[];
  /** The typed error of a failure. */
  readonly error?: HashishipError;
}

/** The outcome of a deploy. */
export interface DeployResult {
  readonly environment: string;
  readonly results: readonly ServiceResult[];
  readonly exitCode: number;
}

const DefaultProgressDeadlineMs = 600_000;

/** Twice the job's longest progress deadline (default 10 min) plus two minutes: room for a failure and its revert. */
export function defaultTimeoutMs(job: JobSpecLike): number {
  const ns = Math.max(0, job.Update?.ProgressDeadline ?? 0, ...(job.TaskGroups ?? []).map((g) => g.Update?.ProgressDeadline ?? 0));
  const ms = ns > 0 ? ns / 1e6 : DefaultProgressDeadlineMs;
  return 2 * ms + 120_000;
}

function ctxWithLog(ctx: DeployContext, log: Logger): DeployContext {
  return { ...ctx, runtime: { ...ctx.runtime, log } };
}

function outcomeName(err: unknown): DeployOutcome {
  if (err instanceof RevertedError) return 'reverted';
  if (err instanceof DeployFailedError) return 'failed';
  if (err instanceof PlacementError) return 'placement';
  if (err instanceof GateError) return 'refused';
  return 'error';
}

/** How one service ended, when it did not fail. */
export interface Settled {
  readonly outcome: DeployOutcome;
  readonly exitCode: number;
  readonly message: string;
  readonly version?: number;
  readonly deploymentId?: string;
}

/** What happens next after a placement failure: the blocked evaluation, and the deployment left running. */
export function placementNotes(evaluation: Parameters<typeof placementOutlook>[0], deployment: Deployment | undefined): string[] {
  const notes = [placementOutlook(evaluation)];
  if (deployment !== undefined && ActiveDeploymentStatuses.has(deployment.Status)) {
    const states = Object.values(deployment.TaskGroups ?? {});
    const by = states
      .map((s) => s.RequireProgressBy)
      .filter((t): t is string => typeof t === 'string' && !t.startsWith('0001-'))
      .sort()[0];
    const revert = states.some((s) => s.AutoRevert === true);
    notes.push(
      `Deployment ${deployment.ID.slice(0, 8)} stays running${by === undefined ? '' : ` until its progress deadline (${by})`}, then fails${revert ? ' and Nomad rolls back' : ''}; \`nomad deployment fail ${deployment.ID.slice(0, 8)}\` ends it now.`,
    );
  }
  return notes;
}

/** A failure with its diagnosis (defined beside the other errors, so that the shell does not load the deploy engine). */
export { Diagnosed } from '../errors.js';

function firstCause(d: Diagnosis): ContextLine[] {
  const a = d.allocations[0];
  const p = d.placement[0];
  if (a !== undefined) return [['Cause', a.cause.cause]];
  if (p !== undefined) return [['Cause', `group ${p.group}: ${p.reasons.join('; ') || 'no capacity'}`]];
  return [];
}

/**
 * Turn a watch outcome into a result, or (for a failure) into its typed error
 * with the diagnosis; the diagnosis is also emitted as a `deploy.diagnosis` event.
 */
/** How long a watch waited before giving up, and which flag sets it: for the timeout message. */
interface WaitBound {
  readonly ms: number;
  readonly given: boolean;
}

function waitedText(w: WaitBound): string {
  return `after waiting ${formatDuration(Math.round(w.ms) * 1e6)} (${w.given ? '--timeout' : 'the default: 2 × the progress deadline + 2m; --timeout sets it'})`;
}

async function settle(ctx: DeployContext, jobId: string, outcome: WatchOutcome, checks: CheckTracker | undefined, bound: WaitBound): Promise<Settled> {
  const forAlloc = (id: string) => checks?.forAlloc(id) ?? [];
  const explain = async (input: Parameters<typeof diagnose>[1]): Promise<Diagnosis> => {
    await checks?.refreshLocal();
    const d = await diagnose(ctx.nomad, input, ctx.redactor);
    ctx.runtime.log({ kind: 'deploy.diagnosis', job: jobId, lines: formatDiagnosis(d) });
    return d;
  };
  const depContext = (d: Deployment | undefined): ContextLine[] =>
    d === undefined ? [] : [['Deployment', `${d.ID} (version ${d.JobVersion}): ${d.StatusDescription}`]];
  switch (outcome.kind) {
    case 'successful':
      return {
        outcome: 'successful',
        exitCode: ExitCode.ok,
        message: `version ${outcome.version ?? '?'} ${
          outcome.deployment === undefined
            ? 'running'
            : outcome.deployment.Status === 'successful'
              ? `deployed (deployment ${outcome.deployment.ID.slice(0, 8)} successful)`
              : `deployed: all allocations healthy (deployment ${outcome.deployment.ID.slice(0, 8)} completing)`
        }`,
        ...(outcome.version === undefined ? {} : { version: outcome.version }),
        ...(outcome.deployment === undefined ? {} : { deploymentId: outcome.deployment.ID }),
      };
    case 'registered':
      return { outcome: 'registered', exitCode: ExitCode.ok, message: outcome.detail };
    case 'promotion-ready':
      return {
        outcome: 'promotion-ready',
        exitCode: ExitCode.promotionReady,
        message: `canaries of version ${outcome.deployment.JobVersion} are healthy and wait for promotion (hashiship promote-canaries)`,
        version: outcome.deployment.JobVersion,
        deploymentId: outcome.deployment.ID,
      };
    case 'placement': {
      const groups = Object.keys(outcome.evaluation.FailedTGAllocs ?? {}).sort();
      const d = await explain({
        job: jobId,
        headline: `placement failed for group${groups.length === 1 ? '' : 's'} ${groups.join(', ')}`,
        notes: placementNotes(outcome.evaluation, outcome.deployment),
        evaluation: outcome.evaluation,
        ...(outcome.deployment === undefined ? {} : { deployment: outcome.deployment }),
        checks: forAlloc,
      });
      throw new Diagnosed(
        new PlacementError(`${jobId}: the scheduler could not place ${groups.join(', ')}`, {
          context: [['Job', jobId], ['Evaluation', outcome.evaluation.ID], ...depContext(outcome.deployment), ...firstCause(d)],
        }),
        formatDiagnosis(d),
      );
    }
    case 'failed': {
      const d = await explain({
        job: jobId,
        headline: outcome.reverted ? `${outcome.reason}; rolled back` : `${outcome.reason}; not rolled back`,
        notes: outcome.notes,
        ...(outcome.deployment === undefined ? {} : { deployment: outcome.deployment }),
        allocations: outcome.allocations,
        checks: forAlloc,
      });
      const context: ContextLine[] = [
        ['Job', jobId],
        ...depContext(outcome.deployment),
        ...(outcome.revert === undefined
          ? []
          : ([
              [
                'Revert',
                `${outcome.revert.ID} (version ${outcome.revert.JobVersion}): ${healthyComplete(outcome.revert) ? 'all allocations healthy' : outcome.revert.Status}`,
              ],
            ] as ContextLine[])),
        ...firstCause(d),
      ];
      const error = outcome.reverted
        ? new RevertedError(`${jobId}: deployment failed and Nomad rolled back`, { context })
        : new DeployFailedError(`${jobId}: deployment failed and was not rolled back`, { context });
      throw new Diagnosed(error, formatDiagnosis(d));
    }
    case 'timeout': {
      const d = await explain({
        job: jobId,
        headline: outcome.reason,
        notes: ['hashiship stopped waiting; Nomad carries on with the deployment.'],
        ...(outcome.deployment === undefined ? {} : { deployment: outcome.deployment }),
        allocations: outcome.allocations,
        checks: forAlloc,
      });
      throw new Diagnosed(
        new DeployFailedError(`${jobId}: no outcome ${waitedText(bound)}`, { context: [['Job', jobId], ...depContext(outcome.deployment), ...firstCause(d)] }),
        formatDiagnosis(d),
      );
    }
  }
}

function checkTracker(ctx: DeployContext, job: JobSpecLike): CheckTracker | undefined {
  const services = consulServicesOf(job);
  if (ctx.consul === undefined || services.length === 0) return undefined;
  const log = ctx.runtime.log;
  const tracker = new CheckTracker(ctx.consul.client, (r) => {
    log(
      ctx.redactor.deep({
        kind: 'deploy.check',
        job: job.ID,
        allocId: r.allocId,
        check: r.check,
        status: r.status,
        output: r.status === 'passing' ? '' : (r.output.split('\n')[0] ?? '').slice(0, 200),
      }),
    );
  });
  tracker.follow(services);
  return tracker;
}

/**
 * Deploy one planned job: ownership check, skip when unchanged, register with
 * the plan's modify index enforced, watch, explain.
 * @throws {GateError} for a foreign job or a job changed since the plan (exit 6);
 * {@link Diagnosed} wrapping {@link RevertedError}, {@link DeployFailedError} or
 * {@link PlacementError} with the diagnosis lines; {@link ServerError} when Nomad fails.
 */
export async function deployPlanned(
  ctx0: DeployContext,
  prepared: PreparedJob,
  planned: JobPlan,
  opts: DeployOptions & { readonly environment: string },
): Promise<Settled> {
  const id = prepared.job.ID;
  // Register, watch and explain in the job's own namespace.
  const ctx = inNamespace(ctx0, namespaceOf(prepared.job, ctx0.nomad.client));
  checkOwnership(id, opts.environment, planned.ownership, opts.forceOwner === true);
  if (planned.action === 'none') {
    ctx.runtime.log({ kind: 'deploy.skip', job: id, reason: `no changes; version ${planned.liveVersion ?? '?'} stays, nothing registered` });
    return {
      outcome: 'unchanged',
      exitCode: ExitCode.ok,
      message: 'no changes',
      ...(planned.liveVersion === undefined ? {} : { version: planned.liveVersion }),
    };
  }
  for (const c of prepared.preserved) ctx.runtime.log({ kind: 'deploy.counts', job: id, group: c.group, count: c.count, spec: c.spec, reason: c.reason });
  const start = ctx.runtime.now();
  const bound = { ms: opts.timeoutMs ?? defaultTimeoutMs(prepared.job), given: opts.timeoutMs !== undefined };
  const tracker = checkTracker(ctx, prepared.job);
  try {
    if (prepared.live !== undefined) await settleDecided(ctx, id);
    const reg = await registerEnforced(ctx.nomad.jobs, prepared.job, planned.jobModifyIndex);
    ctx.runtime.log({ kind: 'deploy.register', job: id, evalId: reg.EvalID, jobModifyIndex: reg.JobModifyIndex });
    const outcome = await watchRegistration(
      ctx,
      { job: prepared.job, evalId: reg.EvalID, evalCreateIndex: reg.EvalCreateIndex, jobModifyIndex: reg.JobModifyIndex },
      {
        until: opts.until ?? 'healthy',
        deadline: start + bound.ms,
        heartbeatMs: opts.heartbeatMs ?? 30_000,
        ...(tracker === undefined ? {} : { checks: tracker }),
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        ...(opts.deploymentLookupMs === undefined ? {} : { deploymentLookupMs: opts.deploymentLookupMs }),
        ...(opts.revertLookupMs === undefined ? {} : { revertLookupMs: opts.revertLookupMs }),
      },
    );
    const settled = await settle(ctx, id, outcome, tracker, bound);
    if (settled.outcome === 'successful' && settled.deploymentId !== undefined && opts.healthGate !== false) {
      await consulGate(ctx, prepared.job, settled.deploymentId, opts.healthDeadlineMs ?? 60_000);
    }
    return settled;
  } finally {
    await tracker?.stop();
  }
}

/**
 * The Consul health gate after a successful deployment: every service instance that
 * the deployment's running allocations registered in Consul is passing there, and
 * there is one per allocation. Nomad's deployment health may rest on task states
 * alone (`health_check = "task_states"`), or a check may have failed since; this is
 * what the load balancer will see.
 * @throws {Diagnosed} wrapping {@link GateError} (exit 6) naming each failing instance, check and output.
 */
async function consulGate(ctx: DeployContext, job: JobSpecLike, deploymentId: string, deadlineMs: number): Promise<void> {
  if (ctx.consul === undefined) return;
  const byGroup = consulServicesByGroup(job);
  if (byGroup.size === 0) return;
  const allocs = (await ctx.nomad.deployments.allocations(deploymentId)).data.filter((a) => a.DesiredStatus === 'run' && a.ClientStatus === 'running');
  const services = [...new Set([...byGroup.values()].flat())].sort();
  for (const service of services) {
    const mine = allocs.filter((a) => byGroup.get(a.TaskGroup)?.includes(service) === true).map((a) => a.ID);
    if (mine.length === 0) continue;
    try {
      await ctx.consul.health.waitForHealthy({ service, allocations: mine, require: 'all', min: mine.length, deadlineMs, log: ctx.runtime.log });
    } catch (err) {
      if (!(err instanceof GateError)) throw err;
      const context = ctx.redactor.deep(err.context);
      const lines = [
        `${job.ID}: deployment ${deploymentId.slice(0, 8)} succeeded in Nomad, but Consul's health gate did not open`,
        ...context.map(([k, v]) => `  ${k}: ${v}`),
      ];
      ctx.runtime.log({ kind: 'deploy.diagnosis', job: job.ID, lines });
      throw new Diagnosed(
        new GateError(`${job.ID}: deployed, but not every new instance of ${service} passes in Consul`, { context: [['Job', job.ID], ...context] }),
        lines,
      );
    }
  }
}

/**
 * Check that a saved plan still describes the inputs: same environment, every
 * planned job present with the same job hash.
 * @throws {InputError} for a plan of another environment; {@link GateError} for a job whose spec changed since.
 */
export function checkSavedPlan(saved: PlanDocument, fresh: PlanDocument): void {
  if (saved.kind !== 'hashiship.plan' || saved.version !== 1) {
    throw new InputError([{ subject: '--plan', message: 'not a hashiship plan (kind hashiship.plan, version 1)' }]);
  }
  if (saved.environment !== fresh.environment) {
    throw new InputError([{ subject: '--plan', message: `the plan is for ${saved.environment}, not ${fresh.environment}` }]);
  }
}

async function runService(ctx: DeployContext, id: string, namespace: string | undefined, fn: () => Promise<Settled>): Promise<ServiceResult> {
  const start = ctx.runtime.now();
  let r: ServiceResult;
  const ns = namespace === undefined ? {} : { namespace };
  try {
    const s = await fn();
    r = { job: id, ...ns, ...s, seconds: (ctx.runtime.now() - start) / 1000, diagnosis: [] };
  } catch (err) {
    const error = err instanceof Diagnosed ? err.error : err;
    const lines = err instanceof Diagnosed ? err.lines : [];
    const message = error instanceof HashishipError ? error.message : `internal: ${(error as Error)?.message ?? String(error)}`;
    r = {
      job: id,
      ...ns,
      outcome: outcomeName(error),
      exitCode: exitCodeOf(error),
      seconds: (ctx.runtime.now() - start) / 1000,
      message: ctx.redactor.text(message),
      diagnosis: lines,
      ...(error instanceof HashishipError ? { error } : {}),
    };
  }
  ctx.runtime.log({ kind: 'deploy.done', job: id, outcome: r.outcome, exitCode: r.exitCode, seconds: r.seconds, message: r.message });
  return r;
}

/**
 * Create the namespaces the plan lists as missing (with a saved plan: those it
 * lists and that are still missing), before any job is registered. Never
 * changes or deletes one.
 * @throws {ServerError} when Nomad refuses (e.g. a token without operator rights).
 */
async function createNamespaces(ctx: DeployContext, saved: PlanDocument | undefined, fresh: PlanDocument): Promise<void> {
  const missing = new Set((fresh.namespaces ?? []).filter((n) => n.action === 'create').map((n) => n.name));
  for (const n of (saved ?? fresh).namespaces ?? []) {
    if (n.action !== 'create' || !missing.has(n.name)) continue;
    await ctx.nomad.namespaces.apply(n.name, n.description ?? `created by hashiship for environment ${fresh.environment}`);
    ctx.runtime.log({ kind: 'nomad.namespace', namespace: n.name, action: 'created' });
  }
}

/**
 * Deploy an input set: plan it (or check it against a saved plan), then deploy
 * each changed job concurrently (`parallel`, default 4), then — only with
 * `prune` — stop the jobs whose spec was removed. Stops past {@link PruneLimit}
 * are refused before anything is registered unless `forcePrune`. Never throws
 * for one service's failure: each ends in its {@link ServiceResult} and the
 * result's exit code is the worst.
 * @throws {InputError} for a saved plan of another environment, a saved plan with
 * stops but no `prune`, and the prune inputs {@link checkPruneInput} refuses (before any request);
 * {@link GateError} for stops past the limit without `forcePrune`; {@link ServerError} when planning fails.
 */
export async function deployEnvironment(ctx0: DeployContext, set: InputSet, opts: DeployOptions = {}): Promise<DeployResult> {
  checkPruneInput({ complete: set.complete, jobs: set.inputs.length, prune: opts.prune === true, force: opts.forcePrune === true });
  const savedStops = opts.plan?.stops ?? [];
  if (savedStops.length > 0 && opts.prune !== true) {
    throw new InputError([
      { subject: '--plan', message: `the plan stops ${savedStops.map((x) => x.id).join(', ')} (jobs without a spec); deploy stops jobs only with --prune` },
    ]);
  }
  const parallel = Math.max(1, opts.parallel ?? 4);
  const grouped = opts.grouped ?? (parallel > 1 && set.inputs.length > 1);
  const glog = grouped ? groupedLogger(ctx0.runtime.log, { heartbeatMs: opts.heartbeatMs ?? 30_000, now: ctx0.runtime.now }) : undefined;
  const ctx = glog === undefined ? ctx0 : ctxWithLog(ctx0, glog);
  try {
    const { document: fresh, prepared, owned } = await planEnvironment(ctx, set, opts);
    const saved = opts.plan;
    if (saved !== undefined) checkSavedPlan(saved, fresh);
    const stops = saved?.stops ?? fresh.stops;
    const refused = pruneRefusal(stops.length, owned, set.environment);
    if (refused !== undefined && opts.forcePrune !== true) {
      throw new GateError(`${set.environment}: ${refused}; nothing was registered or stopped`, {
        context: [
          ['Would stop', stops.map((x) => x.id).join(', ')],
          ['Suggestion', 'check --services and the specs; to stop them all the same, add --force'],
        ],
      });
    }
    await createNamespaces(ctx, saved, fresh);
    const freshById = new Map(fresh.jobs.map((j) => [j.id, j]));
    // With a saved plan, exactly its jobs; otherwise every planned job.
    const targets: { id: string; planned?: JobPlan; fresh?: JobPlan }[] =
      saved === undefined
        ? fresh.jobs.map((j) => ({ id: j.id, planned: j, fresh: j }))
        : saved.jobs.map((j) => ({ id: j.id, planned: j, ...(freshById.has(j.id) ? { fresh: freshById.get(j.id)! } : {}) }));
    const results = await mapLimit(targets, parallel, (t) =>
      runService(ctx, t.id, t.fresh?.namespace ?? t.planned?.namespace, async () => {
        const p = prepared.get(t.id);
        if (p === undefined || t.fresh === undefined || t.planned === undefined) {
          throw new GateError(`${t.id}: in the plan but not among the inputs (its spec was removed or not selected)`, {
            context: [
              ['Job', t.id],
              ['Suggestion', 'plan again with the same --env and services'],
            ],
          });
        }
        if (saved !== undefined && t.planned.namespace !== undefined && t.planned.namespace !== t.fresh.namespace) {
          throw new GateError(
            `${t.id}: planned in namespace ${t.planned.namespace}, its spec now puts it in ${t.fresh.namespace ?? 'default'}; nothing was registered`,
            {
              context: [
                ['Job', t.id],
                ['Suggestion', 'run hashiship plan again and review the new diff'],
              ],
            },
          );
        }
        if (saved !== undefined && t.planned.jobHash !== jobHash(p.job)) {
          throw new GateError(`${t.id}: the job to register differs from the planned one; nothing was registered`, {
            context: [
              ['Job', t.id],
              ['Planned hash', t.planned.jobHash.slice(0, 16)],
              ['Now', `${jobHash(p.job).slice(0, 16)} (the spec, or a count kept from the autoscaler, changed since the plan)`],
              ['Suggestion', 'run hashiship plan again and review the new diff'],
            ],
          });
        }
        // Ownership is judged on the live job now; the plan's index is what registration enforces.
        return deployPlanned(ctx, p, { ...t.planned, ownership: t.fresh.ownership }, { ...opts, environment: set.environment });
      }),
    );
    for (const s of stops) {
      const namespace = s.namespace ?? 'default';
      const jobs = inNamespace(ctx, namespace).nomad.jobs;
      results.push(
        await runService(ctx, s.id, namespace, async () => {
          const live = await jobs.get(s.id);
          if (live === undefined || live.Stop === true) return { outcome: 'stopped', exitCode: 0, message: 'already stopped' };
          if (live.JobModifyIndex !== s.jobModifyIndex) {
            throw new GateError(`${s.id}: changed since the plan (job modify index ${s.jobModifyIndex} → ${live.JobModifyIndex}); not stopped`);
          }
          await jobs.deregister(s.id);
          ctx.runtime.log({ kind: 'deploy.stop', job: s.id, reason: s.reason });
          return { outcome: 'stopped', exitCode: 0, message: `stopped (${s.reason})`, version: live.Version };
        }),
      );
    }
    return { environment: set.environment, results, exitCode: worstExitCode(results.map((r) => r.exitCode)) };
  } finally {
    glog?.flush();
  }
}

/**
 * Deploy one job input (a convenience over {@link deployEnvironment}).
 * @throws the service's typed error ({@link RevertedError}, {@link DeployFailedError},
 * {@link PlacementError}, {@link GateError}, {@link ServerError}); the result for success and promotion-ready.
 */
export async function deployJob(ctx: DeployContext, environment: string, input: JobInput, opts: DeployOptions = {}): Promise<ServiceResult> {
  const r = await deployEnvironment(ctx, { environment, inputs: [input], complete: false }, { ...opts, parallel: 1 });
  const s = r.results[0]!;
  if (s.error !== undefined) throw s.error;
  return s;
}

/** Options of {@link promoteCanaries}. */
export interface PromoteOptions {
  readonly environment: string;
  readonly parallel?: number;
  readonly timeoutMs?: number;
  readonly heartbeatMs?: number;
  readonly forceOwner?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * Finish deployments left at `--until promotion-ready`: promote the canaries of
 * each job's latest deployment (once they are healthy) and watch it to the end,
 * following an auto-revert like deploy.
 */
export async function promoteCanaries(ctx0: DeployContext, jobs: readonly (string | JobRef)[], opts: PromoteOptions): Promise<DeployResult> {
  const parallel = Math.max(1, opts.parallel ?? 4);
  const glog = parallel > 1 && jobs.length > 1 ? groupedLogger(ctx0.runtime.log, { now: ctx0.runtime.now }) : undefined;
  const ctx1 = glog === undefined ? ctx0 : ctxWithLog(ctx0, glog);
  // A bare ID is a job in the context's namespace.
  const refs = jobs.map((j) => (typeof j === 'string' ? { id: j, namespace: ctx1.nomad.client.namespace ?? 'default' } : j));
  try {
    const results = await mapLimit(refs, parallel, ({ id, namespace }) => {
      const ctx = inNamespace(ctx1, namespace);
      return runService(ctx, id, namespace, async () => {
        const live = await ctx.nomad.jobs.get(id);
        if (live === undefined) throw new GateError(`${id}: no such job; nothing to promote`);
        checkOwnership(id, opts.environment, ownershipOf(live, opts.environment), opts.forceOwner === true);
        const d = await ctx.nomad.jobs.latestDeployment(id);
        if (d === undefined) throw new GateError(`${id}: the job has no deployment; nothing to promote`);
        if (d.Status === 'successful') {
          return {
            outcome: 'successful',
            exitCode: 0,
            message: `deployment ${d.ID.slice(0, 8)} (version ${d.JobVersion}) already successful`,
            version: d.JobVersion,
            deploymentId: d.ID,
          };
        }
        const tracker = checkTracker(ctx, live);
        const bound = { ms: opts.timeoutMs ?? defaultTimeoutMs(live), given: opts.timeoutMs !== undefined };
        try {
          const outcome = await watchDeployment(ctx, d, {
            until: 'healthy',
            deadline: ctx.runtime.now() + bound.ms,
            heartbeatMs: opts.heartbeatMs ?? 30_000,
            ...(tracker === undefined ? {} : { checks: tracker }),
            ...(opts.signal === undefined ? {} : { signal: opts.signal }),
          });
          return await settle(ctx, id, outcome, tracker, bound);
        } finally {
          await tracker?.stop();
        }
      });
    });
    return { environment: opts.environment, results, exitCode: worstExitCode(results.map((r) => r.exitCode)) };
  } finally {
    glog?.flush();
  }
}
