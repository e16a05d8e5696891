/**
 * One job, one file per environment (`--env qa --env production`): the spec of
 * the first environment's job is the service file; what the others change goes
 * under `services.<name>` in their environment files, where an environment can
 * say it (namespace, datacenters, priority, meta, group counts, task resources,
 * variables, image tag or digest). Anything else that differs is refused by
 * path. Every environment's rendering is then checked against its job by Nomad.
 * Pure but for that check.
 */
import { isMap, parseDocument } from 'yaml';
import { InputError, type InputProblem } from '../../errors.js';
import { renderJob } from '../../nomad/render.js';
import { renderJobHcl } from '../../nomad/render-hcl.js';
import { loadSet, resolveEnvironment } from '../load.js';
import { describeDifferences, jobDifferences, sameValue } from './diff.js';
import type { ImportedJob } from './import.js';
import type { JobParser } from './parse.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** What the spec renders when a key is left out (so an environment can restore it). */
const DEFAULTS = { namespace: 'default', datacenters: ['*'], priority: 50, count: 1, cpu: 100, memory: 128 } as const;

function addedMap(base: unknown, other: unknown, path: string, problems: string[]): Obj | undefined {
  const b = isObj(base) ? base : {};
  const o = isObj(other) ? other : {};
  const out: Obj = {};
  for (const k of Object.keys(b)) if (!(k in o)) problems.push(`${path}.${k} (an environment adds or replaces entries, it cannot remove one)`);
  for (const [k, v] of Object.entries(o)) if (!sameValue(b[k], v)) out[k] = v;
  return Object.keys(out).length === 0 ? undefined : out;
}

function diffPaths(a: unknown, b: unknown, path: string, out: string[]): void {
  if (sameValue(a, b)) return;
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diffPaths(a[k], b[k], path === '' ? k : `${path}.${k}`, out);
  } else if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => diffPaths(x, b[i], `${path}[${i}]`, out));
  } else out.push(path === '' ? '(spec)' : path);
}

/**
 * The override of one environment: what `other` changes in `base`.
 * @returns the override, or the paths an environment file cannot change.
 */
export function environmentOverride(base: Readonly<Obj>, other: Readonly<Obj>): { override: Obj; problems: string[] } {
  const problems: string[] = [];
  const rest = clone(other) as Obj;
  const override: Obj = {};
  for (const key of ['namespace', 'datacenters', 'priority'] as const) {
    if (!sameValue(base[key], other[key])) override[key] = other[key] ?? DEFAULTS[key];
    if (base[key] === undefined) delete rest[key];
    else rest[key] = base[key];
  }
  const meta = addedMap(base['meta'], other['meta'], 'meta', problems);
  if (meta !== undefined) override['meta'] = meta;
  if (base['meta'] === undefined) delete rest['meta'];
  else rest['meta'] = base['meta'];
  const bg = (base['groups'] as Obj[] | undefined) ?? [];
  const og = (rest['groups'] as Obj[] | undefined) ?? [];
  const groups: Obj = {};
  og.forEach((g, gi) => {
    const b = bg[gi];
    if (b === undefined || b['name'] !== g['name']) return;
    const go: Obj = {};
    if (!sameValue(b['count'], g['count'])) go['count'] = g['count'] ?? DEFAULTS.count;
    if (b['count'] === undefined) delete g['count'];
    else g['count'] = b['count'];
    const tasks: Obj = {};
    const bt = (b['tasks'] as Obj[] | undefined) ?? [];
    ((g['tasks'] as Obj[] | undefined) ?? []).forEach((t, ti) => {
      const x = bt[ti];
      if (x === undefined || x['name'] !== t['name']) return;
      const to: Obj = {};
      const br = (x['resources'] ?? {}) as Obj;
      const or = (t['resources'] ?? {}) as Obj;
      const res: Obj = {};
      for (const k of ['cpu', 'memory', 'memory_max'] as const) {
        if (sameValue(br[k], or[k])) continue;
        if (or[k] === undefined && k === 'memory_max') problems.push(`groups.${String(g['name'])}.tasks.${String(t['name'])}.resources.memory_max`);
        res[k] = or[k] ?? DEFAULTS[k as 'cpu' | 'memory'];
      }
      if (Object.keys(res).length > 0) to['resources'] = res;
      if (x['resources'] === undefined) delete t['resources'];
      else t['resources'] = x['resources'];
      const env = addedMap(x['env'], t['env'], `groups.${String(g['name'])}.tasks.${String(t['name'])}.env`, problems);
      if (env !== undefined) to['env'] = env;
      if (x['env'] === undefined) delete t['env'];
      else t['env'] = x['env'];
      const bi = (x['image'] ?? {}) as Obj;
      const oi = (t['image'] ?? {}) as Obj;
      if (bi['repository'] === oi['repository'] && (!sameValue(bi['tag'], oi['tag']) || !sameValue(bi['digest'], oi['digest']))) {
        to['image'] = oi['digest'] !== undefined ? { digest: oi['digest'] } : { tag: oi['tag'] };
        if (bi['digest'] !== undefined && oi['digest'] === undefined) problems.push(`groups.${String(g['name'])}.tasks.${String(t['name'])}.image.digest`);
        t['image'] = x['image'];
      }
      if (Object.keys(to).length > 0) tasks[String(t['name'])] = to;
    });
    if (Object.keys(tasks).length > 0) go['tasks'] = tasks;
    if (Object.keys(go).length > 0) groups[String(g['name'])] = go;
  });
  if (Object.keys(groups).length > 0) override['groups'] = groups;
  const left: string[] = [];
  diffPaths(base, rest, '', left);
  return { override, problems: [...problems, ...left] };
}

/** The import of one job in several environments. */
export interface EnvironmentImport {
  readonly name: string;
  /** The service file's spec (the first environment's job). */
  readonly spec: Obj;
  /** Per environment, the `services.<name>` override (empty: nothing differs). */
  readonly overrides: Readonly<Record<string, Obj>>;
}

/**
 * Split one job imported once per environment into a spec and overrides.
 * @param jobs the job's imports, in the order of `environments`.
 * @throws {InputError} naming what differs where an environment file cannot change it.
 */
export function splitEnvironments(environments: readonly string[], jobs: readonly ImportedJob[]): EnvironmentImport {
  const base = jobs[0]!;
  const overrides: Record<string, Obj> = {};
  const problems: InputProblem[] = [];
  jobs.forEach((j, i) => {
    const env = environments[i]!;
    const { override, problems: paths } = environmentOverride(base.spec, j.spec);
    for (const p of paths) {
      problems.push({
        at: { file: j.source, line: 1, col: 1 },
        subject: p,
        message: `differs from ${base.source} (environment ${environments[0]!}), and an environment file cannot change it for ${env}; import the environments separately`,
      });
    }
    overrides[env] = override;
  });
  if (problems.length > 0) throw new InputError(problems);
  return { name: base.name, spec: base.spec, overrides };
}

/**
 * An environment file with `services.<name>` set for each import: the existing
 * text (comments kept) or a new file.
 * @throws {InputError} when the file already overrides one of the services (unless `force`).
 */
export function environmentText(env: string, file: string, existing: string | undefined, imports: readonly EnvironmentImport[], force: boolean): string {
  const doc = parseDocument(existing ?? `# yaml-language-server: $schema=../schema/environment.schema.json\nname: ${env}\n`);
  const problems: InputProblem[] = [];
  for (const imp of imports) {
    const o = imp.overrides[env] ?? {};
    const services = doc.get('services');
    if (!force && isMap(services) && services.has(imp.name)) {
      problems.push({ subject: `${file} services.${imp.name}`, message: 'already set; nothing was written (give --force to replace it)' });
      continue;
    }
    if (Object.keys(o).length === 0 && !(isMap(services) && services.has(imp.name))) continue;
    doc.setIn(['services', imp.name], doc.createNode(o));
  }
  if (problems.length > 0) throw new InputError(problems);
  return doc.toString({ lineWidth: 0 });
}

/**
 * Check that every environment renders its own job: the spec and the environment
 * files loaded as `hashiship render` loads them, the rendering parsed by Nomad.
 * @throws {InputError} with the differences when one does not.
 */
export async function verifyEnvironments(
  files: readonly { readonly file: string; readonly text: string; readonly kind: 'service' | 'environment' }[],
  expected: readonly { readonly env: string; readonly job: ImportedJob }[],
  parser: JobParser,
): Promise<void> {
  const set = loadSet(files);
  if (set.problems.length > 0) throw new InputError(set.problems);
  const problems: InputProblem[] = [];
  for (const { env, job } of expected) {
    const r = resolveEnvironment(set, env).find((x) => x.spec.name === job.name);
    if (r === undefined) continue;
    const parsed = await parser.parse(renderJobHcl(renderJob(r)));
    const diffs = jobDifferences(job.job, parsed);
    if (diffs.length > 0) {
      problems.push({
        at: { file: job.source, line: 1, col: 1 },
        subject: job.name,
        message: `with environment ${env} the spec renders another job (the environment file's own values apply to every service):\n${describeDifferences(diffs)}`,
      });
    }
  }
  if (problems.length > 0) throw new InputError(problems);
}
