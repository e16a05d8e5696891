/**
 * Job model (API JSON) → HCL2 nodes. One table per API structure says which
 * field becomes which attribute or block, so the HCL and the JSON cannot drift:
 * the HCL is derived from the JSON, and the integration tests parse it back with
 * Nomad and compare field by field.
 */
import { attr, block, formatHcl, isHclIdentifier, object, type HclNode, type HclScalar, type HclValue } from '../hcl/writer.js';
import type { Job } from './job.js';
import { freeListForm, nomadApiSchema, refName, resolveRef, type ApiSchemaNode } from './raw.js';
import { formatDuration } from '../service-spec/duration.js';

type Kind =
  /** A scalar or a list of scalars. */
  | { readonly kind: 'attr' }
  /** Nanoseconds written as a Go duration string. */
  | { readonly kind: 'duration' }
  /**
   * map[string]string as a block of attributes, keys sorted. `orObject`: Nomad's job
   * specification also takes `name = { … }` here, the form written when a key is not
   * an identifier (`"runbook.url"`: a block cannot hold a quoted name).
   */
  | { readonly kind: 'map'; readonly orObject?: true }
  /** One nested structure. */
  | { readonly kind: 'block'; readonly desc: Desc }
  /** A list of nested structures; `label` names the field that becomes the block label. */
  | { readonly kind: 'blocks'; readonly desc: Desc; readonly label?: string }
  /** map[string]struct whose keys become labels (`volume "data" {}`). */
  | { readonly kind: 'labeled'; readonly desc: Desc }
  /** map[string]interface{}: driver config, autoscaler policy. */
  | { readonly kind: 'free' }
  /** A NetworkResource's ports: dynamic and reserved both as `port "label"` blocks. */
  | { readonly kind: 'ports' }
  /** Set by Nomad's parser from other fields (PeriodicConfig.SpecType): nothing to write. */
  | { readonly kind: 'implied' };

type Field = Kind & { readonly field: string; readonly hcl: string };
type Desc = readonly Field[];

const a = (field: string, hcl: string): Field => ({ field, hcl, kind: 'attr' });
const d = (field: string, hcl: string): Field => ({ field, hcl, kind: 'duration' });
const m = (field: string, hcl: string): Field => ({ field, hcl, kind: 'map' });
const mo = (field: string, hcl: string): Field => ({ field, hcl, kind: 'map', orObject: true });
const b = (field: string, hcl: string, desc: Desc): Field => ({ field, hcl, kind: 'block', desc });
const bs = (field: string, hcl: string, desc: Desc, label?: string): Field =>
  label === undefined ? { field, hcl, kind: 'blocks', desc } : { field, hcl, kind: 'blocks', desc, label };

const CONSTRAINT: Desc = [a('LTarget', 'attribute'), a('Operand', 'operator'), a('RTarget', 'value')];
const AFFINITY: Desc = [...CONSTRAINT, a('Weight', 'weight')];
const SPREAD: Desc = [a('Attribute', 'attribute'), a('Weight', 'weight'), bs('SpreadTarget', 'target', [a('Percent', 'percent')], 'Value')];
const UPDATE: Desc = [
  a('MaxParallel', 'max_parallel'),
  a('Canary', 'canary'),
  a('HealthCheck', 'health_check'),
  d('MinHealthyTime', 'min_healthy_time'),
  d('HealthyDeadline', 'healthy_deadline'),
  d('ProgressDeadline', 'progress_deadline'),
  a('AutoRevert', 'auto_revert'),
  a('AutoPromote', 'auto_promote'),
  d('Stagger', 'stagger'),
];
const PERIODIC: Desc = [
  a('Specs', 'crons'),
  a('TimeZone', 'time_zone'),
  a('ProhibitOverlap', 'prohibit_overlap'),
  a('Enabled', 'enabled'),
  { field: 'SpecType', hcl: '', kind: 'implied' },
];
const RESTART: Desc = [a('Attempts', 'attempts'), d('Interval', 'interval'), d('Delay', 'delay'), a('Mode', 'mode')];
const RESCHEDULE: Desc = [
  a('Attempts', 'attempts'),
  d('Interval', 'interval'),
  d('Delay', 'delay'),
  a('DelayFunction', 'delay_function'),
  d('MaxDelay', 'max_delay'),
  a('Unlimited', 'unlimited'),
];
const MIGRATE: Desc = [
  a('MaxParallel', 'max_parallel'),
  a('HealthCheck', 'health_check'),
  d('MinHealthyTime', 'min_healthy_time'),
  d('HealthyDeadline', 'healthy_deadline'),
];
const EPHEMERAL_DISK: Desc = [a('SizeMB', 'size'), a('Sticky', 'sticky'), a('Migrate', 'migrate')];
const NETWORK: Desc = [a('Mode', 'mode'), { field: 'Ports', hcl: 'port', kind: 'ports' }];
const CHECK_RESTART: Desc = [a('Limit', 'limit'), d('Grace', 'grace'), a('IgnoreWarnings', 'ignore_warnings')];
const CHECK: Desc = [
  a('Name', 'name'),
  a('Type', 'type'),
  a('PortLabel', 'port'),
  a('Path', 'path'),
  a('Method', 'method'),
  a('Protocol', 'protocol'),
  a('Command', 'command'),
  a('Args', 'args'),
  a('TaskName', 'task'),
  a('GRPCService', 'grpc_service'),
  a('GRPCUseTLS', 'grpc_use_tls'),
  d('Interval', 'interval'),
  d('Timeout', 'timeout'),
  b('CheckRestart', 'check_restart', CHECK_RESTART),
];
const SERVICE: Desc = [
  a('Name', 'name'),
  a('PortLabel', 'port'),
  a('AddressMode', 'address_mode'),
  a('Provider', 'provider'),
  a('TaskName', 'task'),
  a('Tags', 'tags'),
  a('CanaryTags', 'canary_tags'),
  m('Meta', 'meta'),
  bs('Checks', 'check', CHECK),
];
const VOLUME: Desc = [
  a('Type', 'type'),
  a('Source', 'source'),
  a('ReadOnly', 'read_only'),
  a('AccessMode', 'access_mode'),
  a('AttachmentMode', 'attachment_mode'),
  a('PerAlloc', 'per_alloc'),
];
const SCALING: Desc = [a('Min', 'min'), a('Max', 'max'), a('Enabled', 'enabled'), a('Type', 'type'), { field: 'Policy', hcl: 'policy', kind: 'free' }];
const LIFECYCLE: Desc = [a('Hook', 'hook'), a('Sidecar', 'sidecar')];
const RESOURCES: Desc = [a('CPU', 'cpu'), a('MemoryMB', 'memory'), a('MemoryMaxMB', 'memory_max')];
const LOGS: Desc = [a('MaxFiles', 'max_files'), a('MaxFileSizeMB', 'max_file_size'), a('Disabled', 'disabled')];
const ARTIFACT: Desc = [a('GetterSource', 'source'), a('RelativeDest', 'destination'), a('GetterMode', 'mode'), m('GetterOptions', 'options')];
const TEMPLATE: Desc = [
  a('DestPath', 'destination'),
  a('Envvars', 'env'),
  a('ChangeMode', 'change_mode'),
  a('ChangeSignal', 'change_signal'),
  a('Perms', 'perms'),
  d('Splay', 'splay'),
  a('ErrMissingKey', 'error_on_missing_key'),
  a('EmbeddedTmpl', 'data'),
];
const VAULT: Desc = [a('Role', 'role'), a('Env', 'env'), a('DisableFile', 'disable_file'), a('ChangeMode', 'change_mode')];
const VOLUME_MOUNT: Desc = [a('Volume', 'volume'), a('Destination', 'destination'), a('ReadOnly', 'read_only')];
const TASK: Desc = [
  a('Driver', 'driver'),
  a('User', 'user'),
  d('KillTimeout', 'kill_timeout'),
  a('KillSignal', 'kill_signal'),
  a('Leader', 'leader'),
  b('Lifecycle', 'lifecycle', LIFECYCLE),
  { field: 'Config', hcl: 'config', kind: 'free' },
  mo('Env', 'env'),
  mo('Meta', 'meta'),
  bs('Artifacts', 'artifact', ARTIFACT),
  bs('Templates', 'template', TEMPLATE),
  b('Vault', 'vault', VAULT),
  bs('VolumeMounts', 'volume_mount', VOLUME_MOUNT),
  b('Resources', 'resources', RESOURCES),
  b('LogConfig', 'logs', LOGS),
  bs('Constraints', 'constraint', CONSTRAINT),
  bs('Affinities', 'affinity', AFFINITY),
];
const GROUP: Desc = [
  a('Count', 'count'),
  d('ShutdownDelay', 'shutdown_delay'),
  mo('Meta', 'meta'),
  bs('Constraints', 'constraint', CONSTRAINT),
  bs('Affinities', 'affinity', AFFINITY),
  bs('Spreads', 'spread', SPREAD),
  b('Update', 'update', UPDATE),
  b('Migrate', 'migrate', MIGRATE),
  b('RestartPolicy', 'restart', RESTART),
  b('ReschedulePolicy', 'reschedule', RESCHEDULE),
  b('EphemeralDisk', 'ephemeral_disk', EPHEMERAL_DISK),
  b('Scaling', 'scaling', SCALING),
  { field: 'Volumes', hcl: 'volume', kind: 'labeled', desc: VOLUME },
  bs('Networks', 'network', NETWORK),
  bs('Services', 'service', SERVICE),
  bs('Tasks', 'task', TASK, 'Name'),
];
const JOB: Desc = [
  a('Namespace', 'namespace'),
  a('Region', 'region'),
  a('Datacenters', 'datacenters'),
  a('NodePool', 'node_pool'),
  a('Type', 'type'),
  a('Priority', 'priority'),
  mo('Meta', 'meta'),
  b('Update', 'update', UPDATE),
  b('Migrate', 'migrate', MIGRATE),
  b('Periodic', 'periodic', PERIODIC),
  bs('Constraints', 'constraint', CONSTRAINT),
  bs('Affinities', 'affinity', AFFINITY),
  bs('Spreads', 'spread', SPREAD),
  bs('TaskGroups', 'group', GROUP, 'Name'),
];

/**
 * The API structure each table describes. Fields a table does not list (set
 * through the `nomad:` escape hatch) are written from the generated API schema:
 * its `x-hcl` says each field's HCL name and whether it is an attribute or a block.
 */
const DEFS = new Map<Desc, string>([
  [JOB, 'Job'],
  [GROUP, 'TaskGroup'],
  [TASK, 'Task'],
  [SERVICE, 'Service'],
  [CHECK, 'ServiceCheck'],
  [CHECK_RESTART, 'CheckRestart'],
  [UPDATE, 'UpdateStrategy'],
  [PERIODIC, 'PeriodicConfig'],
  [RESTART, 'RestartPolicy'],
  [RESCHEDULE, 'ReschedulePolicy'],
  [MIGRATE, 'MigrateStrategy'],
  [EPHEMERAL_DISK, 'EphemeralDisk'],
  [NETWORK, 'NetworkResource'],
  [VOLUME, 'VolumeRequest'],
  [SCALING, 'ScalingPolicy'],
  [LIFECYCLE, 'TaskLifecycle'],
  [RESOURCES, 'Resources'],
  [LOGS, 'LogConfig'],
  [ARTIFACT, 'TaskArtifact'],
  [TEMPLATE, 'Template'],
  [VAULT, 'Vault'],
  [VOLUME_MOUNT, 'VolumeMount'],
  [CONSTRAINT, 'Constraint'],
  [AFFINITY, 'Affinity'],
  [SPREAD, 'Spread'],
]);
const DESCS = new Map<string, Desc>([...DEFS].map(([desc, def]) => [def, desc]));

type Obj = Readonly<Record<string, unknown>>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): v is HclScalar {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function attrValue(path: string, v: unknown): HclValue {
  if (isScalar(v)) return v;
  if (Array.isArray(v) && v.every(isScalar)) return v as HclScalar[];
  throw new Error(`render-hcl: ${path} is not a scalar or a list of scalars`);
}

/** A free-form value as an attribute: scalars, scalar lists, and objects of those (`labels = { … }`). */
function freeValue(path: string, v: unknown): HclValue {
  if (isObj(v)) return object(Object.keys(v).map((k) => [k, freeValue(`${path}.${k}`, v[k])] as const));
  return attrValue(path, v);
}

/**
 * Free-form maps (driver config, autoscaler policy) in the shape Nomad's parser
 * gives them: scalars and scalar lists are attributes; a list of objects is a list
 * of labeled blocks, each `{label: [body]}`.
 */
function freeBody(path: string, v: Obj): HclNode[] {
  const attrs: HclNode[] = [];
  const blocks: HclNode[] = [];
  for (const key of Object.keys(v)) {
    const value = v[key];
    if (value === undefined) continue;
    if (Array.isArray(value) && value.length > 0 && value.every(isObj)) {
      const list = value as Obj[];
      switch (freeListForm(list)) {
        case 'labeled':
          for (const wrapper of list) {
            const label = Object.keys(wrapper)[0]!;
            blocks.push(block(key, [label], freeBody(`${path}.${key}`, (wrapper[label] as Obj[])[0]!)));
          }
          break;
        case 'blocks':
          // Unlabeled blocks (`logging { … }` parses to a list of bodies).
          list.forEach((item, i) => blocks.push(block(key, [], freeBody(`${path}.${key}[${i}]`, item))));
          break;
        case 'object':
          // `labels = { … }`: Nomad's parser gives a one-item list back.
          attrs.push(attr(key, freeValue(`${path}.${key}`, list[0])));
          break;
        default:
          throw new Error(`render-hcl: ${path}.${key} has no HCL form`);
      }
    } else {
      attrs.push(attr(key, freeValue(`${path}.${key}`, value)));
    }
  }
  return [...attrs, ...blocks];
}

/** The field of a definition that is its block's label (`task "web"`), if any. */
function labelField(def: ApiSchemaNode): string | undefined {
  return Object.entries(def.properties ?? {}).find(([, p]) => p['x-hcl']?.kind === 'label')?.[0];
}

/** One block of an API structure: through its table when it has one, else from the schema alone. */
function structBlock(type: string, node: ApiSchemaNode, path: string, v: unknown, label?: string): HclNode {
  if (!isObj(v)) throw new Error(`render-hcl: ${path} is not an object`);
  const name = refName(node);
  const def = resolveRef(node);
  const lf = labelField(def);
  const labels = label !== undefined ? [label] : lf === undefined ? [] : [String(v[lf])];
  const desc = name === undefined ? undefined : DESCS.get(name);
  return block(type, labels, desc === undefined ? body(path, [], v, lf, def) : body(path, desc, v, lf));
}

/**
 * The label of a block whose label is no struct field: a task's `scaling "cpu"` and
 * `scaling "mem"` (Nomad's parser sets `Type` to `vertical_cpu`, `vertical_mem` from it).
 */
function impliedLabel(items: ApiSchemaNode, path: string, v: unknown): string | undefined {
  if (refName(items) !== 'ScalingPolicy') return undefined;
  const type = isObj(v) ? v['Type'] : undefined;
  if (typeof type !== 'string' || !/^vertical_(?:cpu|mem)$/.test(type))
    throw new Error(`render-hcl: ${path}.Type: a task's scaling policy is vertical_cpu or vertical_mem, got ${JSON.stringify(type)}`);
  return type.slice('vertical_'.length);
}

/** A field the tables do not list, written as the API schema's `x-hcl` says. */
function schemaField(def: ApiSchemaNode, key: string, value: unknown, path: string, attrs: HclNode[], blocks: HclNode[]): void {
  const prop = def.properties?.[key];
  const h = prop?.['x-hcl'];
  if (prop === undefined || h === undefined) throw new Error(`render-hcl: ${path} has no form in Nomad's HCL job specification`);
  if (h.kind === 'label') return;
  const s = resolveRef(prop);
  if (s['x-duration'] === true) {
    if (typeof value !== 'number') throw new Error(`render-hcl: ${path} is not a number of nanoseconds`);
    attrs.push(attr(h.name, formatDuration(value)));
    return;
  }
  if (h.kind === 'attr') {
    attrs.push(attr(h.name, s.type === 'object' ? freeValue(path, value) : attrValue(path, value)));
    return;
  }
  if (prop.$ref !== undefined) {
    blocks.push(structBlock(h.name, prop, path, value));
  } else if (s.type === 'array') {
    if (!Array.isArray(value) || s.items?.$ref === undefined) throw new Error(`render-hcl: ${path} is not a list of blocks`);
    value.forEach((item: unknown, i) => blocks.push(structBlock(h.name, s.items!, `${path}[${i}]`, item, impliedLabel(s.items!, `${path}[${i}]`, item))));
  } else {
    if (!isObj(value)) throw new Error(`render-hcl: ${path} is not a map`);
    const ap = s.additionalProperties === false ? undefined : s.additionalProperties;
    if (ap?.$ref !== undefined) {
      for (const k of Object.keys(value).sort()) blocks.push(structBlock(h.name, ap, `${path}.${k}`, value[k], k));
    } else if (ap !== undefined && ap.type !== undefined) {
      blocks.push(
        block(
          h.name,
          [],
          Object.keys(value)
            .sort()
            .map((k) => attr(k, attrValue(`${path}.${k}`, value[k]))),
        ),
      );
    } else {
      blocks.push(block(h.name, [], freeBody(path, value)));
    }
  }
}

const listedCache = new WeakMap<Desc, ReadonlySet<string>>();

/** The API fields a table writes (computed once per table: `body` runs for every block of every job). */
function listedOf(desc: Desc): ReadonlySet<string> {
  let listed = listedCache.get(desc);
  if (listed === undefined) {
    listed = new Set(desc.flatMap((f) => (f.kind === 'ports' ? ['DynamicPorts', 'ReservedPorts'] : [f.field])));
    listedCache.set(desc, listed);
  }
  return listed;
}

const orderCache = new WeakMap<object, ReadonlyMap<string, number>>();
const NO_ORDER: ReadonlyMap<string, number> = new Map();

/** A schema's property names → their index, the order escape-hatch fields are written in. */
function orderOf(schema: ApiSchemaNode | undefined): ReadonlyMap<string, number> {
  if (schema === undefined) return NO_ORDER;
  let order = orderCache.get(schema);
  if (order === undefined) {
    order = new Map(Object.keys(schema.properties ?? {}).map((k, i) => [k, i]));
    orderCache.set(schema, order);
  }
  return order;
}

function body(path: string, desc: Desc, v: Obj, skip?: string, def?: ApiSchemaNode): HclNode[] {
  const attrs: HclNode[] = [];
  const blocks: HclNode[] = [];
  // Fields the table does not list come from the escape hatch: written from the API schema.
  const listed = listedOf(desc);
  const extra = Object.keys(v).filter((k) => !listed.has(k) && k !== skip && v[k] !== undefined);
  // Only a block with such fields needs the schema (most have none: the schema is then never read).
  const schema = def ?? (extra.length > 0 && DEFS.has(desc) ? nomadApiSchema().definitions[DEFS.get(desc)!] : undefined);
  if (extra.length > 1) {
    const order = orderOf(schema);
    extra.sort((x, y) => (order.get(x) ?? -1) - (order.get(y) ?? -1));
  }

  for (const f of desc) {
    if (f.field === skip) continue;
    const p = `${path}.${f.field}`;
    if (f.kind === 'ports') {
      const ports = [...((v['DynamicPorts'] as Obj[] | undefined) ?? []), ...((v['ReservedPorts'] as Obj[] | undefined) ?? [])];
      for (const port of ports) {
        const inner: HclNode[] = [];
        if (typeof port['Value'] === 'number' && port['Value'] > 0) inner.push(attr('static', port['Value']));
        if (typeof port['To'] === 'number' && port['To'] !== 0) inner.push(attr('to', port['To']));
        if (typeof port['HostNetwork'] === 'string' && port['HostNetwork'] !== '') inner.push(attr('host_network', port['HostNetwork']));
        blocks.push(block('port', [String(port['Label'])], inner));
      }
      continue;
    }
    const value = v[f.field];
    if (value === undefined) continue;
    switch (f.kind) {
      case 'attr':
        attrs.push(attr(f.hcl, attrValue(p, value)));
        break;
      case 'duration':
        if (typeof value !== 'number') throw new Error(`render-hcl: ${p} is not a number of nanoseconds`);
        attrs.push(attr(f.hcl, formatDuration(value)));
        break;
      case 'map': {
        if (!isObj(value)) throw new Error(`render-hcl: ${p} is not a map`);
        const keys = Object.keys(value).sort();
        if (f.orObject === true && !keys.every(isHclIdentifier)) {
          attrs.push(attr(f.hcl, object(keys.map((k) => [k, attrValue(`${p}.${k}`, value[k])] as const))));
          break;
        }
        blocks.push(
          block(
            f.hcl,
            [],
            keys.map((k) => attr(k, attrValue(`${p}.${k}`, value[k]))),
          ),
        );
        break;
      }
      case 'block':
        if (!isObj(value)) throw new Error(`render-hcl: ${p} is not an object`);
        blocks.push(block(f.hcl, [], body(p, f.desc, value)));
        break;
      case 'blocks':
        if (!Array.isArray(value)) throw new Error(`render-hcl: ${p} is not a list`);
        value.forEach((item: unknown, i) => {
          if (!isObj(item)) throw new Error(`render-hcl: ${p}[${i}] is not an object`);
          const labels = f.label === undefined ? [] : [String(item[f.label])];
          blocks.push(block(f.hcl, labels, body(`${p}[${i}]`, f.desc, item, f.label)));
        });
        break;
      case 'labeled':
        if (!isObj(value)) throw new Error(`render-hcl: ${p} is not a map`);
        for (const key of Object.keys(value).sort()) {
          const item = value[key];
          if (!isObj(item)) throw new Error(`render-hcl: ${p}.${key} is not an object`);
          blocks.push(block(f.hcl, [key], body(`${p}.${key}`, f.desc, item, 'Name')));
        }
        break;
      case 'free':
        if (!isObj(value)) throw new Error(`render-hcl: ${p} is not a map`);
        blocks.push(block(f.hcl, [], freeBody(p, value)));
        break;
      case 'implied':
        break;
    }
  }
  for (const k of extra) {
    if (schema === undefined) throw new Error(`render-hcl: ${path}.${k} is not a field hashiship can write`);
    schemaField(schema, k, v[k], `${path}.${k}`, attrs, blocks);
  }
  return [...attrs, ...blocks];
}

/** The HCL nodes of a job: one `job "<ID>"` block. */
export function jobToHcl(job: Job): HclNode[] {
  // The ID is the block label and the name an attribute when it differs.
  const { ID: _id, Name: _name, ...v } = job as unknown as Obj;
  const inner = body('Job', JOB, v);
  if (job.Name !== job.ID) inner.unshift(attr('name', job.Name));
  return [block('job', [job.ID], inner)];
}

/**
 * A job as `nomad fmt`-clean HCL2 text, ready for `nomad run`.
 * Pure and deterministic.
 */
export function renderJobHcl(job: Job): string {
  return formatHcl(jobToHcl(job));
}
