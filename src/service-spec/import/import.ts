/**
 * `hashiship import`: existing Nomad jobs → service specs that render back to the
 * same jobs. Nomad parses and canonicalizes both the original and the rendering
 * (parse.ts); the typed keys carry what they can (lift.ts); every field that still
 * differs goes into the `nomad:` escape hatch of its job, group or task, and the
 * rendering is parsed again until nothing differs. The written spec is loaded and
 * validated like any other. Never prints; never writes (see write.ts).
 */
import { stringify } from 'yaml';
import { InputError, InternalError, type InputProblem } from '../../errors.js';
import { nomadApiSchema, resolveRef, type ApiSchemaNode } from '../../nomad/raw.js';
import { renderJob } from '../../nomad/render.js';
import { renderJobHcl } from '../../nomad/render-hcl.js';
import { formatDuration } from '../duration.js';
import { loadSet } from '../load.js';
import { standalone } from '../overlay.js';
import { comparable, describeDifferences, jobDifferences, rawPatch, sortedKeys } from './diff.js';
import { liftJob } from './lift.js';
import { parseSource, type JobParser, type JobSource } from './parse.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One field the import put in a `nomad:` block: its path in the spec. */
export interface RawField {
  /** e.g. `groups[0].tasks[0].nomad.Config.volumes`. */
  readonly path: string;
}

/** One imported job. */
export interface ImportedJob {
  /** The job ID, the spec's `name`. */
  readonly name: string;
  /** The file it came from. */
  readonly source: string;
  /** The spec (what the YAML holds). */
  readonly spec: Obj;
  /** The spec file's text. */
  readonly yaml: string;
  /** The fields carried by the escape hatch. */
  readonly raw: readonly RawField[];
  /**
   * The opt-outs of hashiship's policies the import wrote (`allow:`), each the
   * path of what it lets through and why the policy exists: a plain value under a
   * secret-looking name, a `latest` image, a class beside a jar.
   */
  readonly allowed: readonly string[];
  /** The job as Nomad parsed it (canonicalized). */
  readonly job: Obj;
}

/** Options of {@link importJob}. */
export interface ImportOptions {
  /** How many times a rendering is parsed and corrected at most. @default 4 */
  readonly rounds?: number;
}

const REASON = 'imported as is by hashiship import';

/** A raw block as people write it: durations as Go duration strings, only fields a job specification holds. */
function readable(node: ApiSchemaNode, v: unknown): unknown {
  if (v === null || v === undefined) return v;
  const s = resolveRef(node);
  if (s['x-duration'] === true && typeof v === 'number' && Number.isSafeInteger(v)) return formatDuration(v);
  if (Array.isArray(v)) return v.map((x: unknown) => readable(s.items ?? {}, x));
  if (isObj(v)) {
    // Free-form (driver config, scaling policy): keys sorted, as Nomad's JSON gives them in no fixed order.
    const ap = s.additionalProperties;
    if (s.properties === undefined && (ap === undefined || ap === false || Object.keys(ap).length === 0)) return sortedKeys(v);
    const out: Obj = {};
    // A map's keys (meta, env) in order too; a structure's fields in Nomad's order.
    for (const [k, x] of s.properties === undefined ? Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : Object.entries(v)) {
      // Fields a job specification cannot hold (server-set IDs and indexes) are Nomad's to fill in.
      if (s.properties !== undefined && s.properties[k]?.['x-hcl'] === undefined) continue;
      const prop = s.properties?.[k] ?? (s.additionalProperties === false ? undefined : s.additionalProperties);
      out[k] = prop === undefined ? x : readable(prop, x);
    }
    return out;
  }
  return v;
}

/** Deep merge of raw blocks (a later patch wins; nulls kept: they remove). */
function mergePatch(base: unknown, patch: Obj): Obj {
  const out: Obj = isObj(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(patch)) out[k] = isObj(v) && isObj(out[k]) ? mergePatch(out[k], v) : v;
  return out;
}

/** Leaf paths of a raw block, one level of maps deep past the field. */
function rawPaths(prefix: string, raw: unknown, out: RawField[]): void {
  if (!isObj(raw)) return;
  for (const [k, v] of Object.entries(raw)) {
    const p = `${prefix}.${k}`;
    if (isObj(v) && Object.keys(v).length > 0 && !prefix.endsWith('.Config')) rawPaths(p, v, out);
    else out.push({ path: p });
  }
}

/** What each opt-out the import writes lets through, for the line it prints. */
function allowedFields(spec: Obj): string[] {
  const out: string[] = [];
  (spec['groups'] as Obj[]).forEach((g, gi) =>
    (g['tasks'] as Obj[]).forEach((t, ti) => {
      const allow = t['allow'];
      if (!isObj(allow)) return;
      const at = `groups[${gi}].tasks[${ti}]`;
      if (isObj(allow['env']))
        for (const name of Object.keys(allow['env']))
          out.push(`${at}.env.${name} (a plain value under a secret-looking name: a secret belongs in Vault, see secrets:)`);
      if (allow['latest'] !== undefined) out.push(`${at}.image (the tag latest: the same spec may run different code)`);
      if (allow['jar_and_class'] !== undefined) out.push(`${at}.class (beside a jar: java -jar runs the jar's Main-Class)`);
    }),
  );
  return out;
}

function rawFields(spec: Obj): RawField[] {
  const out: RawField[] = [];
  rawPaths('nomad', spec['nomad'], out);
  (spec['groups'] as Obj[]).forEach((g, gi) => {
    rawPaths(`groups[${gi}].nomad`, g['nomad'], out);
    (g['tasks'] as Obj[]).forEach((t, ti) => rawPaths(`groups[${gi}].tasks[${ti}].nomad`, t['nomad'], out));
  });
  return out;
}

/** The spec as YAML, keys in the order of the format's reference, `nomad:` last. */
export function specYaml(spec: Obj, source: string): string {
  const body = stringify(spec, { lineWidth: 0, aliasDuplicateObjects: false });
  return `# yaml-language-server: $schema=../schema/service.schema.json\n# Imported from ${source.replace(/\n/g, ' ')} by hashiship import.\n${body}`;
}

/** The spec's place in the path of a problem: `groups[0].tasks[1].env.X` → segments. */
function segments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  // `a.b[0]["dotted.key"]`: names, indexes, and map keys that are not identifiers (quoted as JSON).
  for (const m of path.matchAll(/\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|([^.[\]]+)/g))
    out.push(m[1] !== undefined ? Number(m[1]) : m[2] !== undefined ? (JSON.parse(m[2]) as string) : m[3]!);
  return out;
}

/** Typed keys the import may leave to the escape hatch when the spec's rules refuse them. */
const DROPPABLE = new Set([
  'services',
  'templates',
  'artifacts',
  'meta',
  'constraints',
  'affinities',
  'spread',
  'update',
  'ports',
  'logs',
  'restart',
  'checks',
  'volumes',
  'mounts',
  'docker',
  'vault',
  'disconnect',
  'ui',
  'parameterized',
  'devices',
  'header',
  'canary_meta',
  'dispatch_payload',
  'csi_plugin',
  'dns',
]);

/** Whether every segment of a problem's path still leads somewhere in the spec. */
function resolves(spec: Obj, seg: readonly (string | number)[]): boolean {
  let v: unknown = spec;
  for (const s of seg) {
    if (!isObj(v) && !Array.isArray(v)) return false;
    v = (v as Record<string | number, unknown>)[s];
    if (v === undefined) return false;
  }
  return true;
}

/** String maps whose refused keys go to the escape hatch one by one. */
const MAP_KEYED = new Set(['env', 'meta']);

/** Keys whose every field is optional: a refused field under them is left to the escape hatch alone. */
const FIELD_DROPPABLE = new Set(['docker', 'vault', 'disconnect', 'ui', 'csi_plugin']);

/** The task a problem's subject names (`groups[i].tasks[j]…`, as segments). */
function taskAt(spec: Obj, seg: readonly (string | number)[]): Obj {
  return ((spec['groups'] as Obj[])[seg[1] as number]!['tasks'] as Obj[])[seg[3] as number]!;
}

/**
 * Make the typed spec pass the spec's rules: opt-outs (with a reason) for
 * `latest` images and secret-looking variables the job really has; any other
 * refused typed key is left to the escape hatch (exported for its unit tests).
 * @returns false when a problem cannot be repaired.
 */
export function repair(spec: Obj, problems: readonly InputProblem[]): boolean {
  let changed = false;
  for (const p of problems) {
    const seg = segments(p.subject);
    // groups[i].tasks[j].env.NAME: a secret-looking plain value the job has.
    if (seg[0] === 'groups' && seg[2] === 'tasks' && seg[4] === 'env' && typeof seg[5] === 'string' && /secret/.test(p.message)) {
      const t = taskAt(spec, seg);
      const allow = (t['allow'] ?? {}) as Obj;
      t['allow'] = { ...allow, env: { ...((allow['env'] as Obj | undefined) ?? {}), [seg[5]]: REASON } };
      changed = true;
      continue;
    }
    // groups[i].tasks[j].class (or class_path) beside a jar: the job runs it that way, so it is kept, with the opt-out.
    if (seg[0] === 'groups' && seg[2] === 'tasks' && seg.length === 5 && (seg[4] === 'class' || seg[4] === 'class_path') && /jar_and_class/.test(p.message)) {
      const t = taskAt(spec, seg);
      t['allow'] = { ...((t['allow'] ?? {}) as Obj), jar_and_class: REASON };
      changed = true;
      continue;
    }
    // A key of a string map (env, meta) the spec's rules refuse (`spring.profiles.active`, `runbook.url`): that key
    // alone is left to the escape hatch, where Nomad's map merges key by key.
    const last = seg[seg.length - 1];
    if (typeof last === 'string' && MAP_KEYED.has(String(seg[seg.length - 2])) && /^key `/.test(p.message)) {
      let parent: unknown = spec;
      for (const s of seg.slice(0, -1)) parent = isObj(parent) || Array.isArray(parent) ? (parent as Record<string | number, unknown>)[s] : undefined;
      if (isObj(parent) && last in parent) {
        delete parent[last];
        changed = true;
        continue;
      }
    }
    let dropped = false;
    // groups[i].tasks[j].docker.hostname: only that field goes.
    const holder = seg.findIndex((x) => typeof x === 'string' && FIELD_DROPPABLE.has(x));
    if (holder >= 0 && typeof seg[holder + 1] === 'string') {
      let parent: unknown = spec;
      for (const s of seg.slice(0, holder + 1)) parent = (parent as Record<string | number, unknown>)[s];
      if (isObj(parent) && (seg[holder + 1] as string) in parent) {
        delete parent[seg[holder + 1] as string];
        changed = true;
        continue;
      }
    }
    for (let i = seg.length - 1; i >= 0 && !dropped; i--) {
      const key = seg[i];
      if (typeof key !== 'string' || !DROPPABLE.has(key)) continue;
      let parent: unknown = spec;
      for (const s of seg.slice(0, i)) parent = (parent as Record<string | number, unknown>)[s];
      if (isObj(parent) && key in parent) {
        delete parent[key];
        // Mounts name volumes: both go together.
        if (key === 'volumes') for (const t of (parent['tasks'] as Obj[] | undefined) ?? []) delete t['mounts'];
        if (key === 'mounts' && seg[0] === 'groups') delete (spec['groups'] as Obj[])[seg[1] as number]!['volumes'];
        dropped = true;
        changed = true;
      }
    }
    // Under a key an earlier problem of this round already left to the escape hatch: nothing left to repair.
    if (!dropped && changed && !resolves(spec, seg)) continue;
    if (!dropped) return false;
  }
  return changed;
}

/** Where a group's block begins in an HCL job (`group "NAME"`), else the file's start. */
function groupAt(src: JobSource, name: string): { file: string; line: number; col: number } {
  return blockAt(src, 'group', name, 0) ?? { file: src.file, line: 1, col: 1 };
}

/** Where `task "<name>"` of a group starts in an HCL file: the first after the group's block; else the group's, else the file's start. */
function taskBlockAt(src: JobSource, group: string, name: string): { file: string; line: number; col: number } {
  const g = blockAt(src, 'group', group, 0);
  return g === undefined ? { file: src.file, line: 1, col: 1 } : (blockAt(src, 'task', name, g.index) ?? g);
}

/** The position (and offset) of the first `<kind> "<name>"` block opening at or after `from`, if any. */
function blockAt(src: JobSource, kind: string, name: string, from: number): { file: string; line: number; col: number; index: number } | undefined {
  const re = new RegExp(`^[ \\t]*${kind}[ \\t]+"${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`, 'gm');
  re.lastIndex = from;
  const m = re.exec(src.text);
  if (m === null) return undefined;
  return { file: src.file, line: src.text.slice(0, m.index).split('\n').length, col: m[0].length - m[0].trimStart().length + 1, index: m.index };
}

/**
 * A group without tasks: Nomad parses it but refuses the job when it is run or
 * validated ("Missing tasks for task group"), so there is nothing to import.
 * Placed at the group's block when the file is HCL.
 */
function groupWithoutTasks(src: JobSource, name: string): InputProblem {
  return {
    at: groupAt(src, name),
    subject: `group ${name}`,
    message: 'has no task: Nomad refuses such a job when it runs or validates it ("Missing tasks for task group"); give the group a task or leave it out',
  };
}

/**
 * A task's default workload identity (`identity { … }` without a name) as Nomad's
 * parser gives it back from an unnamed `identity` block: the escape hatch says it
 * as the first of `Identities` (api.Task.Identity has no HCL name of its own).
 */
function identityAsList(t: Readonly<Obj>): Obj {
  if (!isObj(t['Identity'])) return { ...t };
  const rest = Array.isArray(t['Identities']) ? (t['Identities'] as unknown[]) : [];
  return { ...t, Identity: null, Identities: [t['Identity'], ...rest] };
}

const JOB_OWNED = ['ID', 'TaskGroups'];
const GROUP_OWNED = ['Name', 'Tasks'];
const TASK_OWNED = ['Name'];

/** Typed keys a whole raw list replaces, per level: the typed key is then only noise. */
const SHADOWED: Readonly<Record<'job' | 'group' | 'task', readonly (readonly [raw: string, typed: string])[]>> = {
  job: [
    ['Constraints', 'constraints'],
    ['Affinities', 'affinities'],
    ['Spreads', 'spread'],
  ],
  group: [
    ['Services', 'services'],
    ['Constraints', 'constraints'],
    ['Affinities', 'affinities'],
    ['Spreads', 'spread'],
  ],
  task: [
    ['Templates', 'templates'],
    ['Constraints', 'constraints'],
  ],
};

/** The spec rendered as it is written (no Nomad involved); undefined when it does not validate. */
function renderLocal(spec: Obj, file: string, source: string): Obj | undefined {
  const set = loadSet([{ file, text: specYaml(spec, source), kind: 'service' }]);
  if (set.problems.length > 0 || set.services[0] === undefined) return undefined;
  return renderJob(standalone(set.services[0])) as unknown as Obj;
}

/** Every `[level, holder, renderedOf]` of a spec: the job, each group, each task. */
function levels(spec: Obj): { kind: 'job' | 'group' | 'task'; holder: Obj; rendered: (job: Obj) => Obj | undefined }[] {
  const out: { kind: 'job' | 'group' | 'task'; holder: Obj; rendered: (job: Obj) => Obj | undefined }[] = [{ kind: 'job', holder: spec, rendered: (j) => j }];
  (spec['groups'] as Obj[]).forEach((g, gi) => {
    const rg = (j: Obj) => ((j['TaskGroups'] as Obj[] | undefined) ?? [])[gi];
    out.push({ kind: 'group', holder: g, rendered: rg });
    (g['tasks'] as Obj[]).forEach((t, ti) => out.push({ kind: 'task', holder: t, rendered: (j) => ((rg(j)?.['Tasks'] as Obj[] | undefined) ?? [])[ti] }));
  });
  return out;
}

/**
 * The same spec, smaller: typed keys a raw list replaces whole are left out, and so
 * are raw `null`s that remove nothing hashiship renders any more. The result is
 * checked with Nomad by the caller.
 */
function tidy(spec: Obj, file: string, source: string): Obj {
  const raws = levels(spec).map((l) => l.holder['nomad']);
  if (!raws.some((r) => isObj(r) && Object.values(r).some((v) => v === null || Array.isArray(v)))) return spec;
  const out = structuredClone(spec);
  let shadowed = false;
  for (const l of levels(out)) {
    const raw = l.holder['nomad'];
    if (!isObj(raw)) continue;
    for (const [r, typed] of SHADOWED[l.kind]) {
      if (Array.isArray(raw[r]) && typed in l.holder) {
        delete l.holder[typed];
        shadowed = true;
      }
    }
  }
  if (shadowed && renderLocal(out, file, source) === undefined) return spec;
  // A null removes a rendered field; without the typed key behind it, there may be nothing left to remove.
  const plain = structuredClone(out);
  for (const l of levels(plain)) delete l.holder['nomad'];
  const bare = renderLocal(plain, file, source);
  if (bare === undefined) return out;
  const bareLevels = levels(plain);
  levels(out).forEach((l, i) => {
    const raw = l.holder['nomad'];
    if (!isObj(raw)) return;
    const under = bareLevels[i]!.rendered(bare);
    for (const [k, v] of Object.entries(raw)) if (v === null && (under === undefined || under[k] === undefined)) delete raw[k];
    if (Object.keys(raw).length === 0) delete l.holder['nomad'];
  });
  return out;
}

/**
 * Correct a spec until Nomad parses its rendering to `want`: typed problems are
 * repaired, differing fields go into `nomad:` blocks.
 * @returns the spec (changed in place).
 * @throws {InputError} when the spec's rules refuse what the job needs.
 * @throws {InternalError} when `rounds` corrections do not reach the job.
 */
async function converge(spec: Obj, want: Obj, src: JobSource, file: string, parser: JobParser, rounds: number): Promise<Obj> {
  for (let round = 0; round <= rounds; round++) {
    let set = loadSet([{ file, text: specYaml(spec, src.file), kind: 'service' }]);
    for (let i = 0; i < 20 && set.problems.length > 0; i++) {
      if (!repair(spec, set.problems)) break;
      set = loadSet([{ file, text: specYaml(spec, src.file), kind: 'service' }]);
    }
    if (set.problems.length > 0 || set.services[0] === undefined) {
      // At the task's or the group's block where the problem is in one (a name the spec refuses, a credential), else at the job.
      const groups = (want['TaskGroups'] as Obj[] | null) ?? [];
      const at = (subject: string) => {
        const g = /^groups\[(\d+)\](?:\.tasks\[(\d+)\])?/.exec(subject);
        const group = g === null ? undefined : groups[Number(g[1])];
        const name = group?.['Name'];
        if (typeof name !== 'string') return { file: src.file, line: 1, col: 1 };
        const task = g?.[2] === undefined ? undefined : ((group?.['Tasks'] as Obj[] | null) ?? [])[Number(g[2])]?.['Name'];
        return typeof task === 'string' ? taskBlockAt(src, name, task) : groupAt(src, name);
      };
      throw new InputError(set.problems.map((p) => ({ at: at(p.subject), subject: p.subject, message: `the imported spec cannot say this: ${p.message}` })));
    }
    const rendered = comparable(await parser.parse(renderJobHcl(renderJob(standalone(set.services[0])))));
    const diffs = jobDifferences(want, rendered);
    if (diffs.length === 0) return spec;
    if (round === rounds) {
      throw new InternalError(`import: ${src.file}: the rendered spec still differs from the job after ${rounds} corrections:\n${describeDifferences(diffs)}`);
    }
    const wantGroups = (want['TaskGroups'] as Obj[] | null) ?? [];
    const gotGroups = (rendered['TaskGroups'] as Obj[] | null) ?? [];
    if (wantGroups.length !== gotGroups.length)
      throw new InternalError(`import: ${src.file}: ${gotGroups.length} groups rendered, ${wantGroups.length} in the job`);
    // First corrections are compact (list items without what Nomad fills in anyway); later ones exact.
    const compact = round === 0;
    const jp = rawPatch(want, rendered, JOB_OWNED, compact);
    // The parser sets Periodic.SpecType from `crons`: nothing to write.
    if (jp !== undefined && isObj(jp['Periodic'])) delete jp['Periodic']['SpecType'];
    if (jp !== undefined) spec['nomad'] = mergePatch(spec['nomad'], readable({ $ref: '#/definitions/Job' }, jp) as Obj);
    wantGroups.forEach((wg, gi) => {
      const gg = gotGroups[gi]!;
      const g = (spec['groups'] as Obj[])[gi]!;
      const gp = rawPatch(wg, gg, GROUP_OWNED, compact);
      if (gp !== undefined) g['nomad'] = mergePatch(g['nomad'], readable({ $ref: '#/definitions/TaskGroup' }, gp) as Obj);
      const wt = (wg['Tasks'] as Obj[] | null) ?? [];
      const gt = (gg['Tasks'] as Obj[] | null) ?? [];
      wt.forEach((t, ti) => {
        const tp = gt[ti] === undefined ? undefined : rawPatch(identityAsList(t), identityAsList(gt[ti]), TASK_OWNED, compact);
        const st = (g['tasks'] as Obj[])[ti]!;
        if (tp !== undefined) st['nomad'] = mergePatch(st['nomad'], readable({ $ref: '#/definitions/Task' }, tp) as Obj);
      });
    });
  }
  throw new InternalError('import: unreachable');
}

/**
 * Import one job file: the smallest spec (typed keys, then `nomad:` blocks) whose
 * rendering Nomad parses to the same job as the file, ownership stamp aside.
 * @throws {InputError} when Nomad cannot parse the file, or the job cannot be carried (its place and why).
 * @throws {ServerError} when Nomad cannot be reached.
 */
export async function importJob(src: JobSource, parser: JobParser, opts: ImportOptions = {}): Promise<ImportedJob> {
  const job = await parseSource(src, parser);
  const id = String(job['ID'] ?? '');
  // A job whose name differs from its ID keeps its name in `nomad:` (the spec's `name` is the ID).
  // A Connect gateway group has no task: Nomad adds the gateway's task when it registers the job.
  const empty = ((job['TaskGroups'] as Obj[] | null) ?? []).filter(
    (g) =>
      (!Array.isArray(g['Tasks']) || g['Tasks'].length === 0) &&
      !((g['Services'] as Obj[] | null) ?? []).some((s) => isObj(s['Connect']) && isObj(s['Connect']['Gateway'])),
  );
  if (empty.length > 0) throw new InputError(empty.map((g) => groupWithoutTasks(src, String(g['Name'] ?? ''))));
  const lifted = liftJob(job);
  // Raw as a whole from the start (an untyped driver's config, a gateway's services): durations written as Go durations.
  for (const l of levels(lifted.spec)) {
    const raw = l.holder['nomad'];
    if (isObj(raw)) l.holder['nomad'] = readable({ $ref: `#/definitions/${l.kind === 'job' ? 'Job' : l.kind === 'group' ? 'TaskGroup' : 'Task'}` }, raw);
  }
  for (const l of lifted.latest) {
    const t = ((lifted.spec['groups'] as Obj[])[l.group]!['tasks'] as Obj[])[l.task]!;
    t['allow'] = { latest: REASON };
  }
  const file = `${id}.yaml`;
  const want = comparable(job);
  let spec = await converge(lifted.spec, want, src, file, parser, opts.rounds ?? 4);
  const smaller = tidy(spec, file, src.file);
  if (smaller !== spec && JSON.stringify(smaller) !== JSON.stringify(spec)) {
    // Kept only when Nomad agrees it is still the same job, without a further correction.
    spec = await converge(smaller, want, src, file, parser, 0).catch(() => spec);
  }
  return { name: id, source: src.file, spec, yaml: specYaml(spec, src.file), raw: rawFields(spec), allowed: allowedFields(spec), job };
}

/** The schema the raw blocks are checked against (for callers that show it). */
export const RawSchemaTitle = nomadApiSchema().title;
