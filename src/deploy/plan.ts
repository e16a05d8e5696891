/**
 * The plan: Nomad's plan API answer (diff, placement failures, modify index)
 * turned into a readable field-level diff and one machine-readable document.
 * Pure: the I/O lives in register.ts and deploy.ts. Every value that reaches
 * text or JSON passes through an {@link OutputRedactor}.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import type { AllocMetric } from '../nomad/evaluations.js';
import { ImageMeta } from '../nomad/render.js';
import type { FieldDiff, JobDiff, JobSpecLike, ObjectDiff, PlanResponse, TaskDiff, TaskGroupDiff } from '../nomad/jobs.js';
import { describePlacement } from './diagnose.js';
import type { OutputRedactor } from '../redact.js';
import type { Ownership, PreservedCount } from './register.js';

/** What registering a job would do. */
export type PlanAction = 'create' | 'update' | 'none';

/** The image a task will run. */
export interface TaskImage {
  readonly group: string;
  readonly task: string;
  /** The reference as the job has it (`registry/web:1.2` or `registry/web@sha256:…`). */
  readonly image: string;
  /** `sha256:…` when the reference pins a digest; undefined for a tag. */
  readonly digest?: string;
}

/** Groups that Nomad could not place, with the scheduler's reasons. */
export interface PlacementFailure {
  readonly group: string;
  /** How many allocations would not be placed. */
  readonly unplaced: number;
  /** `* Dimension "memory" exhausted on 1 nodes`, … */
  readonly reasons: readonly string[];
}

/** The plan of one job. */
export interface JobPlan {
  readonly id: string;
  /** The Nomad namespace the job is planned and registered in (absent in plans of hashiship before 0.2: `default`). */
  readonly namespace?: string;
  /** Where the job came from (a spec file, a job file). */
  readonly source: string;
  readonly action: PlanAction;
  /** The job's JobModifyIndex when planned (0: it does not exist); enforced on register. */
  readonly jobModifyIndex: number;
  /** The live job's version, when it exists. */
  readonly liveVersion?: number;
  /** sha256 of the job that would be registered: `deploy --plan` refuses any other. */
  readonly jobHash: string;
  readonly ownership: Ownership;
  readonly preservedCounts: readonly PreservedCount[];
  readonly images: readonly TaskImage[];
  readonly placementFailures: readonly PlacementFailure[];
  /** Scheduler updates per group: `{"web": {"create/destroy update": 2}}`. */
  readonly updates: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly warnings: readonly string[];
  /** Nomad's diff, redacted. */
  readonly diff: JobDiff | null;
  /** The diff as text lines, redacted. */
  readonly diffText: readonly string[];
  /** Why Nomad was not asked for a plan (the job's namespace does not exist yet): no diff, placement not checked. */
  readonly unplanned?: string;
}

/**
 * A job hashiship owns in the environment whose spec is gone. Listed in `stops`
 * (deploy stops it) only with `--prune`; otherwise in `kept` (nothing happens to it).
 */
export interface StopPlan {
  readonly id: string;
  /** The namespace of the job to stop (absent in older plans: `default`). */
  readonly namespace?: string;
  readonly jobModifyIndex: number;
  readonly reason: string;
}

/** A namespace the environment declares (`namespaces:`): created on deploy when missing, never changed or deleted. */
export interface NamespacePlan {
  readonly name: string;
  readonly description?: string;
  /** `create`: missing, deploy creates it; `none`: it exists (left as it is). */
  readonly action: 'create' | 'none';
}

/** The plan of an environment: `plan --json` prints it, `plan --out` saves it, `deploy --plan` applies it. */
export interface PlanDocument {
  readonly kind: 'hashiship.plan';
  readonly version: 1;
  readonly environment: string;
  /** ISO time of the plan. */
  readonly createdAt: string;
  /** The namespaces the environment declares, created before any job is registered (absent in older plans). */
  readonly namespaces?: readonly NamespacePlan[];
  readonly jobs: readonly JobPlan[];
  /** Jobs without a spec that deploy stops (`--prune`). */
  readonly stops: readonly StopPlan[];
  /** Jobs without a spec that stay running (no `--prune`); absent in plans saved before it existed. */
  readonly kept?: readonly StopPlan[];
  /** Why deploy refuses `stops` without `--force` ({@link pruneRefusal}); absent when it does not. */
  readonly pruneRefused?: string;
  readonly summary: {
    readonly create: number;
    readonly update: number;
    readonly unchanged: number;
    readonly stop: number;
    /** Jobs without a spec, kept. */
    readonly kept?: number;
  };
  /** True when applying would change anything (kept jobs change nothing). */
  readonly changes: boolean;
}

/**
 * How much `--prune` may stop in one run without `--force`: at most
 * {@link PruneLimit.jobs} job, and at most {@link PruneLimit.share} of the jobs
 * hashiship owns in the environment (those with a spec and those without).
 */
export const PruneLimit = { jobs: 1, share: 0.5 } as const;

/**
 * Why stopping `stops` of the `owned` jobs hashiship owns in an environment
 * exceeds {@link PruneLimit}; undefined when it does not.
 */
export function pruneRefusal(stops: number, owned: number, environment: string): string | undefined {
  if (stops === 0) return undefined;
  if (stops <= PruneLimit.jobs && stops <= owned * PruneLimit.share) return undefined;
  return `--prune would stop ${stops} of the ${owned} job${owned === 1 ? '' : 's'} hashiship owns in ${environment}; without --force it stops at most ${PruneLimit.jobs} job and at most half of them`;
}

/** A job by ID and namespace (absent: `default`); a plain string is an ID in `default`. */
export type JobRefLike = string | { readonly id: string; readonly namespace?: string };

/** What {@link orphanPlan} needs: all plain data. */
export interface OrphanInput {
  readonly environment: string;
  /** The jobs the inputs register. */
  readonly wanted: readonly JobRefLike[];
  /** The jobs hashiship owns in the environment now (running or pending), in any namespace. */
  readonly owned: readonly { readonly id: string; readonly namespace?: string; readonly jobModifyIndex: number }[];
  /** Stop the owned jobs that are not wanted. @default false */
  readonly prune?: boolean;
}

const refOf = (r: JobRefLike) => (typeof r === 'string' ? { id: r, namespace: 'default' } : { id: r.id, namespace: r.namespace ?? 'default' });
const refKey = (r: { id: string; namespace: string }) => `${r.namespace}\u0000${r.id}`;

/**
 * The jobs hashiship owns in an environment that the inputs (a whole
 * environment) no longer have — by ID and namespace, so a job whose spec moved
 * it to another namespace is an orphan in the old one — sorted by namespace and
 * ID: stops with `prune`, kept without; and why deploy refuses the stops without `--force`.
 */
export function orphanPlan(input: OrphanInput): { stops: StopPlan[]; kept: StopPlan[]; refused?: string } {
  const wanted = input.wanted.map(refOf);
  const wantedKeys = new Set(wanted.map(refKey));
  const orphans = input.owned
    .map((j) => ({ ...j, namespace: j.namespace ?? 'default' }))
    .filter((j) => !wantedKeys.has(refKey(j)))
    .sort((a, b) => (refKey(a) < refKey(b) ? -1 : refKey(a) > refKey(b) ? 1 : 0))
    .map((j) => {
      const moved = wanted.find((w) => w.id === j.id)?.namespace;
      const reason =
        moved === undefined
          ? `owned by hashiship in ${input.environment}; its spec was removed`
          : `owned by hashiship in ${input.environment}; its spec now puts it in namespace ${moved}`;
      return { id: j.id, namespace: j.namespace, jobModifyIndex: j.jobModifyIndex, reason };
    });
  if (input.prune !== true) return { stops: [], kept: orphans };
  const refused = pruneRefusal(orphans.length, input.owned.length, input.environment);
  return { stops: orphans, kept: [], ...(refused === undefined ? {} : { refused }) };
}

/**
 * Check the prune flags against the inputs, before any server is contacted.
 * @throws {InputError} for `--prune` without the whole environment or with no
 * job at all (an empty spec set never stops anything), and for `--force` without `--prune`.
 */
export function checkPruneInput(input: { readonly complete: boolean; readonly jobs: number; readonly prune?: boolean; readonly force?: boolean }): void {
  if (input.force === true && input.prune !== true) {
    throw new InputError([{ subject: '--force', message: 'only applies with --prune (it lifts the limit on how many jobs --prune stops)' }]);
  }
  if (input.prune !== true) return;
  if (!input.complete) {
    throw new InputError([
      { subject: '--prune', message: 'needs the whole environment: no service names and no --job files (only then is a job without a spec known)' },
    ]);
  }
  if (input.jobs === 0) {
    throw new InputError([{ subject: '--prune', message: 'the set of services is empty; --prune never stops every job of an environment (check --services)' }]);
  }
}

/** JSON with sorted keys at every level and without undefined: the input of {@link jobHash}. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** sha256 (hex) of a job's canonical JSON. */
export function jobHash(job: JobSpecLike): string {
  return createHash('sha256').update(canonicalJson(job)).digest('hex');
}

const DIGEST = /@(sha256:[0-9a-f]{64})$/;

/**
 * The images the tasks of a job run: a driver's `image` (docker), or for exec and
 * raw_exec tasks that run an image's layers the `hashiship_image` meta render stamps.
 */
export function imagesOf(job: JobSpecLike): TaskImage[] {
  const out: TaskImage[] = [];
  for (const g of job.TaskGroups ?? []) {
    for (const t of g.Tasks ?? []) {
      const image = t.Config?.['image'] ?? (t as { readonly Meta?: Readonly<Record<string, string>> | null }).Meta?.[ImageMeta];
      if (typeof image !== 'string') continue;
      const m = DIGEST.exec(image);
      out.push({ group: g.Name, task: t.Name, image, ...(m?.[1] === undefined ? {} : { digest: m[1] }) });
    }
  }
  return out;
}

/** The action a plan answer means. */
export function planAction(resp: PlanResponse, exists: boolean): PlanAction {
  if (!exists) return 'create';
  const type = resp.Diff?.Type ?? 'None';
  return type === 'None' ? 'none' : 'update';
}

/** Placement failures of a plan (or an evaluation), with the scheduler's reasons. */
export function placementFailures(failed: Readonly<Record<string, AllocMetric>> | null | undefined): PlacementFailure[] {
  return Object.keys(failed ?? {})
    .sort()
    .map((group) => {
      const m = failed![group]!;
      return { group, unplaced: (m.CoalescedFailures ?? 0) + 1, reasons: describePlacement(m) };
    });
}

// ---------------------------------------------------------------------------
// Diff text

/** One line of a line diff. */
export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly line: string;
}

/**
 * A line diff of two texts (longest common subsequence). Very large inputs
 * fall back to "all old lines removed, all new lines added".
 */
export function lineDiff(oldText: string, newText: string): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) return [...a.map((line) => ({ op: '-' as const, line })), ...b.map((line) => ({ op: '+' as const, line }))];
  // lcs[i][j]: LCS length of a[i..] and b[j..]
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', line: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ op: '-', line: a[i++]! });
    else out.push({ op: '+', line: b[j++]! });
  }
  while (i < n) out.push({ op: '-', line: a[i++]! });
  while (j < m) out.push({ op: '+', line: b[j++]! });
  return out;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Keep changed lines with `context` unchanged lines around them; longer runs
 * of unchanged lines become one `… N unchanged lines` marker.
 */
export function withContext(lines: readonly DiffLine[], context = 2): (DiffLine | { readonly op: '…'; readonly skipped: number })[] {
  const keep = lines.map(() => false);
  lines.forEach((l, i) => {
    if (l.op === ' ') return;
    for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k++) keep[k] = true;
  });
  const out: (DiffLine | { op: '…'; skipped: number })[] = [];
  let skipped = 0;
  lines.forEach((l, i) => {
    if (keep[i]) {
      if (skipped > 0) out.push({ op: '…', skipped });
      skipped = 0;
      out.push(l);
    } else skipped++;
  });
  if (skipped > 0) out.push({ op: '…', skipped });
  return out;
}

function marker(type: string): string {
  switch (type) {
    case 'Added':
      return '+';
    case 'Deleted':
      return '-';
    case 'Edited':
      return '+/-';
    default:
      return ' ';
  }
}

function q(s: string): string {
  return JSON.stringify(s);
}

interface DiffTextOptions {
  /** Expand added and deleted groups and tasks field by field. @default false */
  readonly verbose?: boolean;
}

function fieldLines(f: FieldDiff, path: string, indent: string, r: OutputRedactor): string[] {
  const name = `${path}.${f.Name}`;
  const oldV = r.value(name, f.Old);
  const newV = r.value(name, f.New);
  const notes = (f.Annotations ?? []).length > 0 ? ` (${(f.Annotations ?? []).join(', ')})` : '';
  const m = marker(f.Type);
  if ((oldV.includes('\n') || newV.includes('\n')) && f.Type !== 'None') {
    const out = [`${indent}${m} ${f.Name}:${notes}`];
    const body = f.Type === 'Added' ? lineDiff('', newV) : f.Type === 'Deleted' ? lineDiff(oldV, '') : lineDiff(oldV, newV);
    for (const l of withContext(body)) {
      out.push('skipped' in l ? `${indent}      … ${l.skipped} unchanged line${l.skipped === 1 ? '' : 's'}` : `${indent}    ${l.op} ${l.line}`);
    }
    return out;
  }
  const value = f.Type === 'Added' ? q(newV) : f.Type === 'Deleted' ? q(oldV) : f.Type === 'Edited' ? `${q(oldV)} => ${q(newV)}` : q(newV);
  return [`${indent}${m} ${f.Name}: ${value}${notes}`];
}

/** Unchanged fields shown inside a changed object because they say which object it is. */
const IDENTIFYING = new Set(['DestPath', 'Name', 'Label', 'PortLabel', 'GetterSource', 'RelativeDest', 'Destination', 'Volume', 'LTarget']);

function objectLines(o: ObjectDiff, path: string, indent: string, r: OutputRedactor): string[] {
  const p = `${path}.${o.Name}`;
  return [
    `${indent}${marker(o.Type)} ${o.Name} {`,
    ...(o.Fields ?? []).filter((f) => f.Type !== 'None' || IDENTIFYING.has(f.Name)).flatMap((f) => fieldLines(f, p, `${indent}  `, r)),
    ...(o.Objects ?? []).flatMap((x) => objectLines(x, p, `${indent}  `, r)),
    `${indent}${' '.repeat(marker(o.Type).length + 1)}}`,
  ];
}

function fieldsAndObjects(
  d: { readonly Fields?: readonly FieldDiff[] | null; readonly Objects?: readonly ObjectDiff[] | null },
  path: string,
  indent: string,
  r: OutputRedactor,
): string[] {
  return [
    ...(d.Fields ?? []).filter((f) => f.Type !== 'None').flatMap((f) => fieldLines(f, path, indent, r)),
    ...(d.Objects ?? []).filter((o) => o.Type !== 'None').flatMap((o) => objectLines(o, path, indent, r)),
  ];
}

function updatesText(updates: Readonly<Record<string, number>> | null | undefined): string {
  const entries = Object.entries(updates ?? {}).filter(([, n]) => n > 0);
  if (entries.length === 0) return '';
  return ` (${entries
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ')})`;
}

function taskLines(t: TaskDiff, path: string, indent: string, r: OutputRedactor, o: DiffTextOptions): string[] {
  const notes = (t.Annotations ?? []).length > 0 ? ` (${(t.Annotations ?? []).join(', ')})` : '';
  const head = `${indent}${marker(t.Type)} Task: ${q(t.Name)}${notes}`;
  if (t.Type === 'None' || ((t.Type === 'Added' || t.Type === 'Deleted') && o.verbose !== true)) return [head];
  return [head, ...fieldsAndObjects(t, `${path}.${t.Name}`, `${indent}  `, r)];
}

function groupLines(g: TaskGroupDiff, path: string, r: OutputRedactor, o: DiffTextOptions): string[] {
  const head = `${marker(g.Type)} Task Group: ${q(g.Name)}${updatesText(g.Updates)}`;
  const expand = g.Type === 'Edited' || o.verbose === true;
  return [
    head,
    ...(expand ? fieldsAndObjects(g, `${path}.${g.Name}`, '  ', r) : []),
    ...(g.Tasks ?? []).flatMap((t) => taskLines(t, `${path}.${g.Name}`, '  ', r, o)),
  ];
}

/**
 * Nomad's job diff as text, field by field (like `nomad job plan`), with
 * multi-line values (templates) shown as line diffs and every value redacted.
 */
export function diffText(diff: JobDiff | null | undefined, r: OutputRedactor, o: DiffTextOptions = {}): string[] {
  if (diff === null || diff === undefined) return [];
  const out = [`${marker(diff.Type)} Job: ${q(diff.ID)}`];
  if (diff.Type === 'Edited' || o.verbose === true) out.push(...fieldsAndObjects(diff, 'Job', '  ', r));
  for (const g of diff.TaskGroups ?? []) out.push(...groupLines(g, 'Job', r, o));
  return out.map((l) => l.trimEnd());
}

// ---------------------------------------------------------------------------
// The document

/** Everything {@link jobPlan} needs: the job to register, the live state, Nomad's answer. */
export interface JobPlanInput {
  readonly source: string;
  readonly job: JobSpecLike;
  readonly liveVersion?: number;
  readonly exists: boolean;
  readonly ownership: Ownership;
  readonly preservedCounts: readonly PreservedCount[];
  readonly response: PlanResponse;
  /** The namespace the job is planned in. */
  readonly namespace?: string;
  /** Why Nomad was not asked (then `response` is empty). */
  readonly unplanned?: string;
}

/** One job's plan from Nomad's answer; redacts the diff. */
export function jobPlan(input: JobPlanInput, r: OutputRedactor): JobPlan {
  const resp = input.response;
  const diff = resp.Diff ?? null;
  const updates: Record<string, Readonly<Record<string, number>>> = {};
  for (const g of diff?.TaskGroups ?? []) if (g.Updates !== undefined && g.Updates !== null) updates[g.Name] = g.Updates;
  return {
    id: input.job.ID,
    ...(input.namespace === undefined ? {} : { namespace: input.namespace }),
    source: input.source,
    action: planAction(resp, input.exists),
    jobModifyIndex: resp.JobModifyIndex ?? 0,
    ...(input.liveVersion === undefined ? {} : { liveVersion: input.liveVersion }),
    jobHash: jobHash(input.job),
    ownership: input.ownership,
    preservedCounts: input.preservedCounts,
    images: imagesOf(input.job),
    placementFailures: placementFailures(resp.FailedTGAllocs),
    updates,
    warnings: (resp.Warnings ?? '')
      .split('\n')
      .map((w) => w.trim())
      .filter((w) => w !== '')
      .map((w) => r.text(w)),
    diff: diff === null ? null : r.deep(diff),
    diffText: diffText(diff, r),
    ...(input.unplanned === undefined ? {} : { unplanned: input.unplanned }),
  };
}

/** Assemble the document of an environment; `orphans` comes from {@link orphanPlan}. */
export function planDocument(
  environment: string,
  jobs: readonly JobPlan[],
  stops: readonly StopPlan[],
  now: Date,
  extra: { readonly kept?: readonly StopPlan[]; readonly refused?: string; readonly namespaces?: readonly NamespacePlan[] } = {},
): PlanDocument {
  const kept = extra.kept ?? [];
  const namespaces = extra.namespaces ?? [];
  const summary = {
    create: jobs.filter((j) => j.action === 'create').length,
    update: jobs.filter((j) => j.action === 'update').length,
    unchanged: jobs.filter((j) => j.action === 'none').length,
    stop: stops.length,
    kept: kept.length,
  };
  return {
    kind: 'hashiship.plan',
    version: 1,
    environment,
    createdAt: now.toISOString(),
    namespaces,
    jobs,
    stops,
    kept,
    ...(extra.refused === undefined ? {} : { pruneRefused: extra.refused }),
    summary,
    changes: summary.create + summary.update + summary.stop + namespaces.filter((n) => n.action === 'create').length > 0,
  };
}

/** `plan`'s exit code: 0 no changes, 1 changes (the Nomad CLI's convention; 255 is for errors). */
export function planExitCode(doc: PlanDocument): 0 | 1 {
  return doc.changes ? 1 : 0;
}

function shortDigest(d: string): string {
  return d.length > 19 ? `${d.slice(0, 19)}…` : d;
}

/**
 * The whole plan as text for people; already redacted (every value went through
 * the redactor). Jobs without a spec come first: the stops, then the kept ones.
 */
export function formatPlan(doc: PlanDocument, r: OutputRedactor): string {
  const out: string[] = [];
  for (const n of doc.namespaces ?? []) {
    out.push(`namespace ${n.name}: ${n.action === 'create' ? `will be created${n.description === undefined ? '' : ` (${q(n.description)})`}` : 'exists'}`);
  }
  if ((doc.namespaces ?? []).length > 0) out.push('');
  const ns = (s: StopPlan) => (s.namespace === undefined ? '' : `namespace ${s.namespace}; `);
  for (const s of doc.stops) out.push(`${s.id}: will be STOPPED (--prune)  (${ns(s)}job modify index ${s.jobModifyIndex}; ${s.reason})`);
  if (doc.pruneRefused !== undefined) out.push(`  ! deploy refuses these stops (exit 6) unless --force: ${doc.pruneRefused}`);
  for (const k of doc.kept ?? []) out.push(`${k.id}: not in specs (kept; --prune to stop)  (${ns(k)}job modify index ${k.jobModifyIndex}; ${k.reason})`);
  if (doc.stops.length > 0 || (doc.kept ?? []).length > 0) out.push('');
  for (const j of doc.jobs) {
    const what = j.action === 'create' ? 'will be created' : j.action === 'update' ? `will be updated from version ${j.liveVersion ?? '?'}` : 'no changes';
    out.push(`${j.id}: ${what}  (${j.namespace === undefined ? '' : `namespace ${j.namespace}; `}job modify index ${j.jobModifyIndex}; ${j.source})`);
    if (j.ownership.status === 'foreign') {
      out.push(`  ! owned by someone else (${j.ownership.detail}): deploy refuses it (exit 6) unless --force-owner`);
    }
    if (j.action !== 'none') for (const l of j.diffText) out.push(`  ${l}`);
    for (const c of j.preservedCounts) {
      out.push(`  counts: group ${q(c.group)} keeps ${c.count} (spec says ${c.spec}; ${c.reason}); --reset-counts applies the spec`);
    }
    if (j.images.length === 0) out.push('  image: none (no task runs an image)');
    for (const i of j.images) {
      out.push(
        `  image: ${i.group}/${i.task}: ${i.digest === undefined ? `${i.image} (tag; digest not pinned)` : `${i.image.replace(DIGEST, '')}@${shortDigest(i.digest)}`}`,
      );
    }
    if (j.unplanned !== undefined) {
      out.push(`  placement: not checked (${j.unplanned})`);
    } else if (j.placementFailures.length === 0) {
      if (j.action !== 'none') out.push('  placement: all allocations can be placed');
    } else {
      for (const f of j.placementFailures) {
        out.push(`  placement: WARNING group ${q(f.group)}: ${f.unplaced} allocation${f.unplaced === 1 ? '' : 's'} cannot be placed`);
        for (const reason of f.reasons) out.push(`    ${reason}`);
      }
    }
    for (const w of j.warnings) out.push(`  warning: ${w}`);
    out.push('');
  }
  const s = doc.summary;
  const kept = s.kept ?? 0;
  const nsCreate = (doc.namespaces ?? []).filter((n) => n.action === 'create').length;
  out.push(
    `Plan for ${doc.environment}: ${nsCreate === 0 ? '' : `${nsCreate} namespace${nsCreate === 1 ? '' : 's'} to create, `}${s.create} to create, ${s.update} to update, ${s.stop} to stop, ${s.unchanged} unchanged${
      kept === 0 ? '' : `, ${kept} not in specs (kept)`
    }.`,
  );
  return r.text(`${out.join('\n')}\n`);
}
