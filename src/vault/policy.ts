/**
 * Per-service Vault policies and workload-identity roles, computed from the
 * resolved specs (pure). A service's policy grants exactly the Vault paths its
 * tasks reference (`secrets[].path` as given — KV v2 paths carry their `data/`
 * segment already — and `secret "…"` calls in its templates): `read`, except on
 * paths Vault only answers to a write (`<mount>/issue/<role>` and `<mount>/sign/<role>`
 * of a PKI engine), which get `update`. Its JWT role on the `jwt-nomad` mount binds
 * that policy to the service's Nomad job only. Nomad 1.11 `secret` blocks with the
 * vault provider (`secret_blocks`) are read by Nomad with the job's token too: their
 * paths are granted like the others ({@link secretBlockPath}).
 */
import { workloadIdentity } from '../stack/components.js';
import type { ResolvedService } from '../service-spec/overlay.js';
import { isVaultWritePath, type SecretBlockSpec } from '../service-spec/types.js';

/** The parts of a resolved service the policy depends on. */
export type PolicyInput = Pick<ResolvedService, 'spec' | 'vaultRole' | 'environment'>;

/** One Vault secret a service references. */
export interface SecretReference {
  /** Full Vault path, e.g. `secret/data/web/db` (KV v2) or `kv1/web/db`. */
  readonly path: string;
  /** The key inside the secret; absent for references found in template text. */
  readonly key?: string;
  /** 2 when the path's second segment is `data` (as the renderer reads it), else 1. */
  readonly kvVersion: 1 | 2;
  /** What the job's token needs: `update` for PKI issue/sign paths, else `read`. */
  readonly capability: Capability;
}

/** The one capability a reference needs. */
export type Capability = 'read' | 'update';

/** One Consul KV key a service references. */
export interface KvReference {
  readonly key: string;
}

/** A service's policy, role and the references they cover. */
export interface ServicePolicy {
  readonly service: string;
  /** The Nomad job ID (the renderer uses the service name). */
  readonly jobId: string;
  /** ACL policy name: `hashiship-<env>-<service>` (or `hashiship-<service>` without an environment). */
  readonly name: string;
  /** JWT role on the `jwt-nomad` mount: the service's `vault_role` when set, else the policy name. */
  readonly role: string;
  /** Distinct Vault paths, sorted. */
  readonly paths: readonly string[];
  readonly secrets: readonly SecretReference[];
  readonly kv: readonly KvReference[];
  /** The policy document (HCL). */
  readonly hcl: string;
}

/** The body written to `auth/jwt-nomad/role/<role>`. */
export interface JwtRoleBody {
  readonly role_type: 'jwt';
  readonly bound_audiences: readonly string[];
  readonly bound_claims: Readonly<Record<string, string>>;
  readonly user_claim: string;
  readonly user_claim_json_pointer: true;
  readonly claim_mappings: Readonly<Record<string, string>>;
  readonly token_policies: readonly string[];
  readonly token_type: 'service';
  readonly token_period: string;
}

const TEMPLATE_SECRET = /\bsecret\s+"([^"]+)"/g;

/** `update` for paths only a write answers (PKI `issue`/`sign`), else `read`. */
export function capabilityOf(path: string): Capability {
  return isVaultWritePath(path) ? 'update' : 'read';
}

/** KV version of a path, by the renderer's rule (second segment `data` → v2). */
export function kvVersionOf(path: string): 1 | 2 {
  return path.split('/')[1] === 'data' ? 2 : 1;
}

/**
 * The Vault path a `secret` block with the vault provider reads. Nomad reads its
 * `path` as written through consul-template (`{{ with secret "<path>" }}`), which
 * on a KV v2 mount inserts `data/` after the mount when it is missing: with
 * `config.engine: kv_v2`, the path read is `<mount>/data/<rest>`. A leading slash
 * is not part of a policy path.
 */
export function secretBlockPath(b: Pick<SecretBlockSpec, 'path' | 'config'>): string {
  const path = b.path.replace(/^\/+/, '');
  if (b.config?.['engine'] !== 'kv_v2') return path;
  const [mount, ...rest] = path.split('/');
  return rest[0] === 'data' ? path : [mount, 'data', ...rest].join('/');
}

/** Every Vault secret and Consul key a service references, in spec order, deduplicated. */
export function referencesOf(r: Pick<PolicyInput, 'spec'>): { secrets: SecretReference[]; kv: KvReference[] } {
  const secrets = new Map<string, SecretReference>();
  const kv = new Map<string, KvReference>();
  const addSecret = (path: string, key?: string, kvVersion = kvVersionOf(path)) => {
    const id = `${path}\u0000${key ?? ''}`;
    if (!secrets.has(id)) secrets.set(id, { path, ...(key === undefined ? {} : { key }), kvVersion, capability: capabilityOf(path) });
  };
  for (const g of r.spec.groups) {
    for (const t of g.tasks) {
      for (const s of t.secrets ?? []) addSecret(s.path, s.key);
      for (const tpl of t.templates ?? []) for (const m of (tpl.data ?? '').matchAll(TEMPLATE_SECRET)) if (m[1] !== undefined) addSecret(m[1]);
      for (const k of t.kv ?? []) if (!kv.has(k.key)) kv.set(k.key, { key: k.key });
      // Nomad 1.11 secret blocks of the vault provider: the whole secret is read (no key), as its engine says.
      for (const b of Object.values(t.secret_blocks ?? {}))
        if (b.provider === 'vault') addSecret(secretBlockPath(b), undefined, b.config?.['engine'] === 'kv_v2' ? 2 : 1);
    }
  }
  // A path referenced with a key makes the key-less template reference redundant.
  const withKey = new Set([...secrets.values()].filter((s) => s.key !== undefined).map((s) => s.path));
  return {
    secrets: [...secrets.values()].filter((s) => s.key !== undefined || !withKey.has(s.path)),
    kv: [...kv.values()],
  };
}

/** The policy name of a service in an environment. */
export function policyName(service: string, environment?: string): string {
  return environment === undefined ? `hashiship-${service}` : `hashiship-${environment}-${service}`;
}

/** The HCL policy document: each path's one capability ({@link capabilityOf}), nothing else. */
export function policyHcl(service: string, paths: readonly string[]): string {
  const blocks = paths.map((p) => `path ${JSON.stringify(p)} {\n  capabilities = ["${capabilityOf(p)}"]\n}\n`);
  const writes = paths.some((p) => capabilityOf(p) === 'update');
  return [`# hashiship: ${writes ? 'secrets (read; update to issue certificates)' : 'read-only secrets'} of ${service}`, ...blocks].join('\n');
}

/** The policy and role of one service (whether or not it references secrets). */
export function servicePolicy(r: PolicyInput): ServicePolicy {
  const { secrets, kv } = referencesOf(r);
  const paths = [...new Set(secrets.map((s) => s.path))].sort();
  const name = policyName(r.spec.name, r.environment?.name);
  return {
    service: r.spec.name,
    jobId: r.spec.name,
    name,
    role: r.vaultRole ?? name,
    paths,
    secrets,
    kv,
    hcl: policyHcl(r.spec.name, paths),
  };
}

/** The JWT role binding a service's policy to its Nomad job's workload identity. */
export function jwtRole(p: Pick<ServicePolicy, 'jobId' | 'name'>): JwtRoleBody {
  return {
    role_type: 'jwt',
    bound_audiences: [workloadIdentity.audience],
    bound_claims: { nomad_job_id: p.jobId },
    user_claim: '/nomad_job_id',
    user_claim_json_pointer: true,
    claim_mappings: { nomad_job_id: 'nomad_job_id', nomad_namespace: 'nomad_namespace', nomad_task: 'nomad_task' },
    token_policies: [p.name],
    token_type: 'service',
    token_period: '30m',
  };
}

/** Policies of the services that reference Vault secrets (others need none). */
export function servicePolicies(resolved: readonly PolicyInput[]): ServicePolicy[] {
  return resolved.map(servicePolicy).filter((p) => p.paths.length > 0);
}

/** Roles named by more than one service, with those services: a per-service role needs a unique name. */
export function sharedRoles(policies: readonly ServicePolicy[]): [role: string, services: string[]][] {
  const by = new Map<string, string[]>();
  for (const p of policies) by.set(p.role, [...(by.get(p.role) ?? []), p.service]);
  return [...by.entries()].filter(([, s]) => s.length > 1);
}
