/**
 * The Nomad job model: the subset of the HTTP API's `Job` structure (api/jobs.go,
 * api/tasks.go, api/services.go, api/resources.go) that hashiship renders.
 * Field names and units are the API's: durations are nanoseconds, memory MB.
 * A rendered job holds only the fields we set; Nomad canonicalizes the rest on
 * registration.
 */

/** A duration in nanoseconds, as the API carries `time.Duration`. */
export type Nanoseconds = number;

export interface Constraint {
  readonly LTarget: string;
  readonly RTarget: string;
  readonly Operand: string;
}

export interface Affinity {
  readonly LTarget: string;
  readonly RTarget: string;
  readonly Operand: string;
  readonly Weight: number;
}

export interface SpreadTarget {
  readonly Value: string;
  readonly Percent: number;
}

export interface Spread {
  readonly Attribute: string;
  readonly Weight: number;
  readonly SpreadTarget?: readonly SpreadTarget[];
}

export interface UpdateStrategy {
  readonly MaxParallel: number;
  readonly HealthCheck: string;
  readonly MinHealthyTime: Nanoseconds;
  readonly HealthyDeadline: Nanoseconds;
  readonly ProgressDeadline: Nanoseconds;
  readonly Canary: number;
  readonly AutoRevert: boolean;
  readonly AutoPromote: boolean;
  readonly Stagger?: Nanoseconds;
}

/** The job-level `update` block: only the fields a spec gives (Nomad fills in the rest). */
export type JobUpdateStrategy = Partial<UpdateStrategy>;

export interface PeriodicConfig {
  readonly Enabled: boolean;
  /** Cron expressions (`crons` in HCL; the single `cron` is deprecated). */
  readonly Specs: readonly string[];
  /** Set by the parser whenever a cron spec is present. */
  readonly SpecType: 'cron';
  readonly ProhibitOverlap: boolean;
  readonly TimeZone?: string;
}

export interface RestartPolicy {
  readonly Attempts?: number;
  readonly Interval?: Nanoseconds;
  readonly Delay?: Nanoseconds;
  readonly Mode?: string;
}

export interface ReschedulePolicy {
  readonly Attempts?: number;
  readonly Interval?: Nanoseconds;
  readonly Delay?: Nanoseconds;
  readonly DelayFunction?: string;
  readonly MaxDelay?: Nanoseconds;
  readonly Unlimited?: boolean;
}

export interface MigrateStrategy {
  readonly MaxParallel?: number;
  readonly HealthCheck?: string;
  readonly MinHealthyTime?: Nanoseconds;
  readonly HealthyDeadline?: Nanoseconds;
}

export interface EphemeralDisk {
  readonly SizeMB?: number;
  readonly Sticky?: boolean;
  readonly Migrate?: boolean;
}

export interface Port {
  readonly Label: string;
  /** Static port; 0 for dynamic. */
  readonly Value?: number;
  readonly To?: number;
  readonly HostNetwork?: string;
}

export interface NetworkResource {
  readonly Mode?: string;
  readonly DNS?: { readonly Servers?: readonly string[]; readonly Searches?: readonly string[]; readonly Options?: readonly string[] };
  readonly DynamicPorts?: readonly Port[];
  readonly ReservedPorts?: readonly Port[];
}

export interface CheckRestart {
  readonly Limit: number;
  readonly Grace?: Nanoseconds;
  readonly IgnoreWarnings: boolean;
}

export interface ServiceCheck {
  /** Unset: Nomad names the check `service: "<service>" check` when it canonicalizes the job. */
  readonly Name?: string;
  readonly Type: string;
  readonly PortLabel?: string;
  readonly Path?: string;
  readonly Method?: string;
  readonly Protocol?: string;
  readonly Command?: string;
  readonly Args?: readonly string[];
  readonly TaskName?: string;
  readonly GRPCService?: string;
  readonly GRPCUseTLS?: boolean;
  readonly Interval: Nanoseconds;
  readonly Timeout: Nanoseconds;
  readonly CheckRestart?: CheckRestart;
  readonly AddressMode?: string;
  readonly Header?: Readonly<Record<string, readonly string[]>>;
  readonly Body?: string;
  readonly TLSSkipVerify?: boolean;
  readonly SuccessBeforePassing?: number;
  readonly FailuresBeforeCritical?: number;
  readonly Expose?: boolean;
  readonly OnUpdate?: string;
}

/** A workload identity (api.WorkloadIdentity). */
export interface WorkloadIdentity {
  readonly Name?: string;
  readonly Audience?: readonly string[];
  readonly ChangeMode?: string;
  readonly ChangeSignal?: string;
  readonly Env?: boolean;
  readonly File?: boolean;
  readonly Filepath?: string;
  readonly TTL?: Nanoseconds;
}

export interface ConsulUpstream {
  readonly DestinationName: string;
  readonly DestinationNamespace?: string;
  readonly DestinationPeer?: string;
  readonly DestinationPartition?: string;
  readonly DestinationType?: string;
  readonly LocalBindPort: number;
  readonly LocalBindAddress?: string;
  readonly Datacenter?: string;
  readonly MeshGateway?: { readonly Mode: string };
  readonly Config?: Readonly<Record<string, unknown>>;
}

export interface ConsulProxy {
  readonly LocalServiceAddress?: string;
  readonly LocalServicePort?: number;
  readonly Upstreams?: readonly ConsulUpstream[];
  readonly Expose?: {
    readonly Paths: readonly { readonly Path: string; readonly Protocol?: string; readonly LocalPathPort: number; readonly ListenerPort: string }[];
  };
  readonly TransparentProxy?: {
    readonly UID?: string;
    readonly OutboundPort?: number;
    readonly ExcludeInboundPorts?: readonly string[];
    readonly ExcludeOutboundPorts?: readonly number[];
    readonly ExcludeOutboundCIDRs?: readonly string[];
    readonly ExcludeUIDs?: readonly string[];
    readonly NoDNS?: boolean;
  };
  readonly Config?: Readonly<Record<string, unknown>>;
}

/** Consul Connect of a service (api.ConsulConnect). */
export interface ConsulConnect {
  readonly Native?: boolean;
  readonly SidecarService?: {
    readonly Port?: string;
    readonly Tags?: readonly string[];
    readonly Meta?: Readonly<Record<string, string>>;
    readonly DisableDefaultTCPCheck?: boolean;
    readonly Proxy?: ConsulProxy;
  };
  readonly SidecarTask?: {
    readonly Name?: string;
    readonly Driver?: string;
    readonly User?: string;
    readonly Config?: Readonly<Record<string, unknown>>;
    readonly Env?: Readonly<Record<string, string>>;
    readonly Resources?: { readonly CPU?: number; readonly Cores?: number; readonly MemoryMB?: number; readonly MemoryMaxMB?: number };
    readonly Meta?: Readonly<Record<string, string>>;
    readonly KillTimeout?: Nanoseconds;
    readonly LogConfig?: { readonly MaxFiles?: number; readonly MaxFileSizeMB?: number };
    readonly ShutdownDelay?: Nanoseconds;
    readonly KillSignal?: string;
  };
}

/** A Nomad 1.11 `secret` block (api.Secret). */
export interface SecretBlock {
  readonly Name: string;
  readonly Provider: string;
  readonly Path: string;
  readonly Config?: Readonly<Record<string, unknown>>;
  readonly Env?: Readonly<Record<string, string>>;
}

export interface Service {
  readonly Name: string;
  readonly PortLabel: string;
  readonly AddressMode?: string;
  readonly Provider: string;
  readonly Tags?: readonly string[];
  readonly CanaryTags?: readonly string[];
  readonly Meta?: Readonly<Record<string, string>>;
  readonly CanaryMeta?: Readonly<Record<string, string>>;
  readonly EnableTagOverride?: boolean;
  readonly OnUpdate?: string;
  readonly TaskName?: string;
  readonly Checks?: readonly ServiceCheck[];
  readonly Connect?: ConsulConnect;
  readonly Identity?: WorkloadIdentity;
}

export interface VolumeRequest {
  readonly Name: string;
  readonly Type: 'host' | 'csi';
  readonly Source: string;
  readonly ReadOnly: boolean;
  readonly AccessMode?: string;
  readonly AttachmentMode?: string;
  readonly PerAlloc: boolean;
  readonly Sticky?: boolean;
  readonly MountOptions?: { readonly FSType?: string; readonly MountFlags?: readonly string[] };
}

export interface VolumeMount {
  readonly Volume: string;
  readonly Destination: string;
  readonly ReadOnly: boolean;
}

export interface ScalingPolicy {
  readonly Min: number;
  readonly Max: number;
  readonly Enabled: boolean;
  readonly Type: 'horizontal';
  /** Free-form Nomad Autoscaler policy; nested blocks appear as lists of objects. */
  readonly Policy?: Readonly<Record<string, unknown>>;
}

export interface TaskLifecycle {
  readonly Hook: string;
  readonly Sidecar: boolean;
}

export interface RequestedDevice {
  readonly Name: string;
  readonly Count?: number;
  readonly Constraints?: readonly Constraint[];
  readonly Affinities?: readonly Affinity[];
}

export interface Resources {
  /** Unset when the task reserves `Cores`. */
  readonly CPU?: number;
  readonly Cores?: number;
  readonly Devices?: readonly RequestedDevice[];
  readonly MemoryMB: number;
  readonly MemoryMaxMB?: number;
}

export interface LogConfig {
  readonly MaxFiles: number;
  readonly MaxFileSizeMB: number;
  readonly Disabled?: boolean;
}

export interface TaskArtifact {
  readonly GetterSource: string;
  readonly RelativeDest?: string;
  readonly GetterMode?: string;
  readonly GetterOptions?: Readonly<Record<string, string>>;
  readonly GetterHeaders?: Readonly<Record<string, string>>;
  readonly Chown?: boolean;
}

export interface Template {
  readonly EmbeddedTmpl?: string;
  readonly SourcePath?: string;
  readonly Uid?: number;
  readonly Gid?: number;
  readonly Wait?: { readonly Min?: Nanoseconds; readonly Max?: Nanoseconds };
  readonly Once?: boolean;
  readonly DestPath: string;
  readonly ChangeMode: string;
  readonly ChangeSignal?: string;
  readonly Perms: string;
  readonly Splay: Nanoseconds;
  readonly ErrMissingKey: boolean;
  readonly Envvars: boolean;
}

export interface Vault {
  readonly Role?: string;
  readonly Env: boolean;
  readonly DisableFile: boolean;
  readonly ChangeMode: string;
  readonly ChangeSignal?: string;
}

export interface Task {
  readonly Name: string;
  readonly Driver: string;
  readonly User?: string;
  readonly Lifecycle?: TaskLifecycle;
  readonly Config: Readonly<Record<string, unknown>>;
  readonly Env?: Readonly<Record<string, string>>;
  readonly Meta?: Readonly<Record<string, string>>;
  readonly Resources: Resources;
  readonly KillTimeout?: Nanoseconds;
  readonly KillSignal?: string;
  readonly Leader?: boolean;
  readonly LogConfig?: LogConfig;
  readonly Artifacts?: readonly TaskArtifact[];
  readonly Templates?: readonly Template[];
  readonly Vault?: Vault;
  readonly VolumeMounts?: readonly VolumeMount[];
  readonly Constraints?: readonly Constraint[];
  readonly Affinities?: readonly Affinity[];
  readonly Services?: readonly Service[];
  readonly ShutdownDelay?: Nanoseconds;
  /** The default workload identity (an `identity` block without a name). */
  readonly Identity?: WorkloadIdentity;
  readonly Identities?: readonly WorkloadIdentity[];
  readonly Secrets?: readonly SecretBlock[];
  readonly DispatchPayload?: { readonly File: string };
  readonly CSIPluginConfig?: {
    readonly ID: string;
    readonly Type: string;
    readonly MountDir?: string;
    readonly StagePublishBaseDir?: string;
    readonly HealthTimeout?: Nanoseconds;
  };
}

export interface DisconnectStrategy {
  readonly LostAfter?: Nanoseconds;
  readonly Replace?: boolean;
  readonly Reconcile?: string;
  readonly StopOnClientAfter?: Nanoseconds;
}

export interface TaskGroup {
  readonly Name: string;
  readonly Count?: number;
  readonly Constraints?: readonly Constraint[];
  readonly Affinities?: readonly Affinity[];
  readonly Spreads?: readonly Spread[];
  readonly Tasks: readonly Task[];
  readonly Volumes?: Readonly<Record<string, VolumeRequest>>;
  readonly RestartPolicy?: RestartPolicy;
  readonly ReschedulePolicy?: ReschedulePolicy;
  readonly EphemeralDisk?: EphemeralDisk;
  readonly Update?: UpdateStrategy;
  readonly Migrate?: MigrateStrategy;
  readonly Networks?: readonly NetworkResource[];
  readonly Meta?: Readonly<Record<string, string>>;
  readonly Services?: readonly Service[];
  readonly ShutdownDelay?: Nanoseconds;
  readonly Scaling?: ScalingPolicy;
  readonly Disconnect?: DisconnectStrategy;
}

/** A job as `POST /v1/jobs` takes it (inside `{"Job": …}`). */
export interface Job {
  readonly ID: string;
  readonly Name: string;
  readonly Region: string;
  readonly Namespace: string;
  readonly Type: 'service' | 'batch' | 'system' | 'sysbatch';
  readonly Priority: number;
  /** Absent: Nomad fills in `["*"]` when it registers the job. */
  readonly Datacenters?: readonly string[];
  readonly NodePool?: string;
  readonly Update?: JobUpdateStrategy;
  /** The job's `migrate` block: the default of every group's (service jobs). */
  readonly Migrate?: MigrateStrategy;
  readonly Constraints?: readonly Constraint[];
  readonly Affinities?: readonly Affinity[];
  readonly Spreads?: readonly Spread[];
  readonly TaskGroups: readonly TaskGroup[];
  readonly Periodic?: PeriodicConfig;
  readonly ParameterizedJob?: {
    readonly Payload?: string;
    readonly MetaRequired?: readonly string[];
    readonly MetaOptional?: readonly string[];
  };
  readonly UI?: { readonly Description?: string; readonly Links?: readonly { readonly Label: string; readonly URL: string }[] };
  readonly Meta: Readonly<Record<string, string>>;
}

/** Job meta keys stamped by hashiship so the deploy engine knows what it owns. */
export const OwnershipMeta = {
  /** Always `hashiship`. */
  tool: 'hashiship_tool',
  /** sha256 (hex) of the job as rendered, before these keys were added. */
  specHash: 'hashiship_spec_hash',
  /** The environment the job was rendered for (`qa`, `production`). */
  environment: 'hashiship_environment',
} as const;
