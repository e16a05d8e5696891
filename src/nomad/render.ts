/**
 * Service spec (merged with its environment) → Nomad job model (API JSON).
 * Pure and deterministic. Consul checks and Fabio routes are derived from the
 * same port labels, so they agree by construction; secrets are referenced by
 * Vault/Consul path in `template` blocks and never appear as values.
 */
import { createHash } from 'node:crypto';
import { parseDuration } from '../service-spec/duration.js';
import type { ResolvedService } from '../service-spec/overlay.js';
import { routeTag } from '../service-spec/routes.js';
import { isMainTask, jarPath, publishedPorts } from '../service-spec/semantic.js';
import type {
  AffinitySpec,
  CheckSpec,
  ConnectSpec,
  ConstraintSpec,
  IdentitySpec,
  DockerSpec,
  OpinionDefaults,
  GroupSpec,
  ImageSpec,
  MigrateSpec,
  ScalingSpec,
  SecretSpec,
  ServiceRegistrationSpec,
  SpreadSpec,
  TaskSpec,
  UpdateSpec,
} from '../service-spec/types.js';
import {
  OwnershipMeta,
  type Affinity,
  type Constraint,
  type Job,
  type MigrateStrategy,
  type NetworkResource,
  type Port,
  type ScalingPolicy,
  type Service,
  type ServiceCheck,
  type Spread,
  type Task,
  type TaskArtifact,
  type TaskGroup,
  type Template,
  type UpdateStrategy,
  type JobUpdateStrategy,
  type VolumeRequest,
  type WorkloadIdentity,
  type ConsulConnect,
} from './job.js';
import { renderJobHcl } from './render-hcl.js';
import { freeForm, isDefaultIdentity, mergeRaw } from './raw.js';

/** Options of {@link renderJob}. */
export interface RenderOptions {
  /**
   * The namespace of a service whose spec and environment name none: the deploy
   * path passes NOMAD_NAMESPACE here, so the variable is the default and never
   * overrides a namespace a spec names. @default "default"
   */
  readonly namespace?: string;
  /**
   * Digests that pin images, by repository as written in the spec
   * (`storefront/web` → `sha256:…`); the deploy step passes them. A pinned digest
   * replaces the tag.
   */
  readonly digests?: Readonly<Record<string, string>>;
  /**
   * Layer digests of pinned images, by repository: an exec or raw_exec task with
   * an `image` fetches them from the environment's registry by digest as
   * artifacts (checksummed, unpacked into `local/image`), so it runs exactly the
   * image's files. The deploy step resolves them (src/release/image.ts).
   */
  readonly layers?: Readonly<Record<string, readonly string[]>>;
}

/** hashiship's defaults where Nomad's are unsafe or unset. */
export const RenderDefaults = {
  /** Datacenters when neither the spec nor the environment names any. */
  datacenters: ['*'],
  region: 'global',
  namespace: 'default',
  priority: 50,
  cpu: 100,
  memoryMB: 128,
  /** Group shutdown delay when the group registers services: Fabio stops routing first. */
  shutdownDelay: 5e9,
  checkInterval: 10e9,
  checkTimeout: 2e9,
  templateSplay: 5e9,
  update: {
    MaxParallel: 1,
    Canary: 0,
    HealthCheck: 'checks',
    MinHealthyTime: 10e9,
    HealthyDeadline: 300e9,
    ProgressDeadline: 600e9,
    AutoRevert: true,
    AutoPromote: false,
  } satisfies UpdateStrategy,
  /** Where the variables read from Vault and Consul KV are rendered. */
  envTemplatePath: 'secrets/hashiship.env',
} as const;

function ns(v: string | undefined): number | undefined {
  return v === undefined ? undefined : parseDuration(v);
}

function nonZero(v: number | undefined): number | undefined {
  return v === 0 ? undefined : v;
}

/** `T` with every property that may be undefined made optional instead. */
type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** Copy only the defined entries, so the model carries no `undefined`. */
function defined<T extends object>(o: T): Defined<T> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) {
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out as Defined<T>;
}

function sortedMap(m: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (m === undefined || Object.keys(m).length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
}

function nonEmpty<T>(list: readonly T[] | undefined): readonly T[] | undefined {
  return list === undefined || list.length === 0 ? undefined : list;
}

function constraints(list: readonly ConstraintSpec[] | undefined): Constraint[] | undefined {
  if (list === undefined || list.length === 0) return undefined;
  return list.map((c) => ({ LTarget: c.attribute ?? '', RTarget: c.value ?? (c.operator === 'distinct_hosts' ? 'true' : ''), Operand: c.operator ?? '=' }));
}

function affinities(list: readonly AffinitySpec[] | undefined): Affinity[] | undefined {
  if (list === undefined || list.length === 0) return undefined;
  return list.map((a) => ({ LTarget: a.attribute, RTarget: a.value, Operand: a.operator ?? '=', Weight: a.weight ?? 50 }));
}

function spreads(list: readonly SpreadSpec[] | undefined): Spread[] | undefined {
  if (list === undefined || list.length === 0) return undefined;
  return list.map((s) => {
    const targets = Object.entries(s.targets ?? {}).map(([Value, Percent]) => ({ Value, Percent }));
    return defined({ Attribute: s.attribute, Weight: s.weight ?? 50, SpreadTarget: targets.length === 0 ? undefined : targets });
  });
}

/** The image reference a docker task pulls. */
export function imageRef(image: ImageSpec, registry: string | undefined, digests: RenderOptions['digests']): string {
  const first = image.repository.split('/')[0] ?? '';
  const hasHost = image.repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const name = registry === undefined || hasHost ? image.repository : `${registry}/${image.repository}`;
  const digest = digests?.[image.repository] ?? image.digest;
  if (digest !== undefined) return `${name}@${digest}`;
  return `${name}:${image.tag ?? ''}`;
}

function vaultData(path: string, key: string): string {
  // KV v2 answers under .Data.data; everything else under .Data.
  const kv2 = path.split('/')[1] === 'data';
  return `index .Data${kv2 ? '.data' : ''} ${JSON.stringify(key)}`;
}

/** `secret "path"` with its parameters (`"k=v"`, sorted) when the path is written to. */
function secretCall(s: SecretSpec): string {
  const params = Object.entries(s.params ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => ` ${JSON.stringify(`${k}=${v}`)}`)
    .join('');
  return `secret ${JSON.stringify(s.path)}${params}`;
}

function templates(t: TaskSpec): Template[] {
  const out: Template[] = [];
  const base = { ChangeMode: 'restart', Splay: RenderDefaults.templateSplay, ErrMissingKey: false } as const;
  const lines: string[] = [];
  for (const s of t.secrets ?? []) {
    if (s.env !== undefined) lines.push(`{{ with ${secretCall(s)} }}${s.env}={{ ${vaultData(s.path, s.key)} | toJSON }}{{ end }}`);
  }
  for (const k of t.kv ?? []) {
    if (k.env !== undefined) lines.push(`${k.env}={{ key ${JSON.stringify(k.key)} | toJSON }}`);
  }
  if (lines.length > 0) {
    out.push({ ...base, DestPath: RenderDefaults.envTemplatePath, Envvars: true, Perms: '0400', EmbeddedTmpl: `${lines.join('\n')}\n` });
  }
  for (const s of t.secrets ?? []) {
    if (s.file !== undefined) {
      out.push({
        ...base,
        DestPath: s.file,
        Envvars: false,
        Perms: '0400',
        EmbeddedTmpl: `{{ with ${secretCall(s)} }}{{ ${vaultData(s.path, s.key)} }}{{ end }}`,
      });
    }
  }
  for (const k of t.kv ?? []) {
    if (k.file !== undefined) {
      out.push({ ...base, DestPath: k.file, Envvars: false, Perms: '0644', EmbeddedTmpl: `{{ key ${JSON.stringify(k.key)} }}` });
    }
  }
  for (const tpl of t.templates ?? []) {
    out.push(
      defined({
        ...base,
        DestPath: tpl.destination,
        Envvars: tpl.env ?? false,
        ChangeMode: tpl.change_mode ?? 'restart',
        ChangeSignal: tpl.change_signal,
        Perms: tpl.perms ?? '0644',
        EmbeddedTmpl: tpl.data,
        SourcePath: tpl.source,
        Uid: tpl.uid,
        Gid: tpl.gid,
        Splay: ns(tpl.splay) ?? RenderDefaults.templateSplay,
        ErrMissingKey: tpl.error_on_missing_key ?? false,
        Once: tpl.once,
        Wait: tpl.wait === undefined ? undefined : defined({ Min: ns(tpl.wait.min), Max: ns(tpl.wait.max) }),
      }),
    );
  }
  return out;
}

const USES_VAULT = /\bsecret\s+["`]/;

function needsVault(t: TaskSpec): boolean {
  return (
    (t.secrets ?? []).length > 0 ||
    (t.templates ?? []).some((tpl) => USES_VAULT.test(tpl.data ?? '')) ||
    // Nomad refuses a vault `secret` block in a task without a vault block.
    Object.values(t.secret_blocks ?? {}).some((b) => b.provider === 'vault')
  );
}

function taskConfig(
  t: TaskSpec,
  g: GroupSpec,
  registry: string | undefined,
  opts: RenderOptions,
  opinions: OpinionDefaults | undefined,
): Record<string, unknown> {
  const driver = t.driver ?? 'docker';
  const args = nonEmpty(t.args);
  switch (driver) {
    case 'docker': {
      const ports = publishedPorts(g, t, opinions?.publish_ports !== 'listed');
      return defined({
        image: t.image === undefined ? undefined : imageRef(t.image, registry, opts.digests),
        command: t.command,
        args,
        ports: nonEmpty(ports),
        ...dockerConfig(t.docker),
      });
    }
    case 'exec':
    case 'raw_exec':
      return defined({ command: t.command, args });
    case 'java':
      return defined({
        jar_path: t.jar === undefined ? undefined : jarPath(t.jar),
        class: t.class,
        class_path: t.class_path,
        jvm_options: nonEmpty(t.jvm_options),
        args,
      });
    default:
      // A driver the spec does not type: its configuration is the task's `nomad: { Config: … }`.
      return {};
  }
}

/** A map as Nomad's HCL parser gives a map attribute of a driver config: a one-item list. */
function asParsedMap(m: Readonly<Record<string, string>> | undefined): [Record<string, string>] | undefined {
  const sorted = sortedMap(m);
  return sorted === undefined ? undefined : [sorted];
}

/** A nested block of a driver config as Nomad's parser gives it: a one-item list. */
function asBlock<T extends object>(o: T | undefined): [Defined<T>] | undefined {
  if (o === undefined) return undefined;
  const d = defined(o);
  return Object.keys(d).length === 0 ? undefined : [d];
}

/**
 * The docker driver options of a task, in the shape Nomad's HCL parser gives the
 * `config` block (src/nomad/render-hcl.ts writes them back as that HCL): nested
 * blocks and map attributes become lists of one object.
 */
function dockerConfig(d: DockerSpec | undefined): Record<string, unknown> {
  if (d === undefined) return {};
  return defined({
    entrypoint: nonEmpty(d.entrypoint),
    work_dir: d.work_dir,
    hostname: d.hostname,
    network_mode: d.network_mode,
    privileged: d.privileged,
    cap_add: nonEmpty(d.cap_add),
    cap_drop: nonEmpty(d.cap_drop),
    volumes: nonEmpty(d.volumes),
    mount: nonEmpty(
      (d.mount ?? []).map((m) =>
        defined({
          type: m.type,
          target: m.target,
          source: m.source,
          readonly: m.readonly,
          bind_options: asBlock(m.bind_options),
          volume_options:
            m.volume_options === undefined
              ? undefined
              : asBlock({
                  no_copy: m.volume_options.no_copy,
                  labels: asParsedMap(m.volume_options.labels),
                  driver_config:
                    m.volume_options.driver_config === undefined
                      ? undefined
                      : asBlock({ name: m.volume_options.driver_config.name, options: asParsedMap(m.volume_options.driver_config.options) }),
                }),
          tmpfs_options: asBlock(m.tmpfs_options),
        }),
      ),
    ),
    devices: nonEmpty(
      (d.devices ?? []).map((x) => defined({ host_path: x.host_path, container_path: x.container_path, cgroup_permissions: x.cgroup_permissions })),
    ),
    labels: asParsedMap(d.labels),
    logging: d.logging === undefined ? undefined : [defined({ type: d.logging.type, config: asParsedMap(d.logging.config) })],
    ulimit: asParsedMap(d.ulimit),
    sysctl: asParsedMap(d.sysctl),
    shm_size: d.shm_size,
    extra_hosts: nonEmpty(d.extra_hosts),
    dns_servers: nonEmpty(d.dns_servers),
    dns_search_domains: nonEmpty(d.dns_search_domains),
    dns_options: nonEmpty(d.dns_options),
    image_pull_timeout: d.image_pull_timeout,
    force_pull: d.force_pull,
    auth_soft_fail: d.auth_soft_fail,
    pid_mode: d.pid_mode,
    ipc_mode: d.ipc_mode,
  });
}

/** Where an exec/raw_exec task's image layers are unpacked (`${NOMAD_TASK_DIR}/image`). */
export const ImageDir = 'local/image';

/** The task meta key naming the image an exec/raw_exec task runs. */
export const ImageMeta = 'hashiship_image';

/** Base URL of a registry host: plain http on loopback (the dev stack), https elsewhere. */
export function registryUrl(host: string): string {
  const name = host.replace(/:\d+$/, '');
  return `${name === 'localhost' || name.startsWith('127.') || name === '[::1]' ? 'http' : 'https'}://${host}`;
}

/** The artifacts fetching an image's layers by digest (exec and raw_exec tasks). */
function imageArtifacts(t: TaskSpec, registry: string | undefined, opts: RenderOptions): TaskArtifact[] {
  const driver = t.driver ?? 'docker';
  const layers = t.image === undefined ? undefined : opts.layers?.[t.image.repository];
  if ((driver !== 'exec' && driver !== 'raw_exec') || t.image === undefined || layers === undefined || registry === undefined) return [];
  const repo = t.image.repository;
  return layers.map((digest) => ({
    GetterSource: `${registryUrl(registry)}/v2/${repo}/blobs/${digest}`,
    RelativeDest: ImageDir,
    GetterOptions: { archive: 'tar.gz', checksum: digest },
  }));
}

function identity(i: IdentitySpec): WorkloadIdentity {
  return defined({
    Name: i.name,
    Audience: nonEmpty(i.aud),
    ChangeMode: i.change_mode,
    ChangeSignal: i.change_signal,
    Env: i.env,
    File: i.file,
    Filepath: i.filepath,
    TTL: ns(i.ttl),
  });
}

/** A free-form config as Nomad's parser gives back its `config` block; unset when empty. */
function freeConfig(c: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> | undefined {
  return c === undefined || Object.keys(c).length === 0 ? undefined : freeForm(c);
}

/** Consul Connect in the API's shape (api.ConsulConnect and the structures below it). */
function connectBlock(c: ConnectSpec): ConsulConnect {
  const ss = c.sidecar_service;
  const p = ss?.proxy;
  const st = c.sidecar_task;
  return defined({
    Native: c.native,
    SidecarService:
      ss === undefined
        ? undefined
        : defined({
            Port: ss.port,
            Tags: nonEmpty(ss.tags),
            Meta: sortedMap(ss.meta),
            DisableDefaultTCPCheck: ss.disable_default_tcp_check,
            Proxy:
              p === undefined
                ? undefined
                : defined({
                    LocalServiceAddress: p.local_service_address,
                    LocalServicePort: p.local_service_port,
                    Upstreams: nonEmpty(
                      (p.upstreams ?? []).map((u) =>
                        defined({
                          DestinationName: u.destination_name,
                          DestinationNamespace: u.destination_namespace,
                          DestinationPeer: u.destination_peer,
                          DestinationPartition: u.destination_partition,
                          DestinationType: u.destination_type,
                          LocalBindPort: u.local_bind_port,
                          LocalBindAddress: u.local_bind_address,
                          Datacenter: u.datacenter,
                          MeshGateway: u.mesh_gateway === undefined ? undefined : { Mode: u.mesh_gateway.mode },
                          Config: freeConfig(u.config),
                        }),
                      ),
                    ),
                    Expose:
                      p.expose === undefined
                        ? undefined
                        : {
                            Paths: p.expose.paths.map((x) =>
                              defined({ Path: x.path, Protocol: x.protocol, LocalPathPort: x.local_path_port, ListenerPort: x.listener_port }),
                            ),
                          },
                    TransparentProxy:
                      p.transparent_proxy === undefined
                        ? undefined
                        : defined({
                            UID: p.transparent_proxy.uid,
                            OutboundPort: p.transparent_proxy.outbound_port,
                            ExcludeInboundPorts: nonEmpty(p.transparent_proxy.exclude_inbound_ports),
                            ExcludeOutboundPorts: nonEmpty(p.transparent_proxy.exclude_outbound_ports),
                            ExcludeOutboundCIDRs: nonEmpty(p.transparent_proxy.exclude_outbound_cidrs),
                            ExcludeUIDs: nonEmpty(p.transparent_proxy.exclude_uids),
                            NoDNS: p.transparent_proxy.no_dns,
                          }),
                    Config: freeConfig(p.config),
                  }),
          }),
    SidecarTask:
      st === undefined
        ? undefined
        : defined({
            Name: st.name,
            Driver: st.driver,
            User: st.user,
            Config: freeConfig(st.config),
            Env: sortedMap(st.env),
            Resources:
              st.resources === undefined
                ? undefined
                : defined({ CPU: st.resources.cpu, Cores: st.resources.cores, MemoryMB: st.resources.memory, MemoryMaxMB: st.resources.memory_max }),
            Meta: sortedMap(st.meta),
            KillTimeout: ns(st.kill_timeout),
            LogConfig: st.logs === undefined ? undefined : defined({ MaxFiles: st.logs.max_files, MaxFileSizeMB: st.logs.max_file_size }),
            ShutdownDelay: ns(st.shutdown_delay),
            KillSignal: st.kill_signal,
          }),
  });
}

function task(t: TaskSpec, g: GroupSpec, r: ResolvedService, opts: RenderOptions, canary: boolean): Task {
  const driver = t.driver ?? 'docker';
  const runsImage = t.image !== undefined && (driver === 'exec' || driver === 'raw_exec');
  const artifacts = [
    ...imageArtifacts(t, r.environment?.registry, opts),
    ...(t.jar === undefined
      ? []
      : [
          defined({
            GetterSource: t.jar.source,
            RelativeDest: 'local/',
            GetterOptions: t.jar.checksum === undefined ? undefined : { checksum: t.jar.checksum },
            GetterHeaders: sortedMap(t.jar.headers),
          }),
        ]),
    ...(t.artifacts ?? []).map((a) =>
      defined({
        GetterSource: a.source,
        RelativeDest: a.destination,
        GetterMode: a.mode,
        GetterOptions: sortedMap(a.options),
        GetterHeaders: sortedMap(a.headers),
        Chown: a.chown,
      }),
    ),
  ];
  const tpls = templates(t);
  // Nomad's parser reads the identity without a name (or named `default`) as the task's Identity, the others as Identities.
  const defaultIdentity = (t.identities ?? []).find((i) => isDefaultIdentity(i.name));
  const secretBlocks = Object.entries(t.secret_blocks ?? {}).map(([name, b]) =>
    defined({ Name: name, Provider: b.provider, Path: b.path, Config: sortedMap(b.config), Env: sortedMap(b.env) }),
  );
  return defined({
    Name: t.name,
    Driver: t.driver ?? 'docker',
    User: t.user,
    Lifecycle: t.lifecycle === undefined ? undefined : { Hook: t.lifecycle.hook, Sidecar: t.lifecycle.sidecar ?? false },
    Config: taskConfig(t, g, r.environment?.registry, opts, r.environment?.defaults),
    Env: sortedMap(t.env),
    Meta: sortedMap(runsImage ? { ...t.meta, [ImageMeta]: imageRef(t.image!, r.environment?.registry, opts.digests) } : t.meta),
    Resources: defined({
      // Nomad refuses cpu and cores together: the default cpu only when no cores are reserved.
      CPU: t.resources?.cpu ?? (t.resources?.cores === undefined ? RenderDefaults.cpu : undefined),
      Cores: t.resources?.cores,
      MemoryMB: t.resources?.memory ?? r.environment?.defaults?.memory ?? RenderDefaults.memoryMB,
      MemoryMaxMB: t.resources?.memory_max,
      Devices: nonEmpty(
        (t.resources?.devices ?? []).map((d) =>
          defined({ Name: d.name, Count: d.count, Constraints: constraints(d.constraints), Affinities: affinities(d.affinities) }),
        ),
      ),
    }),
    KillTimeout: ns(t.kill_timeout),
    KillSignal: t.kill_signal,
    Leader: t.leader,
    LogConfig:
      t.logs === undefined ? undefined : defined({ MaxFiles: t.logs.max_files ?? 10, MaxFileSizeMB: t.logs.max_file_size ?? 10, Disabled: t.logs.disabled }),
    Artifacts: artifacts.length === 0 ? undefined : artifacts,
    Templates: tpls.length === 0 ? undefined : tpls,
    Vault:
      needsVault(t) || t.vault !== undefined
        ? defined({
            Role: t.vault?.role ?? r.vaultRole,
            // hashiship's opinion: the token stays out of the task's environment (Nomad's default puts it there).
            Env: t.vault?.env ?? r.environment?.defaults?.vault_env ?? false,
            DisableFile: t.vault?.disable_file ?? false,
            ChangeMode: t.vault?.change_mode ?? 'restart',
            ChangeSignal: t.vault?.change_signal,
          })
        : undefined,
    VolumeMounts: nonEmpty((t.mounts ?? []).map((m) => ({ Volume: m.volume, Destination: m.destination, ReadOnly: m.read_only ?? false }))),
    Constraints: constraints(t.constraints),
    // Task services: Nomad fills in their TaskName (and their checks') when it canonicalizes the job.
    Services: nonEmpty((t.services ?? []).map((s) => service(s, g, r, canary, t))),
    ShutdownDelay: ns(t.shutdown_delay),
    Identity: defaultIdentity === undefined ? undefined : identity(defaultIdentity),
    Identities: nonEmpty((t.identities ?? []).filter((i) => !isDefaultIdentity(i.name)).map(identity)),
    Secrets: nonEmpty(secretBlocks),
    DispatchPayload: t.dispatch_payload === undefined ? undefined : { File: t.dispatch_payload.file },
    CSIPluginConfig:
      t.csi_plugin === undefined
        ? undefined
        : defined({
            ID: t.csi_plugin.id,
            Type: t.csi_plugin.type,
            MountDir: t.csi_plugin.mount_dir,
            StagePublishBaseDir: t.csi_plugin.stage_publish_base_dir,
            HealthTimeout: ns(t.csi_plugin.health_timeout),
          }),
  });
}

function check(c: CheckSpec, s: ServiceRegistrationSpec, g: GroupSpec, owner: TaskSpec | undefined): ServiceCheck {
  const mainTasks = g.tasks.filter(isMainTask);
  return defined({
    // Unnamed checks keep Nomad's default name (`service: "<name>" check`, set when Nomad canonicalizes).
    Name: c.name,
    Type: c.type,
    // Nomad's default: a check without a port is sent without one and uses its service's port.
    PortLabel: c.port,
    Path: c.path,
    Method: c.method,
    Protocol: c.protocol,
    Command: c.command,
    Args: nonEmpty(c.args),
    TaskName: owner !== undefined ? c.task : c.type === 'script' ? (c.task ?? s.task ?? mainTasks[0]?.name) : undefined,
    GRPCService: c.grpc_service,
    GRPCUseTLS: c.grpc_use_tls,
    Interval: ns(c.interval) ?? RenderDefaults.checkInterval,
    Timeout: ns(c.timeout) ?? RenderDefaults.checkTimeout,
    CheckRestart:
      c.check_restart === undefined
        ? undefined
        : defined({ Limit: c.check_restart.limit, Grace: ns(c.check_restart.grace), IgnoreWarnings: c.check_restart.ignore_warnings ?? false }),
    AddressMode: c.address_mode,
    Header: c.header === undefined || Object.keys(c.header).length === 0 ? undefined : sortedHeader(c.header),
    Body: c.body,
    TLSSkipVerify: c.tls_skip_verify,
    SuccessBeforePassing: c.success_before_passing,
    FailuresBeforeCritical: c.failures_before_critical,
    Expose: c.expose,
    OnUpdate: c.on_update,
  });
}

function sortedHeader(h: Readonly<Record<string, readonly string[]>>): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const k of Object.keys(h).sort()) out[k] = h[k]!;
  return out;
}

function service(s: ServiceRegistrationSpec, g: GroupSpec, r: ResolvedService, canary: boolean, owner?: TaskSpec): Service {
  // Nomad expands ${JOB}, ${TASKGROUP}, ${TASK}, ${BASE} itself: the name is sent as written.
  const name = s.name ?? r.spec.name;
  const routeTags = (s.routes ?? []).map((rt) => routeTag(rt, r.environment?.domain));
  const tags = [...(s.tags ?? []), ...routeTags];
  return defined({
    Name: name,
    PortLabel: s.port,
    AddressMode: s.address_mode,
    Provider: s.provider ?? 'consul',
    TaskName: s.task,
    Tags: nonEmpty(tags),
    // The spec's canary_tags (with the routes), or by default the Fabio opinion:
    // canaries keep the routes (the deploy engine steers traffic with Fabio
    // weights on the `canary` tag) and are told apart by that tag.
    CanaryTags:
      s.canary_tags !== undefined
        ? nonEmpty([...s.canary_tags, ...routeTags])
        : canary && (routeTags.length > 0 || r.environment?.defaults?.canary_tags !== 'nomad')
          ? [...tags, 'canary']
          : undefined,
    Meta: sortedMap(s.meta),
    CanaryMeta: sortedMap(s.canary_meta),
    EnableTagOverride: s.enable_tag_override,
    OnUpdate: s.on_update,
    Checks: nonEmpty((s.checks ?? []).map((c) => check(c, s, g, owner))),
    Connect: s.connect === undefined ? undefined : connectBlock(s.connect),
    Identity: s.identity === undefined ? undefined : defined({ Audience: nonEmpty(s.identity.aud), TTL: ns(s.identity.ttl) }),
  });
}

function scaling(s: ScalingSpec, count: number): ScalingPolicy {
  const p = s.policy;
  let policy: Record<string, unknown> | undefined;
  if (p !== undefined) {
    policy = defined({
      cooldown: p.cooldown === undefined ? undefined : p.cooldown,
      evaluation_interval: p.evaluation_interval,
      check:
        p.checks === undefined || p.checks.length === 0
          ? undefined
          : p.checks.map((c) => ({
              [c.name]: [
                defined({
                  source: c.source,
                  query: c.query,
                  query_window: c.query_window,
                  strategy: [{ [c.strategy.name]: [defined({ target: c.strategy.target })] }],
                }),
              ],
            })),
    });
  }
  return defined({ Min: s.min ?? count, Max: s.max, Enabled: s.enabled ?? true, Type: 'horizontal' as const, Policy: policy });
}

function group(g: GroupSpec, r: ResolvedService, opts: RenderOptions): TaskGroup {
  const type = r.spec.type ?? 'service';
  const count = g.count ?? 1;
  const dynamic: Port[] = [];
  const reserved: Port[] = [];
  for (const [Label, p] of Object.entries(g.ports ?? {})) {
    const port = defined({ Label, Value: p.static, To: p.to, HostNetwork: p.host_network });
    (p.static === undefined ? dynamic : reserved).push(port);
  }
  const dns =
    g.dns === undefined ? undefined : defined({ Servers: nonEmpty(g.dns.servers), Searches: nonEmpty(g.dns.searches), Options: nonEmpty(g.dns.options) });
  const networks: NetworkResource[] | undefined =
    dynamic.length + reserved.length === 0 && g.network_mode === undefined && dns === undefined
      ? undefined
      : [defined({ Mode: g.network_mode, DNS: dns, DynamicPorts: nonEmpty(dynamic), ReservedPorts: nonEmpty(reserved) })];
  let update: UpdateStrategy | undefined;
  if (type === 'service' || type === 'system') {
    // Each field: the group's, else the job's `update` (Nomad's job-level default), else hashiship's.
    const u = { ...r.spec.update, ...definedUpdate(g.update) };
    const d = RenderDefaults.update;
    update = defined({
      MaxParallel: u.max_parallel ?? d.MaxParallel,
      Canary: u.canary ?? d.Canary,
      HealthCheck: u.health_check ?? d.HealthCheck,
      MinHealthyTime: ns(u.min_healthy_time) ?? d.MinHealthyTime,
      HealthyDeadline: ns(u.healthy_deadline) ?? d.HealthyDeadline,
      ProgressDeadline: ns(u.progress_deadline) ?? d.ProgressDeadline,
      AutoRevert: u.auto_revert ?? d.AutoRevert,
      AutoPromote: u.auto_promote ?? d.AutoPromote,
      // Unset: Nomad's 30s (no hashiship opinion).
      Stagger: ns(u.stagger),
    });
  }
  const canary = (update?.Canary ?? 0) > 0;
  const volumes: Record<string, VolumeRequest> = {};
  for (const name of Object.keys(g.volumes ?? {}).sort()) {
    const v = g.volumes![name]!;
    volumes[name] = defined({
      Name: name,
      Type: v.type,
      Source: v.source,
      ReadOnly: v.read_only ?? false,
      AccessMode: v.access_mode,
      AttachmentMode: v.attachment_mode,
      PerAlloc: v.per_alloc ?? false,
      Sticky: v.sticky,
      MountOptions: v.mount_options === undefined ? undefined : defined({ FSType: v.mount_options.fs_type, MountFlags: nonEmpty(v.mount_options.mount_flags) }),
    });
  }
  const services = (g.services ?? []).map((s) => service(s, g, r, canary));
  const rs = g.restart;
  const rp = g.reschedule;
  const rendered: TaskGroup = defined({
    Name: g.name,
    Count: type === 'system' || type === 'sysbatch' ? undefined : count,
    Constraints: constraints(g.constraints),
    Affinities: affinities(g.affinities),
    Spreads: spreads(g.spread),
    // Each task's `nomad:` escape hatch is merged after it is rendered.
    Tasks: g.tasks.map((t) => mergeRaw('Task', task(t, g, r, opts, canary), t.nomad)),
    Volumes: Object.keys(volumes).length === 0 ? undefined : volumes,
    RestartPolicy: rs === undefined ? undefined : defined({ Attempts: rs.attempts, Interval: ns(rs.interval), Delay: ns(rs.delay), Mode: rs.mode }),
    ReschedulePolicy:
      rp === undefined
        ? undefined
        : defined({
            Attempts: rp.attempts,
            Interval: ns(rp.interval),
            Delay: ns(rp.delay),
            DelayFunction: rp.delay_function,
            MaxDelay: ns(rp.max_delay),
            Unlimited: rp.unlimited,
          }),
    EphemeralDisk:
      g.ephemeral_disk === undefined
        ? undefined
        : defined({ SizeMB: g.ephemeral_disk.size, Sticky: g.ephemeral_disk.sticky, Migrate: g.ephemeral_disk.migrate }),
    Update: update,
    Migrate: migrateStrategy(g.migrate),
    Networks: networks,
    Meta: sortedMap(g.meta),
    Services: nonEmpty(services),
    // Nomad has no field for a zero delay: `shutdown_delay: 0s` renders as absent (Nomad's default).
    ShutdownDelay: nonZero(
      ns(g.shutdown_delay) ?? (services.length > 0 ? (ns(r.environment?.defaults?.shutdown_delay) ?? RenderDefaults.shutdownDelay) : undefined),
    ),
    Scaling: g.scaling === undefined ? undefined : scaling(g.scaling, count),
    Disconnect:
      g.disconnect === undefined
        ? undefined
        : defined({
            LostAfter: ns(g.disconnect.lost_after),
            Replace: g.disconnect.replace,
            Reconcile: g.disconnect.reconcile,
            StopOnClientAfter: ns(g.disconnect.stop_on_client_after),
          }),
  });
  return mergeRaw('TaskGroup', rendered, g.nomad);
}

/** A migrate block: exactly the fields the spec gives (Nomad fills in its defaults, a group's from the job's). */
function migrateStrategy(m: MigrateSpec | undefined): MigrateStrategy | undefined {
  return m === undefined
    ? undefined
    : defined({ MaxParallel: m.max_parallel, HealthCheck: m.health_check, MinHealthyTime: ns(m.min_healthy_time), HealthyDeadline: ns(m.healthy_deadline) });
}

/** An update block without its unset fields (so spreading it keeps what it does not set). */
function definedUpdate(u: UpdateSpec | undefined): UpdateSpec {
  return u === undefined ? {} : (defined(u) as UpdateSpec);
}

/** The job-level update block: exactly the fields the spec gives (Nomad fills in its defaults). */
function jobUpdate(u: UpdateSpec | undefined): JobUpdateStrategy | undefined {
  if (u === undefined) return undefined;
  return defined({
    MaxParallel: u.max_parallel,
    Canary: u.canary,
    HealthCheck: u.health_check,
    MinHealthyTime: ns(u.min_healthy_time),
    HealthyDeadline: ns(u.healthy_deadline),
    ProgressDeadline: ns(u.progress_deadline),
    AutoRevert: u.auto_revert,
    AutoPromote: u.auto_promote,
    Stagger: ns(u.stagger),
  });
}

/**
 * Render one service (merged with its environment) as a Nomad job.
 * The job is stamped with {@link OwnershipMeta}: the tool, the environment and
 * the sha256 of the job as rendered before stamping.
 */
export function renderJob(r: ResolvedService, opts: RenderOptions = {}): Job {
  const s = r.spec;
  const type = s.type ?? 'service';
  const rendered: Job = defined({
    ID: s.name,
    Name: s.name,
    Region: s.region ?? RenderDefaults.region,
    Namespace: s.namespace ?? opts.namespace ?? RenderDefaults.namespace,
    Type: type === 'periodic' ? 'batch' : type,
    Priority: s.priority ?? RenderDefaults.priority,
    // `datacenters: []` says none: Nomad's default (`["*"]`, filled in when Nomad registers the job).
    Datacenters: s.datacenters !== undefined && s.datacenters.length === 0 ? undefined : [...(s.datacenters ?? RenderDefaults.datacenters)],
    NodePool: s.node_pool,
    Update: type === 'service' || type === 'system' ? jobUpdate(s.update) : undefined,
    Migrate: type === 'service' ? migrateStrategy(s.migrate) : undefined,
    Constraints: constraints(s.constraints),
    Affinities: affinities(s.affinities),
    Spreads: spreads(s.spread),
    TaskGroups: s.groups.map((g) => group(g, r, opts)),
    Periodic:
      // A periodic job is a batch job on a schedule; a sysbatch job may have one too.
      s.periodic === undefined || (type !== 'periodic' && type !== 'sysbatch')
        ? undefined
        : defined({
            Enabled: s.periodic.enabled ?? true,
            Specs: s.periodic.crons !== undefined ? [...s.periodic.crons] : s.periodic.cron !== undefined ? [s.periodic.cron] : [],
            SpecType: 'cron' as const,
            ProhibitOverlap: s.periodic.prohibit_overlap ?? r.environment?.defaults?.prohibit_overlap ?? true,
            TimeZone: s.periodic.time_zone,
          }),
    ParameterizedJob:
      s.parameterized === undefined
        ? undefined
        : defined({
            Payload: s.parameterized.payload,
            MetaRequired: nonEmpty(s.parameterized.meta_required),
            MetaOptional: nonEmpty(s.parameterized.meta_optional),
          }),
    UI:
      s.ui === undefined
        ? undefined
        : defined({ Description: s.ui.description, Links: nonEmpty((s.ui.links ?? []).map((l) => ({ Label: l.label, URL: l.url }))) }),
    Meta: sortedMap(s.meta) ?? {},
  });
  // The job's `nomad:` escape hatch is merged before stamping, so the hash covers it.
  const unstamped = mergeRaw('Job', rendered, s.nomad);
  // The model is built in a fixed key order (maps sorted), so its JSON is canonical.
  const hash = createHash('sha256').update(JSON.stringify(unstamped)).digest('hex');
  const meta: Record<string, string> = {
    ...unstamped.Meta,
    [OwnershipMeta.tool]: 'hashiship',
    [OwnershipMeta.specHash]: hash,
    ...(r.environment === undefined ? {} : { [OwnershipMeta.environment]: r.environment.name }),
  };
  return { ...unstamped, Meta: sortedMap(meta) ?? {} };
}

/** A rendered job: the model and its HCL text. */
export interface RenderedJob {
  readonly name: string;
  /** The service file it came from. */
  readonly file: string;
  readonly job: Job;
  readonly hcl: string;
}

/** Render services as job models and HCL. Pure and deterministic. */
export function renderAll(resolved: readonly ResolvedService[], opts: RenderOptions = {}): RenderedJob[] {
  return resolved.map((r) => {
    const job = renderJob(r, opts);
    return { name: job.ID, file: r.file, job, hcl: renderJobHcl(job) };
  });
}
