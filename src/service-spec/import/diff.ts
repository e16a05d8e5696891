/**
 * Field-by-field comparison of two Nomad jobs in API JSON, both canonicalized by
 * Nomad (`/v1/jobs/parse` with `Canonicalize: true`), and the raw `nomad:` blocks
 * that turn one into the other. The ownership stamp hashiship adds to every job
 * it renders (`hashiship_*` job meta) is not part of a job's meaning and is left
 * out. Pure.
 */
import { OwnershipMeta } from '../../nomad/job.js';

/** One field that differs: its path in the job and both values (undefined: absent). */
export interface FieldDifference {
  readonly path: string;
  readonly original: unknown;
  readonly rendered: unknown;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const STAMP = new Set<string>(Object.values(OwnershipMeta));

/**
 * A job as compared: the ownership stamp removed from its meta (an empty meta is
 * no meta), so an imported job and its rendering compare on what they mean.
 */
export function comparable(job: Readonly<Obj>): Obj {
  const meta = job['Meta'];
  if (!isObj(meta)) return { ...job };
  const rest: Obj = {};
  for (const [k, v] of Object.entries(meta)) if (!STAMP.has(k)) rest[k] = v;
  return { ...job, Meta: Object.keys(rest).length === 0 ? null : rest };
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Deep equality of JSON values; an absent field equals null. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (!present(a) || !present(b)) return !present(a) && !present(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x, b[i]));
  }
  if (isObj(a) || isObj(b)) {
    if (!isObj(a) || !isObj(b)) return false;
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (!sameValue(a[k], b[k])) return false;
    return true;
  }
  return a === b;
}

function walk(a: unknown, b: unknown, path: string, out: FieldDifference[]): void {
  if (sameValue(a, b)) return;
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => walk(x, b[i], `${path}[${i}]`, out));
    return;
  }
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) walk(a[k], b[k], path === '' ? k : `${path}.${k}`, out);
    return;
  }
  out.push({ path: path === '' ? '(job)' : path, original: a ?? undefined, rendered: b ?? undefined });
}

/**
 * Every field where two canonicalized jobs differ, ownership stamp excluded.
 * @returns an empty list when they mean the same job.
 */
export function jobDifferences(original: Readonly<Obj>, rendered: Readonly<Obj>): FieldDifference[] {
  const out: FieldDifference[] = [];
  walk(comparable(original), comparable(rendered), '', out);
  return out;
}

/** One line per difference: `path: original … rendered …`. */
export function describeDifferences(diffs: readonly FieldDifference[]): string {
  return diffs.map((d) => `${d.path}: original ${JSON.stringify(d.original) ?? '(absent)'}, rendered ${JSON.stringify(d.rendered) ?? '(absent)'}`).join('\n');
}

/**
 * The raw fields that make `rendered` into `original` under the escape hatch's
 * merge (maps merge key by key, `null` removes, anything else replaces), leaving
 * out `skip` (the fields the spec owns at this level).
 * @returns undefined when nothing differs.
 */
export function rawPatch(original: Readonly<Obj>, rendered: Readonly<Obj>, skip: readonly string[] = [], compact = false): Obj | undefined {
  const out: Obj = {};
  for (const k of new Set([...Object.keys(original), ...Object.keys(rendered)])) {
    if (skip.includes(k)) continue;
    const o = original[k];
    const r = rendered[k];
    if (sameValue(o, r)) continue;
    if (!present(o)) out[k] = null;
    else if (isObj(o) && isObj(r)) {
      const inner = rawPatch(o, r, [], compact);
      if (inner !== undefined) out[k] = inner;
    } else out[k] = compact ? compacted(o) : withoutNulls(o);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** A value with unset (null) fields left out: in a replaced value, null means nothing. */
export function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== null).map(withoutNulls);
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = withoutNulls(x);
    return out;
  }
  return v;
}

/**
 * Values Nomad gives a field of a list item (service, check, template, mount…)
 * that the item leaves unset: such fields can be left out of a replaced list.
 */
const UNSET_IS: Readonly<Record<string, unknown>> = {
  AddressMode: 'auto',
  OnUpdate: 'require_healthy',
  Provider: 'consul',
  Cluster: 'default',
  PropagationMode: 'private',
  ChangeMode: 'restart',
  Splay: 5e9,
  Perms: '0644',
  HostNetwork: 'default',
};

/** An empty object is not a zero value: `mesh {}` (a mesh gateway) or `sidecar_service {}` mean something. */
function zero(v: unknown): boolean {
  return v === null || v === undefined || v === '' || v === false || v === 0 || (Array.isArray(v) && v.length === 0);
}

/**
 * A replacement value with the fields of its list items that Nomad fills in the
 * same way anyway left out (zero values and Nomad's defaults). The import checks
 * the result with Nomad and falls back to the full value when it differs.
 */
export function compacted(v: unknown, inList = false): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== null).map((x) => compacted(x, true));
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      if (inList && (zero(x) || UNSET_IS[k] === x)) continue;
      if (x === null || x === undefined) continue;
      out[k] = compacted(x, inList);
    }
    return out;
  }
  return v;
}

/**
 * A free-form value (driver config, proxy config, scaling policy) with every map's
 * keys in order: Nomad's JSON gives them in no fixed order, and an import writes the
 * same spec every time. Lists keep their order: it is their meaning.
 */
export function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const k of Object.keys(v).sort()) out[k] = sortedKeys(v[k]);
  return out;
}
