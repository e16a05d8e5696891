/**
 * A Nomad job (API JSON, canonicalized by Nomad) → the typed part of a service
 * spec: every field the spec has a key for, written only where the job differs
 * from what the spec renders when the key is left out (hashiship's defaults, then
 * Nomad's). Where hashiship's defaults differ from Nomad's (auto_revert, canary
 * tags, memory, prohibit_overlap…) the job's value is written, so the spec means
 * the same job. What the typed keys cannot say is left to the `nomad:` blocks
 * (see import.ts). Pure.
 */
import { formatDuration } from '../duration.js';
import { compacted, sortedKeys } from './diff.js';
import { RenderDefaults } from '../../nomad/render.js';
import { OPERATORS } from '../schema.js';
import { defaultCheckName, jarPath, publishedPorts } from '../semantic.js';
import type { GroupSpec, TaskSpec } from '../types.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}

function list(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isObj(v) || Object.keys(v).length === 0) return undefined;
  if (!Object.values(v).every((x) => typeof x === 'string')) return undefined;
  const out: Record<string, string> = {};
  for (const k of Object.keys(v).sort()) out[k] = v[k] as string;
  return out;
}

/** A map attribute of a driver config as Nomad's parser gives it (a list of one object), as a map. */
function parsedMap(v: unknown): Record<string, string> | undefined {
  return Array.isArray(v) && v.length === 1 ? stringMap(v[0]) : stringMap(v);
}

/** A nested block of a driver config as Nomad's parser gives it (a list of one object). */
function parsedBlock(v: unknown): Obj | undefined {
  return Array.isArray(v) && v.length === 1 && isObj(v[0]) ? v[0] : isObj(v) ? v : undefined;
}

function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

/** A list of strings as written (an empty list stays empty: it says something). */
function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

function dur(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) ? formatDuration(v) : undefined;
}

/** Copy only entries that are set. */
function set(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

function nonEmpty(o: Obj): Obj | undefined {
  const s = set(o);
  return Object.keys(s).length === 0 ? undefined : s;
}

const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS);

function constraints(v: unknown): Obj[] | undefined {
  const cs = list(v);
  if (cs.length === 0 || !cs.every((c) => OPERATOR_SET.has(String(c['Operand'] ?? '=')))) return undefined;
  return cs.map((c) => {
    const op = str(c['Operand']) ?? '=';
    const value = str(c['RTarget']);
    return set({
      attribute: str(c['LTarget']),
      operator: op === '=' ? undefined : op,
      value: op === 'distinct_hosts' && value === 'true' ? undefined : value,
    });
  });
}

function affinities(v: unknown): Obj[] | undefined {
  const as = list(v);
  if (as.length === 0 || !as.every((a) => OPERATOR_SET.has(String(a['Operand'] ?? '=')) && str(a['LTarget']) !== undefined)) return undefined;
  return as.map((a) => {
    const op = str(a['Operand']) ?? '=';
    return set({
      attribute: str(a['LTarget']),
      operator: op === '=' ? undefined : op,
      value: String(a['RTarget'] ?? ''),
      weight: num(a['Weight']) === 50 ? undefined : num(a['Weight']),
    });
  });
}

function spreads(v: unknown): Obj[] | undefined {
  const ss = list(v);
  if (ss.length === 0) return undefined;
  return ss.map((s) => {
    const targets: Record<string, number> = {};
    for (const t of list(s['SpreadTarget'])) targets[String(t['Value'])] = num(t['Percent']) ?? 0;
    return set({
      attribute: str(s['Attribute']),
      weight: num(s['Weight']) === 50 ? undefined : num(s['Weight']),
      targets: Object.keys(targets).length === 0 ? undefined : targets,
    });
  });
}

/** `registry/repo:tag` or `repo@sha256:…` → the spec's image; undefined when it has no tag or digest. */
export function liftImage(ref: string): { image: Obj; latest: boolean } | undefined {
  const at = ref.indexOf('@');
  if (at > 0) {
    const digest = ref.slice(at + 1);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) return undefined;
    return { image: { repository: ref.slice(0, at), digest }, latest: false };
  }
  const colon = ref.lastIndexOf(':');
  if (colon <= ref.lastIndexOf('/')) return undefined;
  const tag = ref.slice(colon + 1);
  if (tag === '' || ref.slice(0, colon) === '') return undefined;
  return { image: { repository: ref.slice(0, colon), tag }, latest: tag === 'latest' };
}

const RESTART_DEFAULTS: Readonly<Record<string, Obj>> = {
  service: { Attempts: 2, Interval: 1800e9, Delay: 15e9, Mode: 'fail' },
  system: { Attempts: 2, Interval: 1800e9, Delay: 15e9, Mode: 'fail' },
  batch: { Attempts: 3, Interval: 86400e9, Delay: 15e9, Mode: 'fail' },
  sysbatch: { Attempts: 3, Interval: 86400e9, Delay: 15e9, Mode: 'fail' },
};

function restart(v: unknown, type: string): Obj | undefined {
  const r = obj(v);
  const d = RESTART_DEFAULTS[type] ?? {};
  const diff = (k: string) => (r[k] !== undefined && r[k] !== null && r[k] !== d[k] ? r[k] : undefined);
  const mode = diff('Mode');
  return nonEmpty({
    attempts: num(diff('Attempts')),
    interval: dur(diff('Interval')),
    delay: dur(diff('Delay')),
    mode: mode === 'fail' || mode === 'delay' ? mode : undefined,
  });
}

const RESCHEDULE_DEFAULTS: Readonly<Record<string, Obj>> = {
  service: { Attempts: 0, Interval: 0, Delay: 30e9, DelayFunction: 'exponential', MaxDelay: 3600e9, Unlimited: true },
  batch: { Attempts: 1, Interval: 86400e9, Delay: 5e9, DelayFunction: 'constant', MaxDelay: 0, Unlimited: false },
};

function reschedule(v: unknown, type: string): Obj | undefined {
  const r = obj(v);
  const d = RESCHEDULE_DEFAULTS[type];
  if (d === undefined) return undefined;
  const diff = (k: string) => (r[k] !== undefined && r[k] !== null && r[k] !== d[k] ? r[k] : undefined);
  const fn = diff('DelayFunction');
  return nonEmpty({
    attempts: num(diff('Attempts')),
    interval: dur(diff('Interval')),
    delay: dur(diff('Delay')),
    delay_function: fn === 'constant' || fn === 'exponential' || fn === 'fibonacci' ? fn : undefined,
    max_delay: dur(diff('MaxDelay')),
    unlimited: typeof diff('Unlimited') === 'boolean' ? diff('Unlimited') : undefined,
  });
}

/** Nomad's own update defaults: what a job-level `update` block (and `stagger`) leaves out. */
const NOMAD_UPDATE: Obj = {
  MaxParallel: 1,
  Canary: 0,
  HealthCheck: 'checks',
  MinHealthyTime: 10e9,
  HealthyDeadline: 300e9,
  ProgressDeadline: 600e9,
  AutoRevert: false,
  AutoPromote: false,
  Stagger: 30e9,
};

/** The API fields of an update block that differ from `base` (undefined: the field is not set or cannot be typed). */
function updateDiff(v: unknown, base: Obj): Obj {
  const u = obj(v);
  const out: Obj = {};
  for (const k of Object.keys(NOMAD_UPDATE)) if (u[k] !== undefined && u[k] !== null && u[k] !== base[k]) out[k] = u[k];
  return out;
}

/** An update block (API fields) as the spec's `update`. */
function update(diff: Obj): Obj | undefined {
  const hc = diff['HealthCheck'];
  return nonEmpty({
    max_parallel: num(diff['MaxParallel']),
    canary: num(diff['Canary']),
    health_check: hc === 'checks' || hc === 'task_states' || hc === 'manual' ? hc : undefined,
    min_healthy_time: dur(diff['MinHealthyTime']),
    healthy_deadline: dur(diff['HealthyDeadline']),
    progress_deadline: dur(diff['ProgressDeadline']),
    auto_revert: bool(diff['AutoRevert']),
    auto_promote: bool(diff['AutoPromote']),
    stagger: dur(diff['Stagger']),
  });
}

const MIGRATE_DEFAULTS: Obj = { MaxParallel: 1, HealthCheck: 'checks', MinHealthyTime: 10e9, HealthyDeadline: 300e9 };

/** The API fields a migrate block sets that differ from `base` (Nomad's defaults over the job's `migrate`, or nothing). */
function migrateDiff(v: unknown, base: Obj): Obj {
  const m = obj(v);
  const out: Obj = {};
  for (const k of Object.keys(MIGRATE_DEFAULTS)) if (m[k] !== undefined && m[k] !== null && m[k] !== base[k]) out[k] = m[k];
  return out;
}

/** A migrate block (API fields) as the spec's `migrate`. */
function migrate(diff: Obj): Obj | undefined {
  const hc = diff['HealthCheck'];
  return nonEmpty({
    max_parallel: num(diff['MaxParallel']),
    health_check: hc === 'checks' || hc === 'task_states' ? hc : undefined,
    min_healthy_time: dur(diff['MinHealthyTime']),
    healthy_deadline: dur(diff['HealthyDeadline']),
  });
}

const CHECK_TYPES = new Set(['http', 'tcp', 'grpc', 'script']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const ON_UPDATE = new Set(['ignore_warnings', 'ignore']);

/** Check headers (name → values), when every value is a list of strings. */
function header(v: unknown): Record<string, string[]> | undefined {
  if (!isObj(v) || Object.keys(v).length === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const k of Object.keys(v).sort()) {
    const vals = stringList(v[k]);
    if (vals === undefined) return undefined;
    out[k] = vals;
  }
  return out;
}

/**
 * A check as the spec says it. `owner`: the task of a task-level service (Nomad
 * fills in its checks' task itself).
 */
function check(c: Obj, serviceName: string, owner: string | undefined): Obj | undefined {
  const type = String(c['Type'] ?? '');
  if (!CHECK_TYPES.has(type)) return undefined;
  const name = str(c['Name']);
  const port = str(c['PortLabel']);
  const method = str(c['Method']);
  const protocol = str(c['Protocol']);
  const mode = str(c['AddressMode']);
  const onUpdate = str(c['OnUpdate']);
  const taskName = str(c['TaskName']);
  const cr = isObj(c['CheckRestart']) ? c['CheckRestart'] : undefined;
  return set({
    name: name === undefined || name === defaultCheckName(serviceName, { type: type as 'http' }) ? undefined : name,
    type,
    // Left out, the check has no port of its own (Nomad's default: the service's port).
    port,
    path: str(c['Path']),
    method: method !== undefined && METHODS.has(method) ? method : undefined,
    protocol: protocol === 'http' || protocol === 'https' ? protocol : undefined,
    header: header(c['Header']),
    body: str(c['Body']),
    tls_skip_verify: c['TLSSkipVerify'] === true ? true : undefined,
    command: str(c['Command']),
    args: strings(c['Args']),
    task: owner !== undefined ? (taskName === owner ? undefined : taskName) : type === 'script' ? taskName : undefined,
    grpc_service: str(c['GRPCService']),
    grpc_use_tls: c['GRPCUseTLS'] === true ? true : undefined,
    interval: c['Interval'] === RenderDefaults.checkInterval ? undefined : dur(c['Interval']),
    timeout: c['Timeout'] === RenderDefaults.checkTimeout ? undefined : dur(c['Timeout']),
    check_restart:
      cr === undefined
        ? undefined
        : set({
            limit: num(cr['Limit']) ?? 0,
            grace: cr['Grace'] === 0 ? undefined : dur(cr['Grace']),
            ignore_warnings: cr['IgnoreWarnings'] === true ? true : undefined,
          }),
    address_mode: mode === 'host' || mode === 'driver' || mode === 'alloc' ? mode : undefined,
    success_before_passing: int(c['SuccessBeforePassing']) === 0 ? undefined : int(c['SuccessBeforePassing']),
    failures_before_critical: int(c['FailuresBeforeCritical']) === 0 ? undefined : int(c['FailuresBeforeCritical']),
    expose: c['Expose'] === true ? true : undefined,
    on_update: onUpdate !== undefined && ON_UPDATE.has(onUpdate) ? onUpdate : undefined,
  });
}

/** A free-form map (proxy, upstream or sidecar task config) as Nomad parsed it; unset when empty. */
function freeMap(v: unknown): Obj | undefined {
  return isObj(v) && Object.keys(v).length > 0 ? (sortedKeys(v) as Obj) : undefined;
}

function posInt(v: unknown): number | undefined {
  const n = int(v);
  return n === undefined || n === 0 ? undefined : n;
}

/** A workload identity block (task `identity`), Nomad's zero values left out. */
function identity(i: Obj): Obj {
  const mode = str(i['ChangeMode']);
  const name = str(i['Name']);
  return set({
    name: name === 'default' ? undefined : name,
    aud: strings(i['Audience']),
    env: i['Env'] === true ? true : undefined,
    file: i['File'] === true ? true : undefined,
    filepath: str(i['Filepath']),
    ttl: num(i['TTL']) === 0 ? undefined : dur(i['TTL']),
    change_mode: mode === 'noop' || mode === 'restart' || mode === 'signal' ? mode : undefined,
    change_signal: str(i['ChangeSignal']),
  });
}

/** The task's identities: the default one (`Identity`) first, then the named ones. */
function identities(t: Obj): Obj[] | undefined {
  const out = [...(isObj(t['Identity']) ? [t['Identity']] : []), ...list(t['Identities'])].map(identity);
  return out.length === 0 ? undefined : out;
}

/** Nomad 1.11 `secret` blocks by name. */
function secretBlocks(v: unknown): Obj | undefined {
  const bs = list(v);
  if (bs.length === 0) return undefined;
  const out: Obj = {};
  for (const b of bs) {
    const name = str(b['Name']);
    if (name === undefined || out[name] !== undefined) return undefined;
    out[name] = set({ provider: str(b['Provider']) ?? '', path: str(b['Path']) ?? '', config: stringMap(b['Config']), env: stringMap(b['Env']) });
  }
  return out;
}

function upstream(u: Obj): Obj {
  const mg = obj(u['MeshGateway']);
  return set({
    destination_name: str(u['DestinationName']),
    destination_namespace: str(u['DestinationNamespace']),
    destination_peer: str(u['DestinationPeer']),
    destination_partition: str(u['DestinationPartition']),
    destination_type: str(u['DestinationType']),
    local_bind_port: posInt(u['LocalBindPort']),
    local_bind_address: str(u['LocalBindAddress']),
    datacenter: str(u['Datacenter']),
    mesh_gateway: str(mg['Mode']) === undefined ? undefined : { mode: str(mg['Mode']) },
    config: freeMap(u['Config']),
  });
}

function proxy(p: Obj): Obj | undefined {
  const ex = isObj(p['Expose']) ? list(p['Expose']['Paths']) : [];
  const tp = isObj(p['TransparentProxy']) ? p['TransparentProxy'] : undefined;
  const ups = list(p['Upstreams']);
  return nonEmpty({
    local_service_address: str(p['LocalServiceAddress']),
    local_service_port: posInt(p['LocalServicePort']),
    upstreams: ups.length === 0 ? undefined : ups.map(upstream),
    expose:
      ex.length === 0
        ? undefined
        : {
            paths: ex.map((x) =>
              set({ path: str(x['Path']), protocol: str(x['Protocol']), local_path_port: posInt(x['LocalPathPort']), listener_port: str(x['ListenerPort']) }),
            ),
          },
    transparent_proxy:
      tp === undefined
        ? undefined
        : set({
            uid: str(tp['UID']),
            outbound_port: posInt(tp['OutboundPort']),
            exclude_inbound_ports: strings(tp['ExcludeInboundPorts']),
            exclude_outbound_ports: Array.isArray(tp['ExcludeOutboundPorts']) && tp['ExcludeOutboundPorts'].length > 0 ? tp['ExcludeOutboundPorts'] : undefined,
            exclude_outbound_cidrs: strings(tp['ExcludeOutboundCIDRs']),
            exclude_uids: strings(tp['ExcludeUIDs']),
            no_dns: tp['NoDNS'] === true ? true : undefined,
          }),
    config: freeMap(p['Config']),
  });
}

/** Consul Connect as the spec says it (the reverse of the renderer's connectBlock). */
function connect(v: unknown): Obj | undefined {
  if (!isObj(v)) return undefined;
  const ss = isObj(v['SidecarService']) ? v['SidecarService'] : undefined;
  const st = isObj(v['SidecarTask']) ? v['SidecarTask'] : undefined;
  const res = st === undefined ? {} : obj(st['Resources']);
  const logs = st === undefined ? {} : obj(st['LogConfig']);
  return set({
    native: v['Native'] === true ? true : undefined,
    sidecar_service:
      ss === undefined
        ? undefined
        : set({
            port: str(ss['Port']),
            tags: strings(ss['Tags']),
            meta: stringMap(ss['Meta']),
            disable_default_tcp_check: ss['DisableDefaultTCPCheck'] === true ? true : undefined,
            proxy: isObj(ss['Proxy']) ? proxy(ss['Proxy']) : undefined,
          }),
    sidecar_task:
      st === undefined
        ? undefined
        : set({
            name: str(st['Name']),
            driver: str(st['Driver']),
            user: str(st['User']),
            config: freeMap(st['Config']),
            env: stringMap(st['Env']),
            resources: nonEmpty({
              cpu: posInt(res['CPU']),
              cores: posInt(res['Cores']),
              memory: posInt(res['MemoryMB']),
              memory_max: posInt(res['MemoryMaxMB']),
            }),
            meta: stringMap(st['Meta']),
            kill_timeout: dur(st['KillTimeout']),
            logs: nonEmpty({ max_files: posInt(logs['MaxFiles']), max_file_size: posInt(logs['MaxFileSizeMB']) }),
            shutdown_delay: dur(st['ShutdownDelay']),
            kill_signal: str(st['KillSignal']),
          }),
  });
}

/** A service's identity (Consul service identity tokens). */
function serviceIdentity(v: unknown): Obj | undefined {
  if (!isObj(v)) return undefined;
  return set({ aud: strings(v['Audience']), ttl: num(v['TTL']) === 0 ? undefined : dur(v['TTL']) });
}

/** A service registration; `owner`: the task of a task-level service. */
function service(s: Obj, job: string, canary: boolean, owner?: string): Obj {
  const name = str(s['Name']) ?? job;
  const tags = strings(s['Tags']);
  const canaryTags = strings(s['CanaryTags']);
  const checks = list(s['Checks']).map((c) => check(c, name, owner));
  const mode = str(s['AddressMode']);
  const onUpdate = str(s['OnUpdate']);
  const task = str(s['TaskName']);
  return set({
    name: name === job ? undefined : name,
    port: str(s['PortLabel']) ?? '',
    address_mode: mode === 'host' || mode === 'driver' || mode === 'alloc' ? mode : undefined,
    provider: str(s['Provider']) === 'nomad' ? 'nomad' : undefined,
    task: owner !== undefined && task === owner ? undefined : task,
    tags,
    // Nomad gives canaries the normal tags when canary_tags is empty; hashiship's default adds `canary`.
    canary_tags: canaryTags ?? (canary ? [] : undefined),
    meta: stringMap(s['Meta']),
    canary_meta: stringMap(s['CanaryMeta']),
    enable_tag_override: s['EnableTagOverride'] === true ? true : undefined,
    on_update: onUpdate !== undefined && ON_UPDATE.has(onUpdate) ? onUpdate : undefined,
    checks: checks.length === 0 || checks.some((c) => c === undefined) ? undefined : checks,
    connect: owner === undefined ? connect(s['Connect']) : undefined,
    identity: serviceIdentity(s['Identity']),
  });
}

function templates(v: unknown): Obj[] | undefined {
  const ts = list(v);
  if (ts.length === 0) return undefined;
  const out: Obj[] = [];
  for (const t of ts) {
    const dest = str(t['DestPath']);
    const data = str(t['EmbeddedTmpl']);
    const source = str(t['SourcePath']);
    if (dest === undefined || (data === undefined) === (source === undefined)) return undefined;
    const mode = str(t['ChangeMode']) ?? 'restart';
    if (!['restart', 'signal', 'noop'].includes(mode)) return undefined;
    const wait = isObj(t['Wait']) ? t['Wait'] : undefined;
    const splay = t['Splay'];
    out.push(
      set({
        destination: dest,
        data,
        source,
        env: t['Envvars'] === true ? true : undefined,
        change_mode: mode === 'restart' ? undefined : mode,
        change_signal: mode === 'signal' ? str(t['ChangeSignal']) : undefined,
        perms: str(t['Perms']) === '0644' ? undefined : str(t['Perms']),
        uid: int(t['Uid']),
        gid: int(t['Gid']),
        splay: splay === RenderDefaults.templateSplay ? undefined : dur(splay),
        wait: wait === undefined ? undefined : nonEmpty({ min: dur(wait['Min']), max: dur(wait['Max']) }),
        once: t['Once'] === true ? true : undefined,
        error_on_missing_key: t['ErrMissingKey'] === true ? true : undefined,
      }),
    );
  }
  return out;
}

function artifact(a: Obj): Obj {
  const mode = str(a['GetterMode']);
  return set({
    source: str(a['GetterSource']),
    // Nomad fills in `local/` for an artifact without a destination, but `local/<file name>` in file mode.
    destination: str(a['RelativeDest']) === 'local/' && mode !== 'file' ? undefined : str(a['RelativeDest']),
    mode: mode === 'file' || mode === 'dir' ? mode : undefined,
    options: stringMap(a['GetterOptions']),
    headers: stringMap(a['GetterHeaders']),
    chown: a['Chown'] === true ? true : undefined,
  });
}

/** A docker mount from the `mount` blocks of a docker config. */
function dockerMount(m: Obj): Obj {
  const vo = parsedBlock(m['volume_options']);
  const dc = vo === undefined ? undefined : parsedBlock(vo['driver_config']);
  const bo = parsedBlock(m['bind_options']);
  const to = parsedBlock(m['tmpfs_options']);
  return set({
    type: str(m['type']),
    target: str(m['target']),
    source: str(m['source']),
    readonly: bool(m['readonly']),
    bind_options: bo === undefined ? undefined : set({ propagation: str(bo['propagation']) }),
    volume_options:
      vo === undefined
        ? undefined
        : set({
            no_copy: bool(vo['no_copy']),
            labels: parsedMap(vo['labels']),
            driver_config: dc === undefined ? undefined : set({ name: str(dc['name']), options: parsedMap(dc['options']) }),
          }),
    tmpfs_options: to === undefined ? undefined : set({ size: int(to['size']), mode: int(to['mode']) }),
  });
}

/** The docker driver options the spec types (`docker:`); the rest of the config is left to `nomad:`. */
function docker(config: Obj): Obj | undefined {
  const logging = parsedBlock(config['logging']);
  const devices = Array.isArray(config['devices']) ? list(config['devices']) : undefined;
  const mounts = Array.isArray(config['mount']) ? list(config['mount']) : undefined;
  return nonEmpty({
    entrypoint: stringList(config['entrypoint']),
    work_dir: str(config['work_dir']),
    hostname: str(config['hostname']),
    network_mode: str(config['network_mode']),
    privileged: bool(config['privileged']),
    cap_add: stringList(config['cap_add']),
    cap_drop: stringList(config['cap_drop']),
    volumes: stringList(config['volumes']),
    mount: mounts === undefined || mounts.length === 0 ? undefined : mounts.map(dockerMount),
    devices:
      devices === undefined || devices.length === 0
        ? undefined
        : devices.map((d) =>
            set({ host_path: str(d['host_path']), container_path: str(d['container_path']), cgroup_permissions: str(d['cgroup_permissions']) }),
          ),
    labels: parsedMap(config['labels']),
    logging: logging === undefined ? undefined : set({ type: str(logging['type']), config: parsedMap(logging['config']) }),
    ulimit: parsedMap(config['ulimit']),
    sysctl: parsedMap(config['sysctl']),
    shm_size: int(config['shm_size']),
    extra_hosts: stringList(config['extra_hosts']),
    dns_servers: stringList(config['dns_servers']),
    dns_search_domains: stringList(config['dns_search_domains']),
    dns_options: stringList(config['dns_options']),
    image_pull_timeout: str(config['image_pull_timeout']),
    force_pull: bool(config['force_pull']),
    auth_soft_fail: bool(config['auth_soft_fail']),
    pid_mode: str(config['pid_mode']),
    ipc_mode: str(config['ipc_mode']),
  });
}

/** The task's `vault` block: hashiship renders its own defaults (env false), so the job's values are written where they differ. */
function vault(v: unknown): Obj | undefined {
  if (!isObj(v)) return undefined;
  const mode = str(v['ChangeMode']) ?? 'restart';
  return set({
    role: str(v['Role']),
    env: v['Env'] === false ? undefined : true,
    disable_file: v['DisableFile'] === true ? true : undefined,
    change_mode: mode === 'restart' || !['signal', 'noop'].includes(mode) ? undefined : mode,
    // Nomad fills in SIGHUP when no signal is given; the spec names one only with change_mode signal.
    change_signal: mode === 'signal' ? str(v['ChangeSignal']) : undefined,
  });
}

function devices(v: unknown): Obj[] | undefined {
  const ds = list(v);
  if (ds.length === 0) return undefined;
  return ds.map((d) =>
    set({
      name: str(d['Name']),
      count: num(d['Count']) === 1 ? undefined : num(d['Count']),
      constraints: constraints(d['Constraints']),
      affinities: affinities(d['Affinities']),
    }),
  );
}

interface LiftedTask {
  readonly task: Obj;
  /** The image tag is `latest` (an opt-out with a reason is added). */
  readonly latest: boolean;
}

function task(t: Obj, job: string, canary: boolean): LiftedTask {
  const driver = str(t['Driver']) ?? 'docker';
  const config = obj(t['Config']);
  const res = obj(t['Resources']);
  const lc = isObj(t['Lifecycle']) ? t['Lifecycle'] : undefined;
  let latest = false;
  const typed: Obj = {};
  let artifacts = list(t['Artifacts']);
  let raw: Obj | undefined;
  switch (driver) {
    case 'docker': {
      const img = typeof config['image'] === 'string' ? liftImage(config['image']) : undefined;
      // A docker task needs a typed image; one without a tag is carried as `latest` and set exactly in `nomad:`.
      const image = img ?? { image: { repository: String(config['image'] ?? 'unknown'), tag: 'latest' }, latest: true };
      typed['image'] = image.image;
      latest = image.latest;
      typed['command'] = str(config['command']);
      typed['args'] = strings(config['args']);
      typed['ports'] = stringList(config['ports']);
      typed['docker'] = docker(config);
      break;
    }
    case 'exec':
    case 'raw_exec':
      typed['command'] = str(config['command']) ?? '';
      typed['args'] = strings(config['args']);
      break;
    case 'java': {
      const jp = str(config['jar_path']);
      const fetched = artifacts.find((a) => str(a['RelativeDest']) === 'local/' && str(a['GetterSource']) !== undefined);
      if (fetched !== undefined && jp !== undefined) {
        const source = str(fetched['GetterSource'])!;
        const opts = obj(fetched['GetterOptions']);
        const onlyChecksum = Object.keys(opts).every((k) => k === 'checksum') && str(fetched['GetterMode']) !== 'file' && str(fetched['GetterMode']) !== 'dir';
        if (onlyChecksum) {
          typed['jar'] = set({
            source,
            checksum: str(opts['checksum']),
            path: jarPath({ source }) === jp ? undefined : jp,
            headers: stringMap(fetched['GetterHeaders']),
          });
          artifacts = artifacts.filter((a) => a !== fetched);
        }
      }
      typed['class'] = str(config['class']);
      typed['class_path'] = str(config['class_path']);
      typed['jvm_options'] = strings(config['jvm_options']);
      typed['args'] = strings(config['args']);
      if (typed['jar'] === undefined && typed['class'] === undefined) typed['class'] = jp ?? 'Main';
      break;
    }
    default:
      // A driver the spec does not type (podman, qemu, exec2, a plugin): its whole configuration is raw.
      if (Object.keys(config).length > 0) raw = { Config: sortedKeys(config) };
  }
  const memMax = num(res['MemoryMaxMB']);
  const cores = num(res['Cores']);
  const cpu = num(res['CPU']);
  const logs = obj(t['LogConfig']);
  const name = str(t['Name']);
  return {
    latest,
    task: set({
      name,
      driver: driver === 'docker' ? undefined : driver,
      ...typed,
      user: str(t['User']),
      lifecycle: lc === undefined || str(lc['Hook']) === undefined ? undefined : set({ hook: lc['Hook'], sidecar: lc['Sidecar'] === true ? true : undefined }),
      env: stringMap(t['Env']),
      meta: stringMap(t['Meta']),
      resources: nonEmpty({
        cpu: cpu === RenderDefaults.cpu || cpu === 0 ? undefined : cpu,
        cores: cores !== undefined && cores > 0 ? cores : undefined,
        devices: devices(res['Devices']),
        memory: num(res['MemoryMB']) === RenderDefaults.memoryMB ? undefined : num(res['MemoryMB']),
        memory_max: memMax !== undefined && memMax > 0 ? memMax : undefined,
      }),
      kill_timeout: t['KillTimeout'] === 5e9 ? undefined : dur(t['KillTimeout']),
      kill_signal: str(t['KillSignal']),
      leader: t['Leader'] === true ? true : undefined,
      logs:
        logs['MaxFiles'] === 10 && logs['MaxFileSizeMB'] === 10
          ? logs['Disabled'] === true
            ? { disabled: true }
            : undefined
          : nonEmpty({ max_files: num(logs['MaxFiles']), max_file_size: num(logs['MaxFileSizeMB']), disabled: logs['Disabled'] === true ? true : undefined }),
      artifacts: artifacts.length === 0 ? undefined : artifacts.map(artifact),
      mounts:
        list(t['VolumeMounts']).length === 0
          ? undefined
          : list(t['VolumeMounts']).map((m) =>
              set({ volume: str(m['Volume']), destination: str(m['Destination']), read_only: m['ReadOnly'] === true ? true : undefined }),
            ),
      vault: vault(t['Vault']),
      templates: templates(t['Templates']),
      constraints: constraints(t['Constraints']),
      services: list(t['Services']).length === 0 ? undefined : list(t['Services']).map((s) => service(s, job, canary, name)),
      shutdown_delay: num(t['ShutdownDelay']) === 0 ? undefined : dur(t['ShutdownDelay']),
      identities: identities(t),
      secret_blocks: secretBlocks(t['Secrets']),
      dispatch_payload: isObj(t['DispatchPayload']) && str(t['DispatchPayload']['File']) !== undefined ? { file: t['DispatchPayload']['File'] } : undefined,
      csi_plugin: csiPlugin(t['CSIPluginConfig']),
      nomad: raw,
    }),
  };
}

/** A task's `csi_plugin`, Nomad's defaults (filled in by its parser) left out. */
function csiPlugin(v: unknown): Obj | undefined {
  if (!isObj(v)) return undefined;
  const type = str(v['Type']);
  if (str(v['ID']) === undefined || (type !== 'node' && type !== 'controller' && type !== 'monolith')) return undefined;
  return set({
    id: v['ID'],
    type,
    mount_dir: str(v['MountDir']) === '/csi' ? undefined : str(v['MountDir']),
    stage_publish_base_dir: str(v['StagePublishBaseDir']) === '/local/csi' ? undefined : str(v['StagePublishBaseDir']),
    health_timeout: num(v['HealthTimeout']) === 30e9 || num(v['HealthTimeout']) === 0 ? undefined : dur(v['HealthTimeout']),
  });
}

function ports(networks: unknown): { ports?: Obj; network_mode?: string; dns?: Obj } {
  const ns = list(networks);
  if (ns.length !== 1) return {};
  const n = ns[0]!;
  const out: Obj = {};
  for (const [kind, p] of [...list(n['DynamicPorts']).map((p) => ['dynamic', p] as const), ...list(n['ReservedPorts']).map((p) => ['static', p] as const)]) {
    const label = str(p['Label']);
    if (label === undefined) continue;
    const hn = str(p['HostNetwork']);
    out[label] = set({
      static: kind === 'static' ? num(p['Value']) : undefined,
      to: num(p['To']) === 0 ? undefined : num(p['To']),
      host_network: hn === 'default' ? undefined : hn,
    });
  }
  const mode = str(n['Mode']);
  const dns = isObj(n['DNS']) ? n['DNS'] : undefined;
  return set({
    ports: Object.keys(out).length === 0 ? undefined : out,
    // `mode = "host"` written out: Nomad keeps it (an absent mode stays empty), so the spec says it too.
    network_mode: mode === 'bridge' || mode === 'host' ? mode : undefined,
    dns: dns === undefined ? undefined : set({ servers: strings(dns['Servers']), searches: strings(dns['Searches']), options: strings(dns['Options']) }),
  });
}

function mountOptions(v: unknown): Obj | undefined {
  if (!isObj(v)) return undefined;
  return nonEmpty({ fs_type: str(v['FSType']), mount_flags: strings(v['MountFlags']) });
}

function disconnect(v: unknown): Obj | undefined {
  if (!isObj(v)) return undefined;
  const reconcile = str(v['Reconcile']);
  return nonEmpty({
    lost_after: num(v['LostAfter']) === 0 ? undefined : dur(v['LostAfter']),
    replace: v['Replace'] === false ? false : undefined,
    reconcile: reconcile === undefined || reconcile === 'best_score' ? undefined : reconcile,
    stop_on_client_after: num(v['StopOnClientAfter']) === 0 ? undefined : dur(v['StopOnClientAfter']),
  });
}

/**
 * A docker task that publishes no port: `ports: []` where hashiship would publish
 * the group's ports implicitly (the group's only main docker task).
 */
function explicitPorts(g: Obj): void {
  const tasks = list(g['tasks']);
  for (const t of tasks) {
    if (t['driver'] !== undefined || t['ports'] !== undefined) continue;
    if (publishedPorts(g as unknown as GroupSpec, t as unknown as TaskSpec).length > 0) t['ports'] = [];
  }
}

function volumes(v: unknown): Obj | undefined {
  if (!isObj(v) || Object.keys(v).length === 0) return undefined;
  const out: Obj = {};
  for (const name of Object.keys(v).sort()) {
    const vol = obj(v[name]);
    const type = str(vol['Type']);
    if (type !== 'host' && type !== 'csi') return undefined;
    out[name] = set({
      type,
      source: str(vol['Source']),
      read_only: vol['ReadOnly'] === true ? true : undefined,
      access_mode: type === 'csi' ? str(vol['AccessMode']) : undefined,
      attachment_mode: type === 'csi' ? str(vol['AttachmentMode']) : undefined,
      per_alloc: vol['PerAlloc'] === true ? true : undefined,
      sticky: vol['Sticky'] === true ? true : undefined,
      mount_options: mountOptions(vol['MountOptions']),
    });
  }
  return out;
}

/** The autoscaler policy as the spec's `scaling.policy`, when it has that shape (else left to `nomad:`). */
function scalingPolicy(p: unknown): Obj | undefined {
  if (!isObj(p) || !Object.keys(p).every((k) => ['cooldown', 'evaluation_interval', 'check'].includes(k))) return undefined;
  const checks: Obj[] = [];
  for (const wrapper of Array.isArray(p['check']) ? (p['check'] as unknown[]) : []) {
    const name = isObj(wrapper) && Object.keys(wrapper).length === 1 ? Object.keys(wrapper)[0]! : undefined;
    const body = name === undefined ? undefined : (wrapper as Obj)[name];
    const c = Array.isArray(body) && body.length === 1 && isObj(body[0]) ? body[0] : undefined;
    if (c === undefined || !Object.keys(c).every((k) => ['source', 'query', 'query_window', 'strategy'].includes(k))) return undefined;
    const st = Array.isArray(c['strategy']) && c['strategy'].length === 1 && isObj(c['strategy'][0]) ? c['strategy'][0] : undefined;
    const sname = st === undefined || Object.keys(st).length !== 1 ? undefined : Object.keys(st)[0]!;
    const sbody = sname === undefined ? undefined : st![sname];
    const sb = Array.isArray(sbody) && sbody.length === 1 && isObj(sbody[0]) ? sbody[0] : undefined;
    if (sb === undefined || !Object.keys(sb).every((k) => k === 'target') || typeof c['source'] !== 'string' || typeof c['query'] !== 'string')
      return undefined;
    checks.push(
      set({ name, source: c['source'], query: c['query'], query_window: str(c['query_window']), strategy: set({ name: sname, target: num(sb['target']) }) }),
    );
  }
  return nonEmpty({ cooldown: str(p['cooldown']), evaluation_interval: str(p['evaluation_interval']), checks: checks.length === 0 ? undefined : checks });
}

function scaling(v: unknown): Obj | undefined {
  if (!isObj(v) || num(v['Max']) === undefined) return undefined;
  const policy =
    v['Policy'] === null || v['Policy'] === undefined || (isObj(v['Policy']) && Object.keys(v['Policy']).length === 0) ? undefined : scalingPolicy(v['Policy']);
  return set({ min: num(v['Min']), max: num(v['Max']), enabled: v['Enabled'] === false ? false : undefined, policy });
}

interface LiftedGroup {
  readonly group: Obj;
  readonly latest: readonly string[];
}

/**
 * `jobUpdate`: the API fields the job's own `update` block sets (see {@link liftJob}); a
 * group's `update` is written where it differs from them over hashiship's defaults.
 * `jobMigrate` likewise for `migrate`, over Nomad's defaults.
 */
function group(g: Obj, job: string, type: string, jobUpdate: Obj, jobMigrate: Obj = {}): LiftedGroup {
  const base: Obj = { ...RenderDefaults.update, Stagger: NOMAD_UPDATE['Stagger'], ...jobUpdate };
  const u = type === 'service' || type === 'system' ? update(updateDiff(g['Update'], base)) : undefined;
  const canary = (num(obj(g['Update'])['Canary']) ?? 0) > 0;
  const disk = obj(g['EphemeralDisk']);
  const tasks = list(g['Tasks']).map((t) => task(t, job, canary));
  const count = num(g['Count']);
  // A Connect gateway (ingress, terminating, mesh) is not typed: the group's services are raw, and its task is Nomad's.
  const gateway = list(g['Services']).some((s) => isObj(s['Connect']) && isObj(s['Connect']['Gateway']));
  const lifted = set({
    name: str(g['Name']),
    count: type === 'system' || type === 'sysbatch' || count === 1 ? undefined : count,
    ...ports(g['Networks']),
    volumes: volumes(g['Volumes']),
    update: u,
    restart: restart(g['RestartPolicy'], type),
    reschedule: reschedule(g['ReschedulePolicy'], type),
    migrate: type === 'service' ? migrate(migrateDiff(g['Migrate'], { ...MIGRATE_DEFAULTS, ...jobMigrate })) : undefined,
    ephemeral_disk:
      disk['SizeMB'] === 300 && disk['Sticky'] !== true && disk['Migrate'] !== true
        ? undefined
        : nonEmpty({ size: num(disk['SizeMB']), sticky: disk['Sticky'] === true ? true : undefined, migrate: disk['Migrate'] === true ? true : undefined }),
    constraints: constraints(g['Constraints']),
    affinities: affinities(g['Affinities']),
    spread: spreads(g['Spreads']),
    meta: stringMap(g['Meta']),
    // hashiship gives a group with services a delay (5s or the environment's); the job's absent one is written as 0s.
    shutdown_delay: (num(g['ShutdownDelay']) ?? 0) !== 0 ? dur(g['ShutdownDelay']) : list(g['Services']).length > 0 ? '0s' : undefined,
    disconnect: disconnect(g['Disconnect']),
    scaling: type === 'system' ? undefined : scaling(g['Scaling']),
    services: list(g['Services']).length === 0 || gateway ? undefined : list(g['Services']).map((s) => service(s, job, canary)),
    tasks: tasks.map((t) => t.task),
    nomad: gateway ? { Services: compacted(list(g['Services'])) } : undefined,
  });
  explicitPorts(lifted);
  return { latest: tasks.filter((t) => t.latest).map((t) => String(t.task['name'])), group: lifted };
}

function parameterized(v: unknown): Obj | undefined {
  if (!isObj(v)) return undefined;
  const payload = str(v['Payload']);
  return set({
    // Nomad's parser fills in `optional` for a `parameterized` block without one, but not for `payload = ""`: always written.
    payload: payload === 'optional' || payload === 'required' || payload === 'forbidden' ? payload : undefined,
    meta_required: strings(v['MetaRequired']),
    meta_optional: strings(v['MetaOptional']),
  });
}

function ui(v: unknown): Obj | undefined {
  if (!isObj(v)) return undefined;
  const links = list(v['Links']).map((l) => set({ label: str(l['Label']), url: str(l['URL']) }));
  return nonEmpty({ description: str(v['Description']), links: links.length === 0 ? undefined : links });
}

/** What {@link liftJob} found: the typed spec and the tasks whose image is `latest`. */
export interface LiftedJob {
  readonly spec: Obj;
  /** `groups[i].tasks[j]` paths of tasks whose image is tagged `latest` (or untagged). */
  readonly latest: readonly { readonly group: number; readonly task: number }[];
}

/**
 * The typed spec of a canonicalized job; `nomad:` blocks only for what is raw as a whole
 * (the config of a driver the spec does not type, the services of a Connect gateway group, a
 * periodic job's classic single `cron`).
 */
export function liftJob(job: Readonly<Obj>): LiftedJob {
  const id = String(job['ID'] ?? '');
  const apiType = str(job['Type']) ?? 'service';
  const periodic = isObj(job['Periodic']) ? job['Periodic'] : undefined;
  // `cron = "…"` (the classic form) parses to Spec, `crons = […]` to Specs: the spec's `cron` renders as `crons`, and
  // the exact form is kept in nomad: (Spec set, Specs removed) so the job stays as Nomad parsed it.
  const listed = periodic === undefined ? undefined : strings(periodic['Specs']);
  const single = periodic === undefined || (listed !== undefined && listed.length > 0) ? undefined : str(periodic['Spec']);
  const specs = single !== undefined ? [single] : listed;
  const isPeriodic = (apiType === 'batch' || apiType === 'sysbatch') && periodic !== undefined && specs !== undefined && specs.length > 0;
  // A periodic batch job is `type: periodic`; a periodic sysbatch job keeps its type (`periodic:` says the schedule).
  const type = isPeriodic && apiType === 'batch' ? 'periodic' : apiType;
  const hasUpdate = apiType === 'service' || apiType === 'system';
  // The job's own update block: what differs from Nomad's defaults (the groups inherit it).
  const jobUpdate = hasUpdate ? updateDiff(job['Update'], NOMAD_UPDATE) : {};
  // The job's own migrate block (service jobs), every field it gives: Nomad's parser keeps it as written, its defaults
  // are filled in only in the groups, which inherit it.
  const jobMigrate = apiType === 'service' ? migrateDiff(job['Migrate'], {}) : {};
  const groups = list(job['TaskGroups']).map((g) => group(g, id, apiType === 'sysbatch' ? 'sysbatch' : apiType, jobUpdate, jobMigrate));
  const dcs = strings(job['Datacenters']);
  const noDatacenters = job['Datacenters'] === undefined || job['Datacenters'] === null;
  const nodePool = str(job['NodePool']);
  const latest: { group: number; task: number }[] = [];
  groups.forEach((g, gi) => {
    list(g.group['tasks']).forEach((t, ti) => {
      if (g.latest.includes(String(t['name']))) latest.push({ group: gi, task: ti });
    });
  });
  const spec = set({
    name: id,
    type: type === 'service' ? undefined : type,
    namespace: str(job['Namespace']) === 'default' ? undefined : str(job['Namespace']),
    region: str(job['Region']) === 'global' ? undefined : str(job['Region']),
    // No datacenters in the job (Nomad fills in ["*"] when it registers it): `[]`.
    datacenters: noDatacenters ? [] : dcs === undefined || (dcs.length === 1 && dcs[0] === '*') ? undefined : dcs,
    node_pool: nodePool === 'default' ? undefined : nodePool,
    priority: num(job['Priority']) === RenderDefaults.priority ? undefined : num(job['Priority']),
    update: update(jobUpdate),
    // An empty block is kept too (`migrate: {}`).
    migrate: apiType === 'service' && isObj(job['Migrate']) ? (migrate(jobMigrate) ?? {}) : undefined,
    periodic:
      !isPeriodic || periodic === undefined
        ? undefined
        : set({
            cron: specs!.length === 1 ? specs![0] : undefined,
            crons: specs!.length > 1 ? specs : undefined,
            time_zone: str(periodic['TimeZone']) === 'UTC' ? undefined : str(periodic['TimeZone']),
            prohibit_overlap: periodic['ProhibitOverlap'] === true ? undefined : false,
            enabled: periodic['Enabled'] === false ? false : undefined,
          }),
    parameterized: parameterized(job['ParameterizedJob']),
    ui: ui(job['UI']),
    meta: stringMap(job['Meta']),
    constraints: constraints(job['Constraints']),
    affinities: affinities(job['Affinities']),
    spread: spreads(job['Spreads']),
    groups: groups.map((g) => g.group),
    nomad: isPeriodic && single !== undefined ? { Periodic: { Spec: single, Specs: null } } : undefined,
  });
  return { spec, latest };
}
