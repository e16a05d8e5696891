/**
 * What an operator chooses for a cluster's agents, its defaults, its validation, and
 * the flat parameter set it resolves to. The parameters are exactly the variables of
 * the Terraform templates in `terraform/modules/userdata/templates`, so one set of
 * inputs gives the same files through `hashiship agent-config` and through Terraform.
 */
import { InputError, type InputProblem } from '../errors.js';
import { consul as consulTool, fabio as fabioTool, nomad as nomadTool, plainVersion, vault as vaultTool } from '../stack/versions.js';

/**
 * The machine roles of a cluster: `server` (master: Consul and Nomad servers),
 * `client` (worker: Consul and Nomad clients and Fabio), `vault` (Vault server with
 * a Consul client beside it).
 */
export const agentRoles = ['server', 'client', 'vault'] as const;
export type AgentRole = (typeof agentRoles)[number];

/** Find the servers through the cloud provider's API (go-discover), by instance tag. */
export interface CloudJoin {
  readonly kind: 'cloud';
  /** Only AWS is wired in the Terraform modules. */
  readonly provider: 'aws';
  readonly tagKey: string;
  readonly tagValue: string;
}

/** Find the servers at fixed addresses (IPs or DNS names). */
export interface StaticJoin {
  readonly kind: 'static';
  readonly addresses: readonly string[];
}

export type Join = CloudJoin | StaticJoin;

/** A Nomad client host volume. */
export interface HostVolume {
  readonly name: string;
  readonly path: string;
  /** @default false */
  readonly readOnly?: boolean;
}

/** Where the boot script fetches secrets (gossip keys, ACL tokens, TLS keys) from. */
export interface SecretSource {
  /**
   * `ssm`: AWS SSM Parameter Store SecureStrings named `<prefix>/<name>`;
   * `file`: files `<prefix>/<name>` already on the machine.
   */
  readonly source: 'ssm' | 'file';
  readonly prefix: string;
}

/** Vault's seal: AWS KMS auto-unseal, or Shamir keys entered by operators. */
export type VaultSeal = { readonly type: 'awskms'; readonly kmsKeyId: string } | { readonly type: 'shamir' };

export interface AgentOptions {
  readonly role: AgentRole;
  /** Consul and Nomad datacenter. @default "dc1" */
  readonly datacenter?: string;
  /** Nomad region. @default "global" */
  readonly region?: string;
  /** AWS region (SSM secrets, KMS seal). @default "us-east-1" */
  readonly awsRegion?: string;
  /** How agents find the Consul and Nomad servers. */
  readonly join: Join;
  /** How Vault servers find each other (role `vault`). @default same as `join` */
  readonly vaultJoin?: Join;
  /** Servers expected before the first leader election. @default 3 */
  readonly bootstrapExpect?: number;
  /** TLS on every agent's RPC and HTTP. @default true */
  readonly tls?: boolean;
  /** ACLs enabled, default deny. @default true */
  readonly acl?: boolean;
  /** Nomad's raw_exec driver (no isolation). @default false */
  readonly rawExec?: boolean;
  /** Install a JRE so Nomad's java driver fingerprints. @default false */
  readonly java?: boolean;
  /** Nomad client host volumes. @default [] */
  readonly hostVolumes?: readonly HostVolume[];
  /** Vault's address as Nomad sees it. @default "<scheme>://vault.service.consul:8200" */
  readonly vaultAddress?: string;
  /** @default { type: "shamir" } */
  readonly vaultSeal?: VaultSeal;
  /** @default { source: "file", prefix: "/etc/hashiship/secrets" } */
  readonly secrets?: SecretSource;
  /** Versions of HashiCorp's Debian packages. @default the pinned versions, revision "-1" */
  readonly packages?: { readonly consul?: string; readonly nomad?: string; readonly vault?: string };
  /** Fabio release binary and its SHA-256 (role `client`). */
  readonly fabio?: { readonly url?: string; readonly sha256?: string };
}

/**
 * The flat parameters of every template; snake_case because they are Terraform
 * template variables. Any field may be unused by a role.
 */
export interface AgentParams {
  readonly [key: string]: string | number | boolean | readonly string[] | readonly HostVolumeParam[];
  readonly datacenter: string;
  readonly region: string;
  readonly aws_region: string;
  /** true: `auto_join`; false: `join_addresses`. */
  readonly cloud_join: boolean;
  readonly auto_join: string;
  readonly join_addresses: readonly string[];
  readonly vault_cloud_join: boolean;
  readonly vault_auto_join: string;
  readonly vault_join_addresses: readonly string[];
  readonly bootstrap_expect: number;
  readonly tls: boolean;
  readonly acl: boolean;
  readonly raw_exec: boolean;
  readonly java: boolean;
  readonly host_volumes: readonly HostVolumeParam[];
  readonly vault_address: string;
  readonly vault_awskms: boolean;
  readonly vault_kms_key_id: string;
  readonly secret_source: string;
  readonly secret_prefix: string;
  readonly consul_package: string;
  readonly nomad_package: string;
  readonly vault_package: string;
  readonly fabio_url: string;
  readonly fabio_sha256: string;
}

export interface HostVolumeParam {
  readonly [key: string]: string | boolean;
  readonly name: string;
  readonly path: string;
  readonly read_only: boolean;
}

/** The pinned Fabio release, as a download address. */
export const defaultFabioUrl = `https://github.com/fabiolb/fabio/releases/download/${fabioTool.version}/fabio-${plainVersion(fabioTool)}-linux_amd64`;

/** The defaults, in one place. */
export const agentDefaults = {
  datacenter: 'dc1',
  region: 'global',
  awsRegion: 'us-east-1',
  bootstrapExpect: 3,
  tls: true,
  acl: true,
  secrets: { source: 'file', prefix: '/etc/hashiship/secrets' } as SecretSource,
  packages: {
    consul: `${plainVersion(consulTool)}-1`,
    nomad: `${plainVersion(nomadTool)}-1`,
    vault: `${plainVersion(vaultTool)}-1`,
  },
} as const;

/** `provider=aws tag_key=… tag_value=…`, the go-discover string Consul, Nomad and Vault read. */
export function autoJoinString(j: CloudJoin): string {
  return `provider=${j.provider} tag_key=${j.tagKey} tag_value=${j.tagValue}`;
}

// Values end up in HCL strings, properties, env files and go-discover strings:
// keep them to characters that need no quoting anywhere.
const safe = /^[A-Za-z0-9._:/@+=,-]*$/;
const name = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Check options and resolve them into template parameters.
 * @throws {InputError} listing every problem, each with the option it concerns.
 */
export function resolveParams(o: AgentOptions): AgentParams {
  const problems: InputProblem[] = [];
  const bad = (subject: string, message: string) => problems.push({ subject, message });
  const datacenter = o.datacenter ?? agentDefaults.datacenter;
  const region = o.region ?? agentDefaults.region;
  const awsRegion = o.awsRegion ?? agentDefaults.awsRegion;
  const tls = o.tls ?? agentDefaults.tls;
  const acl = o.acl ?? agentDefaults.acl;
  const bootstrapExpect = o.bootstrapExpect ?? agentDefaults.bootstrapExpect;
  const secrets = o.secrets ?? agentDefaults.secrets;
  const vaultJoin = o.vaultJoin ?? o.join;
  const seal = o.vaultSeal ?? { type: 'shamir' };
  const fabioSha = o.fabio?.sha256 ?? '';

  if (!(agentRoles as readonly string[]).includes(o.role)) bad('role', `must be one of ${agentRoles.join(', ')}`);
  if (!name.test(datacenter)) bad('datacenter', 'must be lower-case letters, digits and dashes');
  if (!name.test(region)) bad('region', 'must be lower-case letters, digits and dashes');
  if (!name.test(awsRegion)) bad('awsRegion', 'must be an AWS region name such as eu-west-1');
  if (!Number.isInteger(bootstrapExpect) || bootstrapExpect < 1) bad('bootstrapExpect', 'must be a positive integer');
  else if (bootstrapExpect % 2 === 0) bad('bootstrapExpect', 'must be odd (1, 3 or 5) so that a quorum exists');
  for (const [label, j] of [
    ['join', o.join],
    ['vaultJoin', vaultJoin],
  ] as const) {
    if (j.kind === 'cloud') {
      if (!/^[A-Za-z0-9._:/@+-]+$/.test(j.tagKey)) bad(`${label}.tagKey`, 'must be a non-empty tag key without spaces or "="');
      if (!/^[A-Za-z0-9._:/@+-]+$/.test(j.tagValue)) bad(`${label}.tagValue`, 'must be a non-empty tag value without spaces or "="');
    } else {
      if (j.addresses.length === 0) bad(`${label}.addresses`, 'needs at least one server address');
      j.addresses.forEach((a, i) => {
        if (!/^[A-Za-z0-9.:-]+$/.test(a)) bad(`${label}.addresses[${i}]`, `"${a}" is not an IP address or host name`);
      });
    }
  }
  (o.hostVolumes ?? []).forEach((v, i) => {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(v.name)) bad(`hostVolumes[${i}].name`, 'must be lower-case letters, digits, "_" and "-"');
    if (!/^\/[A-Za-z0-9._/-]*$/.test(v.path)) bad(`hostVolumes[${i}].path`, 'must be an absolute path');
  });
  const vaultAddress = o.vaultAddress ?? `${tls ? 'https' : 'http'}://vault.service.consul:8200`;
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d+)?$/.test(vaultAddress)) bad('vaultAddress', 'must be http(s)://host[:port]');
  if (secrets.source !== 'ssm' && secrets.source !== 'file') bad('secrets.source', 'must be "ssm" or "file"');
  if (!/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/.test(secrets.prefix)) {
    bad('secrets.prefix', 'must be an absolute path (SSM parameter path or directory) without a trailing "/"');
  }
  if (seal.type === 'awskms' && !/^[A-Za-z0-9:/_-]+$/.test(seal.kmsKeyId)) bad('vaultSeal.kmsKeyId', 'must be a KMS key id, alias or ARN');
  if (fabioSha !== '' && !/^[0-9a-f]{64}$/.test(fabioSha)) bad('fabio.sha256', 'must be 64 lower-case hex digits');
  if (fabioSha === '' && o.role === 'client') {
    bad('fabio.sha256', "is required for role client: the SHA-256 of the Fabio binary, from the release's checksum file");
  }
  const packages = { ...agentDefaults.packages, ...(o.packages ?? {}) };
  for (const [k, v] of Object.entries(packages))
    if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(v)) bad(`packages.${k}`, 'must be a Debian package version such as 1.22.5-1');
  const fabioUrl = o.fabio?.url ?? defaultFabioUrl;
  if (!/^https:\/\//.test(fabioUrl) || !safe.test(fabioUrl)) bad('fabio.url', 'must be an https:// address');
  if (problems.length > 0) throw new InputError(problems);

  return {
    datacenter,
    region,
    aws_region: awsRegion,
    cloud_join: o.join.kind === 'cloud',
    auto_join: o.join.kind === 'cloud' ? autoJoinString(o.join) : '',
    join_addresses: o.join.kind === 'static' ? [...o.join.addresses] : [],
    vault_cloud_join: vaultJoin.kind === 'cloud',
    vault_auto_join: vaultJoin.kind === 'cloud' ? autoJoinString(vaultJoin) : '',
    vault_join_addresses: vaultJoin.kind === 'static' ? [...vaultJoin.addresses] : [],
    bootstrap_expect: bootstrapExpect,
    tls,
    acl,
    raw_exec: o.rawExec ?? false,
    java: o.java ?? false,
    host_volumes: (o.hostVolumes ?? []).map((v) => ({ name: v.name, path: v.path, read_only: v.readOnly ?? false })),
    vault_address: vaultAddress,
    vault_awskms: seal.type === 'awskms',
    vault_kms_key_id: seal.type === 'awskms' ? seal.kmsKeyId : '',
    secret_source: secrets.source,
    secret_prefix: secrets.prefix,
    consul_package: packages.consul,
    nomad_package: packages.nomad,
    vault_package: packages.vault,
    fabio_url: fabioUrl,
    fabio_sha256: fabioSha,
  };
}
