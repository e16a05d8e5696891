/**
 * The spec shapes as TypeScript: what a service file and an environment file
 * hold once they passed structural validation (schema.ts describes the same
 * shapes for validation and for editors). Keys are the YAML keys.
 */

export type Operator =
  | '='
  | '!='
  | '>'
  | '>='
  | '<'
  | '<='
  | 'distinct_hosts'
  | 'distinct_property'
  | 'regexp'
  | 'set_contains'
  | 'set_contains_all'
  | 'set_contains_any'
  | 'version'
  | 'semver'
  | 'is_set'
  | 'is_not_set';

export interface ConstraintSpec {
  readonly attribute?: string;
  readonly operator?: Operator;
  readonly value?: string;
}

export interface AffinitySpec {
  readonly attribute: string;
  readonly operator?: Operator;
  readonly value: string;
  readonly weight?: number;
}

export interface SpreadSpec {
  readonly attribute: string;
  readonly weight?: number;
  readonly targets?: Readonly<Record<string, number>>;
}

export interface UpdateSpec {
  readonly max_parallel?: number;
  readonly canary?: number;
  readonly health_check?: 'checks' | 'task_states' | 'manual';
  readonly min_healthy_time?: string;
  readonly healthy_deadline?: string;
  readonly progress_deadline?: string;
  readonly auto_revert?: boolean;
  readonly auto_promote?: boolean;
  /** Delay between rolling batches of a system job (Nomad `stagger`); unset: Nomad's 30s. */
  readonly stagger?: string;
}

export interface RestartSpec {
  readonly attempts?: number;
  readonly interval?: string;
  readonly delay?: string;
  readonly mode?: 'fail' | 'delay';
}

export interface RescheduleSpec {
  readonly attempts?: number;
  readonly interval?: string;
  readonly delay?: string;
  readonly delay_function?: 'constant' | 'exponential' | 'fibonacci';
  readonly max_delay?: string;
  readonly unlimited?: boolean;
}

export interface MigrateSpec {
  readonly max_parallel?: number;
  readonly health_check?: 'checks' | 'task_states';
  readonly min_healthy_time?: string;
  readonly healthy_deadline?: string;
}

export interface DeviceSpec {
  readonly name: string;
  readonly count?: number;
  readonly constraints?: readonly ConstraintSpec[];
  readonly affinities?: readonly AffinitySpec[];
}

export interface ResourcesSpec {
  readonly cpu?: number;
  readonly cores?: number;
  /** Only in service specs (not environment overrides). */
  readonly devices?: readonly DeviceSpec[];
  readonly memory?: number;
  readonly memory_max?: number;
}

/** Nomad's `on_update`: how a check (or a service's checks) counts during a deployment. */
export type OnUpdate = 'require_healthy' | 'ignore_warnings' | 'ignore';

export interface CheckSpec {
  /** Unset: Nomad names the check `service: "<service>" check`. */
  readonly name?: string;
  readonly type: 'http' | 'tcp' | 'grpc' | 'script';
  readonly port?: string;
  readonly path?: string;
  readonly method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'OPTIONS';
  readonly protocol?: 'http' | 'https';
  readonly grpc_service?: string;
  readonly grpc_use_tls?: boolean;
  readonly command?: string;
  readonly args?: readonly string[];
  readonly task?: string;
  readonly interval?: string;
  readonly timeout?: string;
  readonly check_restart?: { readonly limit: number; readonly grace?: string; readonly ignore_warnings?: boolean };
  readonly address_mode?: 'host' | 'driver' | 'alloc';
  readonly header?: Readonly<Record<string, readonly string[]>>;
  readonly body?: string;
  readonly tls_skip_verify?: boolean;
  readonly success_before_passing?: number;
  readonly failures_before_critical?: number;
  readonly expose?: boolean;
  readonly on_update?: OnUpdate;
}

export interface RouteSpec {
  readonly host?: string;
  readonly path?: string;
  readonly strip?: string;
  readonly proto?: 'http' | 'https' | 'grpc' | 'grpcs';
}

/** A workload identity (Nomad `identity`): a JWT Nomad signs for the task or service. */
export interface IdentitySpec {
  /** Unset or `default`: the task's default identity. */
  readonly name?: string;
  readonly aud?: readonly string[];
  readonly env?: boolean;
  readonly file?: boolean;
  readonly filepath?: string;
  readonly ttl?: string;
  readonly change_mode?: 'noop' | 'restart' | 'signal';
  readonly change_signal?: string;
}

/** A service's identity, used to get its Consul service identity token. */
export interface ServiceIdentitySpec {
  readonly aud?: readonly string[];
  readonly ttl?: string;
}

/** A Consul Connect upstream (Nomad `upstreams`): a local listener the proxy forwards to a service. */
export interface UpstreamSpec {
  readonly destination_name: string;
  readonly destination_namespace?: string;
  readonly destination_peer?: string;
  readonly destination_partition?: string;
  readonly destination_type?: 'service' | 'prepared_query';
  readonly local_bind_port: number;
  readonly local_bind_address?: string;
  readonly datacenter?: string;
  readonly mesh_gateway?: { readonly mode: 'local' | 'remote' | 'none' };
  /** Free-form upstream configuration (Envoy escape hatches). */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** A path the Connect proxy exposes without mTLS (health checks, metrics). */
export interface ExposePathSpec {
  readonly path: string;
  readonly protocol?: 'http' | 'http2';
  readonly local_path_port: number;
  /** A group port label the proxy listens on. */
  readonly listener_port: string;
}

/** The sidecar proxy's settings (Nomad `proxy`). */
export interface ProxySpec {
  readonly local_service_address?: string;
  readonly local_service_port?: number;
  readonly upstreams?: readonly UpstreamSpec[];
  readonly expose?: { readonly paths: readonly ExposePathSpec[] };
  readonly transparent_proxy?: {
    readonly uid?: string;
    readonly outbound_port?: number;
    readonly exclude_inbound_ports?: readonly string[];
    readonly exclude_outbound_ports?: readonly number[];
    readonly exclude_outbound_cidrs?: readonly string[];
    readonly exclude_uids?: readonly string[];
    readonly no_dns?: boolean;
  };
  /** Free-form proxy configuration (e.g. `protocol: http`). */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** The sidecar service registered for the proxy (Nomad `sidecar_service`). */
export interface SidecarServiceSpec {
  /** A group port label; unset: Nomad allocates a dynamic port. */
  readonly port?: string;
  readonly tags?: readonly string[];
  readonly meta?: Readonly<Record<string, string>>;
  readonly disable_default_tcp_check?: boolean;
  readonly proxy?: ProxySpec;
}

/** Overrides of the sidecar task Nomad injects (Nomad `sidecar_task`). */
export interface SidecarTaskSpec {
  readonly name?: string;
  readonly driver?: string;
  readonly user?: string;
  /** Driver configuration, free-form as the driver takes it. */
  readonly config?: Readonly<Record<string, unknown>>;
  readonly env?: Readonly<Record<string, string>>;
  readonly meta?: Readonly<Record<string, string>>;
  readonly resources?: Omit<ResourcesSpec, 'devices'>;
  readonly kill_timeout?: string;
  readonly kill_signal?: string;
  readonly shutdown_delay?: string;
  readonly logs?: { readonly max_files?: number; readonly max_file_size?: number };
}

/** Consul Connect (Nomad `connect`): a sidecar proxy, or a Connect-native service. */
export interface ConnectSpec {
  readonly native?: boolean;
  readonly sidecar_service?: SidecarServiceSpec;
  readonly sidecar_task?: SidecarTaskSpec;
}

/** A Nomad 1.11 `secret` block: a value Nomad fetches from a provider for `${secret.<name>.<key>}`. */
export interface SecretBlockSpec {
  /** `vault`, `nomad` (Nomad Variables) or a custom provider plugin. */
  readonly provider: string;
  readonly path: string;
  /** Options of the built-in providers (vault, nomad), e.g. `engine: kv_v2`. */
  readonly config?: Readonly<Record<string, string>>;
  /** Environment of a custom provider plugin. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ServiceRegistrationSpec {
  readonly name?: string;
  /** A port label, or a port number (digits) with `address_mode: alloc`. */
  readonly port: string;
  readonly address_mode?: 'auto' | 'host' | 'driver' | 'alloc';
  readonly provider?: 'consul' | 'nomad';
  readonly task?: string;
  readonly tags?: readonly string[];
  /** Tags canaries carry instead of `tags` (route tags added); unset: tags + route tags + `canary`. */
  readonly canary_tags?: readonly string[];
  readonly meta?: Readonly<Record<string, string>>;
  /** Meta canaries carry instead of `meta`. */
  readonly canary_meta?: Readonly<Record<string, string>>;
  readonly enable_tag_override?: boolean;
  readonly on_update?: OnUpdate;
  readonly checks?: readonly CheckSpec[];
  readonly routes?: readonly RouteSpec[];
  /** Consul Connect: a sidecar proxy or a Connect-native service (group services). */
  readonly connect?: ConnectSpec;
  /** The workload identity the service registers with (Consul service identity tokens). */
  readonly identity?: ServiceIdentitySpec;
}

export interface PortSpec {
  readonly static?: number;
  readonly to?: number;
  readonly host_network?: string;
}

export interface VolumeSpec {
  readonly type: 'host' | 'csi';
  readonly source: string;
  readonly read_only?: boolean;
  readonly access_mode?: string;
  readonly attachment_mode?: 'file-system' | 'block-device';
  readonly per_alloc?: boolean;
  readonly sticky?: boolean;
  readonly mount_options?: { readonly fs_type?: string; readonly mount_flags?: readonly string[] };
}

export interface ScalingCheckSpec {
  readonly name: string;
  readonly source: string;
  readonly query: string;
  readonly query_window?: string;
  readonly strategy: { readonly name: string; readonly target?: number };
}

export interface ScalingSpec {
  readonly min?: number;
  readonly max: number;
  readonly enabled?: boolean;
  readonly policy?: {
    readonly cooldown?: string;
    readonly evaluation_interval?: string;
    readonly checks?: readonly ScalingCheckSpec[];
  };
}

export interface ImageSpec {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export interface SecretSpec {
  readonly env?: string;
  readonly file?: string;
  readonly path: string;
  readonly key: string;
  /** Parameters of a write-only path (PKI issue/sign), sent with the request. */
  readonly params?: Readonly<Record<string, string>>;
}

/** Whether Vault answers this path only to a write (PKI `<mount>/issue/<role>`, `<mount>/sign/<role>`). */
export function isVaultWritePath(path: string): boolean {
  return /^[^/]+\/(issue|sign)\/[^/]+$/.test(path);
}

export interface KvSpec {
  readonly env?: string;
  readonly file?: string;
  readonly key: string;
}

export interface TemplateSpec {
  readonly destination: string;
  /** The template text; or `source`, a file in the task directory. */
  readonly data?: string;
  readonly source?: string;
  readonly env?: boolean;
  readonly change_mode?: 'restart' | 'signal' | 'noop';
  readonly change_signal?: string;
  readonly perms?: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly splay?: string;
  readonly wait?: { readonly min?: string; readonly max?: string };
  readonly once?: boolean;
  readonly error_on_missing_key?: boolean;
}

/** A docker `mount` (bind, volume or tmpfs). */
export interface DockerMountSpec {
  /** @default volume (Nomad's docker driver) */
  readonly type?: 'bind' | 'volume' | 'tmpfs';
  readonly target: string;
  readonly source?: string;
  readonly readonly?: boolean;
  readonly bind_options?: { readonly propagation?: string };
  readonly volume_options?: {
    readonly no_copy?: boolean;
    readonly labels?: Readonly<Record<string, string>>;
    readonly driver_config?: { readonly name?: string; readonly options?: Readonly<Record<string, string>> };
  };
  readonly tmpfs_options?: { readonly size?: number; readonly mode?: number };
}

/** Docker driver options (the task's `config` block beside image, command, args, ports). */
export interface DockerSpec {
  readonly entrypoint?: readonly string[];
  readonly work_dir?: string;
  readonly hostname?: string;
  readonly network_mode?: string;
  readonly privileged?: boolean;
  readonly cap_add?: readonly string[];
  readonly cap_drop?: readonly string[];
  readonly volumes?: readonly string[];
  readonly mount?: readonly DockerMountSpec[];
  readonly devices?: readonly { readonly host_path: string; readonly container_path?: string; readonly cgroup_permissions?: string }[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly logging?: { readonly type: string; readonly config?: Readonly<Record<string, string>> };
  readonly ulimit?: Readonly<Record<string, string>>;
  readonly sysctl?: Readonly<Record<string, string>>;
  readonly shm_size?: number;
  readonly extra_hosts?: readonly string[];
  readonly dns_servers?: readonly string[];
  readonly dns_search_domains?: readonly string[];
  readonly dns_options?: readonly string[];
  readonly image_pull_timeout?: string;
  readonly force_pull?: boolean;
  readonly auth_soft_fail?: boolean;
  /** PID namespace: `host` shares the node's (node exporters, debuggers). */
  readonly pid_mode?: string;
  /** IPC namespace: `host`, `shareable`, `private` or `container:<name>`. */
  readonly ipc_mode?: string;
}

/** A task that is a CSI plugin (Nomad `csi_plugin`). */
export interface CsiPluginSpec {
  readonly id: string;
  readonly type: 'node' | 'controller' | 'monolith';
  /** @default /csi */
  readonly mount_dir?: string;
  /** @default /local/csi */
  readonly stage_publish_base_dir?: string;
  /** @default 30s */
  readonly health_timeout?: string;
}

export interface TaskSpec {
  readonly name: string;
  /**
   * The task driver. docker, exec, raw_exec and java are typed; any other driver Nomad
   * runs (podman, qemu, exec2, a plugin) takes its `config` in `nomad: { Config: … }`.
   * @default docker
   */
  readonly driver?: string;
  readonly image?: ImageSpec;
  /** `path`: the jar in the task directory (`jar_path`); default `local/<file name of source>`. */
  readonly jar?: {
    readonly source: string;
    readonly checksum?: string;
    readonly path?: string;
    /** HTTP headers of the fetch (`artifact { headers }`). */
    readonly headers?: Readonly<Record<string, string>>;
  };
  readonly jvm_options?: readonly string[];
  readonly class?: string;
  /** The java class path (`class_path`), e.g. `${NOMAD_TASK_DIR}/lib/*`. */
  readonly class_path?: string;
  readonly command?: string;
  readonly args?: readonly string[];
  readonly user?: string;
  readonly ports?: readonly string[];
  /** Docker driver options. */
  readonly docker?: DockerSpec;
  /** Services registered with the task (registration follows the task). */
  readonly services?: readonly ServiceRegistrationSpec[];
  readonly shutdown_delay?: string;
  readonly lifecycle?: { readonly hook: 'prestart' | 'poststart' | 'poststop'; readonly sidecar?: boolean };
  readonly env?: Readonly<Record<string, string>>;
  readonly meta?: Readonly<Record<string, string>>;
  readonly resources?: ResourcesSpec;
  readonly kill_timeout?: string;
  readonly kill_signal?: string;
  /** The group's leader task (Nomad `leader`). */
  readonly leader?: boolean;
  readonly logs?: { readonly max_files?: number; readonly max_file_size?: number; readonly disabled?: boolean };
  readonly artifacts?: readonly {
    readonly source: string;
    readonly destination?: string;
    readonly mode?: 'any' | 'file' | 'dir';
    readonly options?: Readonly<Record<string, string>>;
    readonly headers?: Readonly<Record<string, string>>;
    readonly chown?: boolean;
  }[];
  readonly mounts?: readonly { readonly volume: string; readonly destination: string; readonly read_only?: boolean }[];
  readonly vault?: {
    readonly role?: string;
    readonly env?: boolean;
    readonly disable_file?: boolean;
    readonly change_mode?: 'restart' | 'signal' | 'noop';
    readonly change_signal?: string;
  };
  readonly secrets?: readonly SecretSpec[];
  readonly kv?: readonly KvSpec[];
  readonly templates?: readonly TemplateSpec[];
  /** Workload identities of the task: the default one (no `name`) and named ones. */
  readonly identities?: readonly IdentitySpec[];
  /** Nomad 1.11 `secret` blocks by name (`${secret.<name>.<key>}`). */
  readonly secret_blocks?: Readonly<Record<string, SecretBlockSpec>>;
  readonly constraints?: readonly ConstraintSpec[];
  /** Where a dispatched job's payload is written (Nomad `dispatch_payload`): a file under `local/`. */
  readonly dispatch_payload?: { readonly file: string };
  /** The task is a CSI plugin. */
  readonly csi_plugin?: CsiPluginSpec;
  /** Opt-outs of deliberate policies, each with its reason. */
  readonly allow?: AllowSpec;
  /** Escape hatch: raw Nomad API Task fields merged after rendering. */
  readonly nomad?: Readonly<Record<string, unknown>>;
}

/** Opt-outs of hashiship's deliberate policies for one task; every value is the reason. */
export interface AllowSpec {
  /** Allow the image tag `latest`. */
  readonly latest?: string;
  /** Allow plain values under secret-looking variable names, by name. */
  readonly env?: Readonly<Record<string, string>>;
  /** Allow `class` or `class_path` beside a java `jar` (Nomad passes `class` to the jar; `java -jar` ignores the class path). */
  readonly jar_and_class?: string;
}

export interface GroupSpec {
  readonly name: string;
  readonly count?: number;
  readonly ports?: Readonly<Record<string, PortSpec>>;
  readonly network_mode?: 'host' | 'bridge';
  /** DNS of the group network (Nomad `network.dns`); unset: the node's. */
  readonly dns?: { readonly servers?: readonly string[]; readonly searches?: readonly string[]; readonly options?: readonly string[] };
  readonly services?: readonly ServiceRegistrationSpec[];
  readonly tasks: readonly TaskSpec[];
  readonly volumes?: Readonly<Record<string, VolumeSpec>>;
  readonly update?: UpdateSpec;
  readonly restart?: RestartSpec;
  readonly reschedule?: RescheduleSpec;
  readonly migrate?: MigrateSpec;
  readonly ephemeral_disk?: { readonly size?: number; readonly sticky?: boolean; readonly migrate?: boolean };
  readonly constraints?: readonly ConstraintSpec[];
  readonly affinities?: readonly AffinitySpec[];
  readonly spread?: readonly SpreadSpec[];
  readonly scaling?: ScalingSpec;
  readonly shutdown_delay?: string;
  readonly disconnect?: DisconnectSpec;
  readonly meta?: Readonly<Record<string, string>>;
  /** Escape hatch: raw Nomad API TaskGroup fields merged after rendering. */
  readonly nomad?: Readonly<Record<string, unknown>>;
}

/** What happens to allocations on a client that lost contact (Nomad `disconnect`). */
export interface DisconnectSpec {
  readonly lost_after?: string;
  readonly replace?: boolean;
  readonly reconcile?: 'best_score' | 'keep_original' | 'keep_replacement' | 'longest_running';
  readonly stop_on_client_after?: string;
}

/** A smoke request: sent through Fabio to the service's first route in the environment. */
export interface SmokeSpec {
  readonly name?: string;
  /** Path (with query) appended to the route. */
  readonly path: string;
  readonly method?: 'GET' | 'HEAD';
  /** Expected status. @default 200 */
  readonly status?: number;
  /** Text the body must contain. */
  readonly body?: string;
}

/** How releases are promoted into an environment (`hashiship promote`). */
export interface PromotionSpec {
  /** `--approve` is required. @default false */
  readonly require_approval?: boolean;
  /** The source release must be at least this old. */
  readonly min_soak?: string;
  /** Canary traffic steps in percent, ending with 100. @default [10, 50, 100] */
  readonly steps?: readonly number[];
  /** How long each weight step is held. @default 30s */
  readonly hold?: string;
}

/** A service spec: `jobs/services/<name>.yaml`. */
export interface ServiceSpec {
  readonly $schema?: string;
  readonly name: string;
  readonly type?: 'service' | 'batch' | 'periodic' | 'system' | 'sysbatch';
  readonly namespace?: string;
  readonly region?: string;
  /** Unset: `["*"]` written out; `[]`: no datacenters in the job (Nomad fills in `["*"]` when it registers it). */
  readonly datacenters?: readonly string[];
  readonly node_pool?: string;
  readonly priority?: number;
  /** The update block of the job: the default of every group's `update` (service and system jobs). */
  readonly update?: UpdateSpec;
  /** The migrate block of the job: the default of every group's `migrate` (service jobs). */
  readonly migrate?: MigrateSpec;
  /** `cron` or `crons` (several schedules); for periodic and sysbatch jobs. */
  readonly periodic?: {
    readonly cron?: string;
    readonly crons?: readonly string[];
    readonly time_zone?: string;
    readonly prohibit_overlap?: boolean;
    readonly enabled?: boolean;
  };
  /** A batch or sysbatch job run by `nomad job dispatch`. */
  readonly parameterized?: {
    readonly payload?: 'optional' | 'required' | 'forbidden';
    readonly meta_required?: readonly string[];
    readonly meta_optional?: readonly string[];
  };
  /** How the job shows in Nomad's web UI. */
  readonly ui?: { readonly description?: string; readonly links?: readonly { readonly label: string; readonly url: string }[] };
  readonly meta?: Readonly<Record<string, string>>;
  readonly constraints?: readonly ConstraintSpec[];
  readonly affinities?: readonly AffinitySpec[];
  readonly spread?: readonly SpreadSpec[];
  /** HTTP requests sent through Fabio after a deployment; a release is evidence only when they pass. */
  readonly smoke?: readonly SmokeSpec[];
  readonly groups: readonly GroupSpec[];
  /** Kind of spec file; `job` (the default) is a Nomad job. */
  readonly kind?: 'job';
  /** Service configuration written to Consul KV under `config/<name>/` by `hashiship kv sync`. */
  readonly config?: Readonly<Record<string, string>>;
  /** Escape hatch: raw Nomad API Job fields merged after rendering. */
  readonly nomad?: Readonly<Record<string, unknown>>;
}

export interface TaskOverride {
  readonly resources?: Omit<ResourcesSpec, 'devices'>;
  readonly env?: Readonly<Record<string, string>>;
  readonly image?: { readonly tag?: string; readonly digest?: string };
}

export interface GroupOverride {
  readonly count?: number;
  readonly update?: UpdateSpec;
  readonly scaling?: { readonly min?: number; readonly max?: number; readonly enabled?: boolean };
  readonly constraints?: readonly ConstraintSpec[];
  readonly tasks?: Readonly<Record<string, TaskOverride>>;
}

export interface ServiceOverride {
  readonly namespace?: string;
  readonly datacenters?: readonly string[];
  readonly priority?: number;
  readonly vault_role?: string;
  readonly meta?: Readonly<Record<string, string>>;
  readonly periodic?: { readonly cron?: string; readonly enabled?: boolean };
  readonly groups?: Readonly<Record<string, GroupOverride>>;
  /** Configuration keys added or replaced in this environment. */
  readonly config?: Readonly<Record<string, string>>;
}

/** A Nomad namespace an environment declares (`namespaces:`). */
export interface NamespaceSpec {
  readonly name: string;
  /** Given to the namespace when hashiship creates it. */
  readonly description?: string;
}

/**
 * hashiship's default opinions, switchable per environment (`defaults:`): each
 * applies where a spec leaves the field out. `update.auto_revert` is switched by
 * the environment's `update` block.
 */
export interface OpinionDefaults {
  /** Group shutdown delay of groups with services. @default 5s */
  readonly shutdown_delay?: string;
  /** Task memory in MB. @default 128 */
  readonly memory?: number;
  /** Periodic jobs skip a run while the previous one runs. @default true */
  readonly prohibit_overlap?: boolean;
  /** The Vault token in the task's environment. @default false */
  readonly vault_env?: boolean;
  /** What canaries of services without `canary_tags` and `routes` carry: `fabio` (tags + `canary`) or `nomad` (the tags). @default fabio */
  readonly canary_tags?: 'fabio' | 'nomad';
  /** Which ports a docker task without `ports` publishes: `implicit` (the only main docker task: every free group port) or `listed` (none). @default implicit */
  readonly publish_ports?: 'implicit' | 'listed';
}

/** An environment: `jobs/environments/<name>.yaml`. */
export interface EnvironmentSpec {
  readonly $schema?: string;
  readonly name: string;
  readonly region?: string;
  readonly namespace?: string;
  /** Namespaces hashiship creates when missing (plan shows them, deploy creates them, nothing deletes them). */
  readonly namespaces?: readonly NamespaceSpec[];
  readonly datacenters?: readonly string[];
  readonly registry?: string;
  readonly domain?: string;
  readonly vault_role?: string;
  /** Applied to every group that has an update strategy (services and system jobs). */
  readonly update?: UpdateSpec;
  readonly meta?: Readonly<Record<string, string>>;
  /** How releases are promoted into this environment. */
  readonly promotion?: PromotionSpec;
  /** hashiship's default opinions, switched for this environment. */
  readonly defaults?: OpinionDefaults;
  readonly services?: Readonly<Record<string, ServiceOverride>>;
  /** Per-external-service overrides by name (`kind: external` specs). */
  readonly external?: Readonly<Record<string, ExternalOverride>>;
}

/** A health check Consul runs against an external service (or a TTL the service updates). */
export interface ExternalCheckSpec {
  readonly name?: string;
  readonly type: 'http' | 'tcp' | 'grpc' | 'ttl';
  /** Port checked; defaults to the service port. */
  readonly port?: number;
  readonly path?: string;
  readonly method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'OPTIONS';
  readonly protocol?: 'http' | 'https';
  readonly tls_skip_verify?: boolean;
  readonly grpc_service?: string;
  readonly grpc_use_tls?: boolean;
  readonly interval?: string;
  readonly timeout?: string;
  readonly ttl?: string;
  readonly deregister_critical_service_after?: string;
}

/** An external service: `jobs/services/<name>.yaml` with `kind: external`, registered in Consul, not run by Nomad. */
export interface ExternalSpec {
  readonly $schema?: string;
  readonly kind: 'external';
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly tags?: readonly string[];
  readonly meta?: Readonly<Record<string, string>>;
  readonly checks?: readonly ExternalCheckSpec[];
  readonly config?: Readonly<Record<string, string>>;
}

/** Environment overrides of an external service. */
export interface ExternalOverride {
  /** false: not registered in this environment. */
  readonly enabled?: boolean;
  readonly address?: string;
  readonly port?: number;
  /** Tags added in this environment. */
  readonly tags?: readonly string[];
  readonly meta?: Readonly<Record<string, string>>;
  readonly config?: Readonly<Record<string, string>>;
}
