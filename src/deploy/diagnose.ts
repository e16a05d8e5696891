/**
 * Why a deployment failed, in a few lines: per failed allocation the task
 * events turned into a cause (driver failure, artifact download, failed health
 * check with the check's output, OOM, exit code or signal, restarts
 * exhausted), the scheduler's placement metrics, and the last lines of the
 * failing task's stderr. The pure parts ({@link causeOf}, {@link describePlacement},
 * {@link formatDiagnosis}) are separate from the reads ({@link diagnose}).
 */
import type { AllocationStub, Allocation, TaskEvent, TaskState } from '../nomad/allocations.js';
import type { Deployment } from '../nomad/deployments.js';
import type { AllocMetric, Evaluation } from '../nomad/evaluations.js';
import type { CheckRecord } from './checks.js';
import type { NomadApi } from './runtime.js';
import type { OutputRedactor } from '../redact.js';

/** The scheduler's placement metrics as `* …` lines (like `nomad job plan`). */
export function describePlacement(m: AllocMetric): string[] {
  const out: string[] = [];
  if ((m.NodesEvaluated ?? 0) === 0) out.push('* No nodes were eligible for evaluation');
  for (const [dc, n] of Object.entries(m.NodesAvailable ?? {}).sort()) {
    if (n === 0) out.push(`* No nodes are available in datacenter ${JSON.stringify(dc)}`);
  }
  for (const [cls, n] of Object.entries(m.ClassFiltered ?? {}).sort()) out.push(`* Class ${JSON.stringify(cls)}: ${n} nodes excluded by filter`);
  for (const [c, n] of Object.entries(m.ConstraintFiltered ?? {}).sort()) out.push(`* Constraint ${JSON.stringify(c)}: ${n} nodes excluded by filter`);
  if ((m.NodesExhausted ?? 0) > 0) out.push(`* Resources exhausted on ${m.NodesExhausted} nodes`);
  for (const [cls, n] of Object.entries(m.ClassExhausted ?? {}).sort()) out.push(`* Class ${JSON.stringify(cls)} exhausted on ${n} nodes`);
  for (const [dim, n] of Object.entries(m.DimensionExhausted ?? {}).sort()) out.push(`* Dimension ${JSON.stringify(dim)} exhausted on ${n} nodes`);
  for (const q of m.QuotaExhausted ?? []) out.push(`* Quota limit hit ${JSON.stringify(q)}`);
  return out;
}

/**
 * Whether freeing capacity can place a group: only when some node passed every
 * filter (driver, constraint, class, datacenter) and was then short of resources.
 */
export function capacityBound(m: AllocMetric): boolean {
  return (m.NodesExhausted ?? 0) > 0 || (m.QuotaExhausted ?? []).length > 0;
}

/**
 * The first note of a placement failure: what happens to the registered job. Nomad
 * keeps a blocked evaluation either way, but only an exhausted node can place it
 * later; a group that every node filtered out (a missing driver, a constraint) waits
 * for a node or a spec that does not come by itself.
 */
export function placementOutlook(evaluation: Pick<Evaluation, 'BlockedEval' | 'FailedTGAllocs'>): string {
  const blocked = evaluation.BlockedEval ? ` (blocked evaluation ${evaluation.BlockedEval.slice(0, 8)})` : '';
  const stuck = Object.entries(evaluation.FailedTGAllocs ?? {})
    .filter(([, m]) => !capacityBound(m))
    .map(([g]) => g)
    .sort();
  if (stuck.length === 0) return `The job stays registered; Nomad places it when capacity frees up${blocked}.`;
  return (
    `The job stays registered${blocked}, but no node can run group${stuck.length === 1 ? '' : 's'} ${stuck.join(', ')} as it stands: ` +
    'every node was filtered out (see Placement), so freeing capacity will not place it; add a node that has what the group needs or change the spec, then deploy again.'
  );
}

/**
 * `* Missing driver "docker" (task web): …` for a group the scheduler filtered out
 * for "missing drivers" (Nomad's metric does not name the driver): the drivers its
 * tasks use that no node reports detected and healthy.
 */
export function missingDrivers(
  tasks: readonly { readonly Name: string; readonly Driver?: string }[],
  nodes: readonly { readonly Name?: string; readonly Drivers?: Readonly<Record<string, { readonly Detected?: boolean; readonly Healthy?: boolean }>> | null }[],
): string[] {
  const healthy = (driver: string) => nodes.some((n) => n.Drivers?.[driver]?.Detected === true && n.Drivers[driver]?.Healthy === true);
  const out: string[] = [];
  for (const t of tasks) {
    if (t.Driver === undefined || healthy(t.Driver)) continue;
    const has = nodes.filter((n) => n.Drivers?.[t.Driver!]?.Detected === true).map((n) => n.Name ?? '?');
    out.push(
      `* Missing driver ${JSON.stringify(t.Driver)} (task ${t.Name}): ${has.length === 0 ? `no node has it (${nodes.length} nodes)` : `unhealthy on ${has.join(', ')}`}`,
    );
  }
  return out;
}

/** What made an allocation fail, from its task events and checks. */
export interface AllocCause {
  /** The task the cause belongs to (the one whose stderr to show). */
  readonly task?: string;
  /** One line: `health check "web" failed: HTTP GET …: 404 Not Found`. */
  readonly cause: string;
  /** Short supporting lines (event trail, check output). */
  readonly details: readonly string[];
}

function detail(e: TaskEvent, key: string, legacy: string | undefined): string | undefined {
  const v = e.Details?.[key];
  return v !== undefined && v !== '' ? v : legacy !== undefined && legacy !== '' ? legacy : undefined;
}

function last(events: readonly TaskEvent[], type: string): TaskEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.Type === type) return events[i];
  return undefined;
}

function exitText(e: TaskEvent): string {
  const code = Number(detail(e, 'exit_code', e.ExitCode === undefined ? undefined : String(e.ExitCode)) ?? '0');
  const signal = Number(detail(e, 'signal', e.Signal === undefined ? undefined : String(e.Signal)) ?? '0');
  const msg = detail(e, 'exit_message', e.Message);
  const parts = [signal !== 0 ? `killed by signal ${signal}${code !== 0 ? ` (exit code ${code})` : ''}` : `exited with code ${code}`];
  if (msg !== undefined) parts.push(JSON.stringify(msg));
  return parts.join(' ');
}

/** The event trail of a task, compactly: `Received → Started → Terminated (exit 3) → Not Restarting`. */
export function eventTrail(events: readonly TaskEvent[], max = 8): string {
  const names = events.map((e) => (e.Type === 'Terminated' ? `Terminated (${exitText(e)})` : e.Type));
  const shown = names.length > max ? ['…', ...names.slice(-max)] : names;
  return shown.join(' → ');
}

interface TaskCause {
  readonly rank: number;
  readonly cause: string;
  /** A supporting line (e.g. the check's response body). */
  readonly extra?: string;
}

function taskCause(name: string, state: TaskState, checks: readonly CheckRecord[], memoryMB: number | undefined): TaskCause | undefined {
  const events = state.Events ?? [];
  const driver = last(events, 'Driver Failure');
  if (driver !== undefined) {
    const text = detail(driver, 'driver_error', driver.DriverError) ?? driver.DisplayMessage ?? 'failed to start task';
    const pull = pullFailure(text);
    return { rank: 10, cause: pull === undefined ? `driver failure: ${text}` : describePull(pull) };
  }
  const artifact = last(events, 'Failed Artifact Download');
  if (artifact !== undefined) {
    return { rank: 10, cause: `artifact download failed: ${detail(artifact, 'download_error', artifact.DownloadError) ?? artifact.DisplayMessage ?? ''}` };
  }
  for (const type of ['Setup Failure', 'Failed Validation', 'Task hook failed']) {
    const e = last(events, type);
    if (e !== undefined) {
      const msg = detail(e, 'setup_error', e.SetupError) ?? detail(e, 'validation_error', e.ValidationError) ?? e.DisplayMessage ?? e.Message ?? '';
      return { rank: 9, cause: `task setup failed (${type}): ${msg}` };
    }
  }
  const terminated = last(events, 'Terminated');
  const oom = events.some((e) => e.Details?.['oom_killed'] === 'true');
  if (oom) return { rank: 9, cause: `OOM killed${memoryMB === undefined ? '' : ` (memory limit ${memoryMB} MB)`}` };
  const notRestarting = last(events, 'Not Restarting');
  if (notRestarting !== undefined) {
    const reason = detail(notRestarting, 'restart_reason', notRestarting.RestartReason) ?? notRestarting.DisplayMessage ?? '';
    const restarts = state.Restarts ?? 0;
    return {
      rank: 8,
      cause: `restarts exhausted after ${restarts} restart${restarts === 1 ? '' : 's'}${terminated === undefined ? '' : `: last run ${exitText(terminated)}`}${reason === '' ? '' : ` (${reason})`}`,
    };
  }
  const failingChecks = checks.filter((c) => c.status !== 'passing');
  const everFailed = checks.filter((c) => c.lastFailure !== undefined && c.lastFailure !== '');
  const unhealthy = last(events, 'Alloc Unhealthy');
  const bad = failingChecks.length > 0 ? failingChecks : unhealthy !== undefined ? everFailed : [];
  if (bad.length > 0) {
    const c = bad[0]!;
    const output = oneLine(c.lastFailure ?? c.output, 2000);
    // Consul's HTTP checks read `HTTP GET <url>: <status> Output: <body>`: the status is the cause, the body a detail.
    const at = output.indexOf(' Output: ');
    const head = at < 0 ? oneLine(output, 200) : output.slice(0, at);
    const body = at < 0 ? '' : oneLine(output.slice(at + ' Output: '.length), 160);
    return {
      rank: 7,
      cause: `health check ${JSON.stringify(c.check)} (service ${c.service}) failed${head === '' ? ' (Consul reported no output)' : `: ${head}`}`,
      ...(body === '' ? {} : { extra: `check output: ${body}` }),
    };
  }
  if (state.Failed && terminated !== undefined) return { rank: 6, cause: `task ${exitText(terminated)}` };
  if (unhealthy !== undefined) return { rank: 5, cause: `unhealthy: ${unhealthy.Message ?? unhealthy.DisplayMessage ?? ''}` };
  if (terminated !== undefined && state.State === 'dead') return { rank: 4, cause: `task ${exitText(terminated)}` };
  if (state.Failed) return { rank: 3, cause: `task ${name} failed` };
  return undefined;
}

/** A docker image pull that failed: the reference, its registry and the registry's (or engine's) answer. */
export interface PullFailure {
  readonly image: string;
  /** `host[:port]` of the registry (`docker.io` for a reference without one). */
  readonly registry: string;
  readonly answer: string;
  /** False when the registry could not be reached at all (refused, no such host, timeout). */
  readonly reached: boolean;
}

/**
 * The pull failure in a docker driver error (``Failed to pull `<image>`: <error>``,
 * Nomad's wording), or undefined when the error is something else.
 */
export function pullFailure(driverError: string): PullFailure | undefined {
  const m = /Failed to pull `([^`]+)`: ([\s\S]*)$/.exec(driverError);
  if (m === null) return undefined;
  const image = m[1]!;
  const first = image.split('/')[0] ?? '';
  const registry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
  const answer = oneLine(m[2]!.replace(/^(?:API error \(\d+\): )?(?:Error response from daemon: )?/, ''), 400);
  const reached = !/dial tcp|connection refused|no such host|i\/o timeout|network is unreachable|TLS handshake timeout/.test(answer);
  return { image, registry, answer, reached };
}

function describePull(p: PullFailure): string {
  return `image pull failed: ${p.image}: registry ${p.registry} ${p.reached ? 'answered' : 'could not be reached'}: ${p.answer}`;
}

function oneLine(s: string, max = 300): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/**
 * The cause of an allocation's failure: the most telling task event over all
 * tasks, or the health check that kept it unhealthy, with its output.
 */
export function causeOf(alloc: AllocationStub | Allocation, checks: readonly CheckRecord[] = []): AllocCause {
  const memory = new Map<string, number>();
  for (const g of (alloc as Allocation).Job?.TaskGroups ?? []) {
    if (g.Name !== alloc.TaskGroup) continue;
    for (const t of g.Tasks ?? []) if (typeof t.Resources?.MemoryMB === 'number') memory.set(t.Name, t.Resources.MemoryMB);
  }
  let best: { task: string; c: TaskCause } | undefined;
  const states = Object.entries(alloc.TaskStates ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [task, state] of states) {
    const c = taskCause(task, state, checks, memory.get(task));
    if (c !== undefined && (best === undefined || c.rank > best.c.rank)) best = { task, c };
  }
  const details: string[] = [];
  if (best !== undefined) {
    if (best.c.extra !== undefined) details.push(best.c.extra);
    const events = alloc.TaskStates?.[best.task]?.Events ?? [];
    if (events.length > 0) details.push(`events of task ${best.task}: ${eventTrail(events)}`);
    return { task: best.task, cause: best.c.cause, details };
  }
  // Nothing in the tasks: the health flag, or the client's description.
  const firstTask = states[0]?.[0];
  const healthy = alloc.DeploymentStatus?.Healthy;
  const cause =
    alloc.ClientStatus === 'pending'
      ? 'still pending when the deployment ended (not started by its deadline)'
      : healthy === false
        ? `unhealthy (${alloc.ClientDescription ?? alloc.ClientStatus})`
        : `${alloc.ClientStatus}${alloc.ClientDescription ? `: ${alloc.ClientDescription}` : ''}`;
  return { ...(firstTask === undefined ? {} : { task: firstTask }), cause, details };
}

/** True when an allocation counts as failed in a deployment. */
export function isFailedAlloc(a: AllocationStub): boolean {
  return (
    a.DeploymentStatus?.Healthy === false || a.ClientStatus === 'failed' || a.ClientStatus === 'lost' || Object.values(a.TaskStates ?? {}).some((s) => s.Failed)
  );
}

/** One failed allocation, explained. */
export interface FailedAllocation {
  readonly allocId: string;
  readonly group: string;
  readonly node?: string;
  readonly version: number;
  readonly canary: boolean;
  readonly cause: AllocCause;
  /** The last lines of the failing task's stderr (redacted); empty when there are none. */
  readonly stderr: readonly string[];
  /** Why stderr is missing, when it is. */
  readonly stderrNote?: string;
}

/** A failure explained. */
export interface Diagnosis {
  readonly job: string;
  /** One line: what failed and how it ended. */
  readonly headline: string;
  /** Outcome lines: the revert, the blocked evaluation, … */
  readonly notes: readonly string[];
  readonly allocations: readonly FailedAllocation[];
  /** Groups that could not be placed. */
  readonly placement: readonly { readonly group: string; readonly unplaced: number; readonly reasons: readonly string[] }[];
  /** How many failed allocations are not detailed. */
  readonly more: number;
}

/** Limits that keep a diagnosis on one screen. */
export const DiagnosisLimits = { stderrLines: 20, detailed: 1, listed: 4, reasons: 8 } as const;

/** The diagnosis as lines, at most about 45 of them (one screen). */
export function formatDiagnosis(d: Diagnosis): string[] {
  const out = [`Diagnosis of ${d.job}: ${d.headline}`];
  for (const n of d.notes) out.push(`  ${n}`);
  for (const p of d.placement) {
    out.push(`  Placement: group ${JSON.stringify(p.group)}: ${p.unplaced} allocation${p.unplaced === 1 ? '' : 's'} not placed`);
    for (const r of p.reasons.slice(0, DiagnosisLimits.reasons)) out.push(`    ${r}`);
    if (p.reasons.length > DiagnosisLimits.reasons) out.push(`    … ${p.reasons.length - DiagnosisLimits.reasons} more`);
  }
  d.allocations.forEach((a, i) => {
    const where = `group ${a.group}${a.canary ? ', canary' : ''}${a.node === undefined ? '' : `, node ${a.node}`}, version ${a.version}`;
    if (i < DiagnosisLimits.detailed) {
      out.push(`  Allocation ${a.allocId.slice(0, 8)} (${where})`);
      out.push(`    Cause: ${a.cause.cause}`);
      for (const x of a.cause.details) out.push(`    ${x}`);
      if (a.stderr.length > 0) {
        out.push(`    stderr of task ${a.cause.task ?? '?'} (last ${a.stderr.length} line${a.stderr.length === 1 ? '' : 's'}):`);
        for (const l of a.stderr) out.push(`      | ${l}`);
      } else if (a.stderrNote !== undefined) out.push(`    stderr: ${a.stderrNote}`);
    } else {
      out.push(`  Allocation ${a.allocId.slice(0, 8)} (${where}): ${a.cause.cause}`);
    }
  });
  if (d.more > 0) out.push(`  … and ${d.more} more failed allocation${d.more === 1 ? '' : 's'} (nomad alloc status <id>)`);
  return out;
}

/** The last `n` lines of a text, without the trailing newline, each cut to 200 characters. */
export function lastLines(text: string, n: number): string[] {
  const lines = text.replace(/\r/g, '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n).map((l) => (l.length > 200 ? `${l.slice(0, 200)}…` : l));
}

/** What {@link diagnose} explains. */
export interface DiagnoseInput {
  readonly job: string;
  readonly headline: string;
  readonly notes?: readonly string[];
  /** The failed deployment (its allocations are examined), if there was one. */
  readonly deployment?: Deployment;
  /** Allocations to examine when there is no deployment (or in addition). */
  readonly allocations?: readonly AllocationStub[];
  /** The evaluation with placement failures, if any. */
  readonly evaluation?: Evaluation;
  readonly checks?: (allocId: string) => readonly CheckRecord[];
}

/**
 * Read what explains a failure: the failed allocations (whole, with task events),
 * the failing task's stderr, and the placement metrics.
 * @throws {ServerError} only when Nomad cannot be reached for the allocations.
 */
export async function diagnose(api: NomadApi, input: DiagnoseInput, redactor: OutputRedactor): Promise<Diagnosis> {
  const placement: { readonly group: string; readonly unplaced: number; reasons: string[] }[] = Object.entries(input.evaluation?.FailedTGAllocs ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([group, m]) => ({ group, unplaced: (m.CoalescedFailures ?? 0) + 1, reasons: describePlacement(m) }));
  // Nomad's "missing drivers" filter does not say which: name it from the job and the nodes.
  const driverless = new Set(
    Object.entries(input.evaluation?.FailedTGAllocs ?? {})
      .filter(([, m]) => (m.ConstraintFiltered?.['missing drivers'] ?? 0) > 0)
      .map(([g]) => g),
  );
  if (driverless.size > 0) {
    const job = await api.jobs.get(input.job).catch(() => undefined);
    type NodeStub = { readonly Name?: string; readonly Drivers?: Readonly<Record<string, { readonly Detected?: boolean; readonly Healthy?: boolean }>> | null };
    const nodes = await api.client.request<NodeStub[]>('nodes.list', { path: '/v1/nodes', params: { resources: 'false' } }).then(
      (r) => r.data,
      () => undefined,
    );
    for (const p of placement) {
      const group = job?.TaskGroups?.find((g) => g.Name === p.group);
      if (!driverless.has(p.group) || group === undefined || nodes === undefined) continue;
      p.reasons = [...missingDrivers(group.Tasks ?? [], nodes), ...p.reasons];
    }
  }
  let stubs: AllocationStub[] = [...(input.allocations ?? [])];
  if (input.deployment !== undefined) {
    const fresh = (await api.deployments.allocations(input.deployment.ID)).data;
    const seen = new Set(fresh.map((a) => a.ID));
    stubs = [...fresh, ...stubs.filter((a) => !seen.has(a.ID))];
  }
  // Failed first (newest first), then any other allocation that never became healthy.
  const failed = stubs.filter(isFailedAlloc);
  const candidates = (failed.length > 0 ? failed : stubs.filter((a) => a.DeploymentStatus?.Healthy !== true && a.ClientStatus !== 'complete')).sort(
    (a, b) => b.CreateIndex - a.CreateIndex,
  );
  const shown = candidates.slice(0, DiagnosisLimits.detailed + DiagnosisLimits.listed);
  const allocations: FailedAllocation[] = [];
  for (const [i, stub] of shown.entries()) {
    const alloc = await api.allocations.get(stub.ID).catch(() => stub as Allocation);
    const cause = causeOf(alloc, input.checks?.(stub.ID) ?? []);
    let stderr: string[] = [];
    let stderrNote: string | undefined;
    if (i < DiagnosisLimits.detailed && cause.task !== undefined) {
      const text = await api.allocations.logTail(stub.ID, cause.task, 'stderr').catch(() => undefined);
      if (text === undefined) stderrNote = 'not available (the allocation was garbage-collected or never started)';
      else if (text.trim() === '') stderrNote = 'empty';
      else stderr = lastLines(redactor.text(text), DiagnosisLimits.stderrLines);
    }
    allocations.push({
      allocId: stub.ID,
      group: stub.TaskGroup,
      ...(stub.NodeName === undefined || stub.NodeName === '' ? {} : { node: stub.NodeName }),
      version: stub.JobVersion,
      canary: stub.DeploymentStatus?.Canary === true,
      cause: { ...cause, cause: redactor.text(cause.cause), details: cause.details.map((d) => redactor.text(d)) },
      stderr,
      ...(stderrNote === undefined ? {} : { stderrNote }),
    });
  }
  return {
    job: input.job,
    headline: redactor.text(input.headline),
    notes: (input.notes ?? []).map((n) => redactor.text(n)),
    allocations,
    placement,
    more: Math.max(0, candidates.length - shown.length),
  };
}
