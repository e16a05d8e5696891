/**
 * The escape hatch: `nomad:` blocks of a spec (job, group, task) hold raw Nomad
 * API fields, PascalCase as in `/v1/job`, deep-merged into the rendered job after
 * rendering. They are checked against the JSON Schema of the API structs of the
 * pinned Nomad (api-schema.json, generated from github.com/hashicorp/nomad/api by
 * scripts/nomad-api-schema), which also says how each field is written in HCL.
 * Pure.
 */
import { readFileSync } from 'node:fs';
import { parseDuration } from '../service-spec/duration.js';
import { suggest } from '../service-spec/suggest.js';

/** How jobspec2 spells a field: an attribute, a block, or the block's label. */
export interface HclName {
  readonly name: string;
  readonly kind: 'attr' | 'block' | 'label' | 'remain';
}

/** One node of the generated JSON Schema (the subset the generator writes). */
export interface ApiSchemaNode {
  /** Durations are `["integer", "string"]` (nanoseconds, or a Go duration in specs). */
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | readonly string[];
  readonly $ref?: string;
  readonly items?: ApiSchemaNode;
  readonly properties?: Readonly<Record<string, ApiSchemaNode>>;
  readonly additionalProperties?: ApiSchemaNode | false;
  readonly minimum?: number;
  readonly contentEncoding?: string;
  readonly 'x-go'?: string;
  readonly 'x-duration'?: boolean;
  readonly 'x-hcl'?: HclName;
}

/** The generated schema document. */
export interface ApiSchema {
  readonly title: string;
  readonly definitions: Readonly<Record<string, ApiSchemaNode>>;
}

let apiSchema: ApiSchema | undefined;

/**
 * The Nomad API schema of the pinned version, read when first needed: it is 125 KB,
 * and most specs have no `nomad:` block (rendering 1,000 of them never reads it).
 */
export function nomadApiSchema(): ApiSchema {
  return (apiSchema ??= JSON.parse(readFileSync(new URL('./api-schema.json', import.meta.url), 'utf8')) as ApiSchema);
}

/** The API structures a `nomad:` block merges into. */
export type RawLevel = 'Job' | 'TaskGroup' | 'Task';

/** Fields the spec itself owns at each level: identity and the lists the spec builds. */
const OWNED: Readonly<Record<RawLevel, Readonly<Record<string, string>>>> = {
  Job: {
    ID: "the job ID is the spec's `name`",
    TaskGroups: "groups come from `groups`; write a group's raw fields in that group's `nomad:` block",
  },
  TaskGroup: {
    Name: "the group name is the group's `name`",
    Tasks: "tasks come from `tasks`; write a task's raw fields in that task's `nomad:` block",
  },
  Task: { Name: "the task name is the task's `name`" },
};

/** One problem in a raw block: the path below the block (keys and indexes) and what is wrong. */
export interface RawProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** The definition a node stands for (following one `$ref`). */
export function resolveRef(node: ApiSchemaNode): ApiSchemaNode {
  if (node.$ref === undefined) return node;
  const name = node.$ref.slice(node.$ref.lastIndexOf('/') + 1);
  const def = nomadApiSchema().definitions[name];
  if (def === undefined) throw new Error(`nomad api schema: no definition ${name}`);
  return def;
}

/** The name of the definition a node refers to, if any. */
export function refName(node: ApiSchemaNode): string | undefined {
  return node.$ref === undefined ? undefined : node.$ref.slice(node.$ref.lastIndexOf('/') + 1);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isObj(v)) return 'a map';
  if (typeof v === 'string') return `the text ${JSON.stringify(v)}`;
  return `the ${typeof v} ${String(v)}`;
}

const EXPECTED: Record<'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean', string> = {
  object: 'a map',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
};

const NO_HCL = "has no form in Nomad's HCL (a list mixing maps, lists and values, or maps that are neither blocks nor one object value)";

/** An HCL identifier: what an attribute or block name may be. */
export const HCL_IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function objectValueOk(v: unknown): boolean {
  if (v === null) return false;
  if (Array.isArray(v)) return v.every((x) => x !== null && typeof x !== 'object');
  if (isObj(v)) return Object.values(v).every(objectValueOk);
  return true;
}

/**
 * How a list inside a free-form body (driver config, autoscaler policy) is written
 * so that Nomad's parser gives the same list back: scalars as a list attribute,
 * `{label: [body]}` items as labeled blocks, other maps as blocks, and one map
 * holding nested maps (or keys that are not identifiers) as an object attribute
 * (`labels = { … }`, which Nomad reads back as a one-item list).
 * @returns undefined when no HCL gives the list back.
 */
export function freeListForm(list: readonly unknown[]): 'scalars' | 'labeled' | 'blocks' | 'object' | undefined {
  if (list.every((x) => x !== null && typeof x !== 'object')) return 'scalars';
  if (!list.every(isObj)) return undefined;
  const objs = list as readonly Record<string, unknown>[];
  const labeled = objs.every((w) => {
    const keys = Object.keys(w);
    const inner = keys.length === 1 ? w[keys[0]!] : undefined;
    return Array.isArray(inner) && inner.length === 1 && isObj(inner[0]);
  });
  if (labeled) return 'labeled';
  const rawObject = (o: Record<string, unknown>) => Object.values(o).some(isObj);
  const blockList = (o: Record<string, unknown>) => Object.values(o).some((v) => Array.isArray(v) && v.some(isObj));
  const identKeys = (o: Record<string, unknown>) => Object.keys(o).every((k) => HCL_IDENT.test(k));
  if (objs.length === 1) {
    const o = objs[0]!;
    if (rawObject(o) || !identKeys(o)) return !blockList(o) && objectValueOk(o) ? 'object' : undefined;
    return 'blocks';
  }
  return objs.every((o) => identKeys(o) && !rawObject(o)) ? 'blocks' : undefined;
}

/** A free-form body as Nomad's parser gives it: a map value becomes a one-item list (`labels = {…}` → `[{…}]`). */
function normalizeBody(b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b)) {
    if (isObj(v)) out[k] = [v];
    else if (Array.isArray(v) && v.length > 0 && v.every(isObj)) out[k] = v.map((x: Record<string, unknown>) => normalizeBody(x));
    else out[k] = v;
  }
  return out;
}

/** Whether a (normalized) free-form body can be written as HCL that Nomad reads back the same. */
function checkBody(b: Record<string, unknown>, path: (string | number)[], out: RawProblem[]): void {
  for (const [k, v] of Object.entries(b)) {
    const p = [...path, k];
    if (v === null) continue;
    if (!HCL_IDENT.test(k)) {
      out.push({
        path: p,
        message: `\`${k}\` is not an HCL identifier, so it cannot name an attribute of a block; put it in a map value (an object attribute) instead`,
      });
      continue;
    }
    if (!Array.isArray(v)) continue;
    const form = freeListForm(v);
    if (form === undefined) out.push({ path: p, message: NO_HCL });
    else if (form === 'blocks') v.forEach((x, i) => checkBody(x as Record<string, unknown>, [...p, i], out));
    else if (form === 'labeled') {
      v.forEach((w, i) => {
        const label = Object.keys(w as Record<string, unknown>)[0]!;
        checkBody(((w as Record<string, unknown>)[label] as Record<string, unknown>[])[0]!, [...p, i, label, 0], out);
      });
    }
  }
}

/** Whether a node is the schema of any value (interface{}). */
function isAny(node: ApiSchemaNode | false | undefined): boolean {
  return node !== undefined && node !== false && node.$ref === undefined && node.type === undefined && node.properties === undefined;
}

function check(node: ApiSchemaNode, v: unknown, path: (string | number)[], out: RawProblem[]): void {
  const s = resolveRef(node);
  const where = refName(node) ?? s['x-go']?.replace(/^api\./, '');
  if (s.type === undefined && s.properties === undefined) return; // any value, checked with its body
  if (s['x-duration'] === true) {
    if (typeof v === 'string' && parseDuration(v) !== undefined) return;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return;
    out.push({ path, message: `expected a duration (nanoseconds, or a Go duration such as 30s), got ${describe(v)}` });
    return;
  }
  switch (s.type) {
    case 'string':
      if (typeof v !== 'string') out.push({ path, message: `expected a string, got ${describe(v)}` });
      return;
    case 'boolean':
      if (typeof v !== 'boolean') out.push({ path, message: `expected true or false, got ${describe(v)}` });
      return;
    case 'integer':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) out.push({ path, message: `expected an integer, got ${describe(v)}` });
      else if (s.minimum !== undefined && v < s.minimum) out.push({ path, message: `must be at least ${s.minimum} (got ${v})` });
      return;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) out.push({ path, message: `expected a number, got ${describe(v)}` });
      return;
    case 'array':
      if (!Array.isArray(v)) {
        out.push({ path, message: `expected ${EXPECTED.array}, got ${describe(v)}` });
        return;
      }
      v.forEach((item: unknown, i) => check(s.items ?? {}, item, [...path, i], out));
      return;
    case 'object':
    case undefined: {
      if (!isObj(v)) {
        out.push({ path, message: `expected ${EXPECTED.object}${where === undefined ? '' : ` (Nomad's api.${where})`}, got ${describe(v)}` });
        return;
      }
      for (const [k, item] of Object.entries(v)) {
        const p = [...path, k];
        if (s.properties !== undefined) {
          const prop = s.properties[k];
          if (prop === undefined) {
            const names = Object.keys(s.properties);
            const hint = suggest(k, names);
            out.push({ path: p, message: `unknown field \`${k}\` of Nomad's api.${where ?? '?'}${hint === undefined ? '' : `; did you mean \`${hint}\`?`}` });
            continue;
          }
          // null removes what hashiship rendered.
          if (item === null) continue;
          if (prop['x-hcl'] === undefined) {
            out.push({ path: p, message: `\`${k}\` has no form in Nomad's HCL job specification, so the rendered .nomad.hcl could not carry it` });
            continue;
          }
          check(prop, item, p, out);
        } else if (isAny(s.additionalProperties)) {
          // A free-form body (driver config, autoscaler policy): only its HCL form is checked.
          if (item !== null) checkBody(normalizeBody({ [k]: item }), path, out);
        } else if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
          if (item !== null) check(s.additionalProperties, item, p, out);
        }
      }
      return;
    }
  }
}

/**
 * Check a `nomad:` block against Nomad's api.<level>: unknown fields, wrong
 * types, fields the spec owns, fields Nomad's HCL cannot say.
 * @returns every problem, with its path below the block.
 */
export function checkRaw(level: RawLevel, raw: unknown): RawProblem[] {
  const out: RawProblem[] = [];
  if (!isObj(raw)) return [{ path: [], message: `expected a map of Nomad API fields (api.${level}), got ${describe(raw)}` }];
  const owned = OWNED[level];
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const why = owned[k];
    if (why !== undefined) out.push({ path: [k], message: `\`${k}\` cannot be set here: ${why}` });
    else rest[k] = v;
  }
  check({ $ref: `#/definitions/${level}` }, rest, [], out);
  if (level === 'Task') {
    checkIdentities(rest, out);
    checkTaskScaling(rest, out);
    checkRegistryAuth(rest, out);
  }
  return out;
}

/** Keys of a driver's `auth` block that carry a credential (docker's and podman's `password`, Docker's identity and registry tokens). */
const CREDENTIAL_KEY = /password|passwd|token|secret/i;

/**
 * A driver's `auth` block holding a password or a token stores registry
 * credentials in the job, readable by anyone who can read the job: refused, with
 * what keeps them on the clients instead (docs/spec.md, "Registry credentials").
 * An `auth` block without one (`server_address`, a helper's name) stays.
 */
function checkRegistryAuth(raw: Record<string, unknown>, out: RawProblem[]): void {
  const config = raw['Config'];
  const auth = isObj(config) ? config['auth'] : undefined;
  const blocks = Array.isArray(auth) ? auth : [auth];
  blocks.forEach((block: unknown, i) => {
    if (!isObj(block)) return;
    for (const key of Object.keys(block).filter((k) => CREDENTIAL_KEY.test(k))) {
      out.push({
        path: Array.isArray(auth) ? ['Config', 'auth', i, key] : ['Config', 'auth', key],
        message:
          'a registry credential does not go in a job, where anyone who can read the job reads it: configure it on the clients, in the docker plugin\'s `auth { config = "/etc/docker/config.json" }` or `auth { helper = "…" }` (docs/spec.md, Registry credentials)',
      });
    }
  });
}

/**
 * A task's `scaling "cpu"` / `scaling "mem"` block: its label is its `Type`
 * (vertical_cpu, vertical_mem), the only types Nomad's parser gives a task.
 */
function checkTaskScaling(raw: Record<string, unknown>, out: RawProblem[]): void {
  const list = raw['ScalingPolicies'];
  if (!Array.isArray(list)) return;
  list.forEach((item: unknown, i) => {
    if (isObj(item) && item['Type'] !== 'vertical_cpu' && item['Type'] !== 'vertical_mem')
      out.push({
        path: ['ScalingPolicies', i, 'Type'],
        message: `a task's scaling policy is \`scaling "cpu"\` or \`scaling "mem"\` in Nomad's job specification: set \`Type\` to vertical_cpu or vertical_mem, got ${describe(item['Type'])}`,
      });
  });
}

/** Whether an identity name is the task's default identity as Nomad's parser sees it (unnamed, or `default`). */
export function isDefaultIdentity(name: unknown): boolean {
  return name === undefined || name === null || name === '' || name === 'default';
}

/**
 * jobspec2 decodes every `identity` block of a task into Identities, then moves
 * the one without a name (or named `default`) into Identity. A raw Identity with
 * another name would come back elsewhere, and a task has one default identity.
 * A default identity written among Identities is moved into Identity when the
 * block is merged ({@link mergeRaw}), as Nomad's parser does.
 */
function checkIdentities(raw: Record<string, unknown>, out: RawProblem[]): void {
  const id = raw['Identity'];
  if (isObj(id) && !isDefaultIdentity(id['Name'])) {
    out.push({
      path: ['Identity', 'Name'],
      message: `\`Identity\` is the task's default identity: Nomad's parser reads it back only unnamed or named \`default\`; put an identity named ${JSON.stringify(id['Name'])} in \`Identities\``,
    });
  }
  const list = raw['Identities'];
  if (!Array.isArray(list)) return;
  let first: (string | number)[] | undefined = isObj(id) ? ['Identity'] : undefined;
  list.forEach((item: unknown, i) => {
    if (!isObj(item) || !isDefaultIdentity(item['Name'])) return;
    if (first === undefined) first = ['Identities', i];
    else
      out.push({
        path: ['Identities', i],
        message: `a task has one default identity (without a name, or named \`default\`), and ${first.join('.').replace(/\.(\d+)/g, '[$1]')} is already it; give this one a \`Name\``,
      });
  });
}

/** A task's default identity among its Identities moved into Identity, where Nomad's parser puts it. */
function defaultIdentityFirst(task: Record<string, unknown>): Record<string, unknown> {
  const list = task['Identities'];
  if (!Array.isArray(list)) return task;
  const i = list.findIndex((x: unknown) => isObj(x) && isDefaultIdentity(x['Name']));
  if (i < 0) return task;
  const rest = list.filter((_: unknown, j) => j !== i);
  const out: Record<string, unknown> = { ...task, Identity: list[i] };
  if (rest.length === 0) delete out['Identities'];
  else out['Identities'] = rest;
  return out;
}

/**
 * Problems of a free-form map (a driver or proxy `config`): keys HCL cannot
 * name, lists HCL cannot give back. Paths are below the map.
 */
export function checkFreeForm(v: unknown): RawProblem[] {
  if (!isObj(v)) return [{ path: [], message: `expected a map, got ${describe(v)}` }];
  const out: RawProblem[] = [];
  for (const [k, item] of Object.entries(v)) {
    if (item === null) out.push({ path: [k], message: 'expected a value, got null' });
    else checkBody(normalizeBody({ [k]: item }), [], out);
  }
  return out;
}

/** A free-form map in the shape Nomad's parser gives it back (a map value becomes a one-item list). */
export function freeForm(v: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return normalizeBody(v);
}

/** A checked raw value as API JSON: Go duration strings become nanoseconds. */
function normalize(node: ApiSchemaNode, v: unknown): unknown {
  if (v === null || v === undefined) return v;
  const s = resolveRef(node);
  if (s['x-duration'] === true) return typeof v === 'string' ? parseDuration(v) : v;
  if (Array.isArray(v)) return v.map((item: unknown) => normalize(s.items ?? {}, item));
  if (isObj(v) && isAny(s.additionalProperties)) return normalizeBody(v);
  if (isObj(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) {
      const prop = s.properties?.[k] ?? (s.additionalProperties === false ? undefined : s.additionalProperties);
      out[k] = prop === undefined ? item : normalize(prop, item);
    }
    return out;
  }
  return v;
}

/** Deep merge: maps merge key by key, `null` removes a key, anything else (lists included) replaces. */
function merge(base: unknown, raw: unknown): unknown {
  if (!isObj(raw)) return raw;
  const out: Record<string, unknown> = isObj(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

/**
 * Merge a checked `nomad:` block into a rendered API structure.
 * @returns a new structure; `rendered` is not changed.
 */
export function mergeRaw<T extends object>(level: RawLevel, rendered: T, raw: Readonly<Record<string, unknown>> | undefined): T {
  if (raw === undefined) return rendered;
  const merged = merge(rendered, normalize({ $ref: `#/definitions/${level}` }, raw)) as Record<string, unknown>;
  return (level === 'Task' ? defaultIdentityFirst(merged) : merged) as T;
}
