/**
 * The Vault side of a deploy's secrets: writing the per-service policies and JWT
 * roles ({@link applyPolicies}), and the pre-flight gate ({@link preflight},
 * {@link requireSecrets}) that every secret and Consul key a spec references
 * exists and that the service's own policy can read it. Values are read only to
 * see that a key is present; they are never returned, logged or put in an error.
 */
import type { Consul } from '../consul/index.js';
import { GateError, InputError, ServerError } from '../errors.js';
import { workloadIdentity } from '../stack/components.js';
import type { VaultClient } from './client.js';
import type { Vault } from './index.js';
import { silent, type Logger } from '../log.js';
import { withVault } from './auth.js';
import { jwtRole, servicePolicy, sharedRoles, type PolicyInput, type SecretReference, type ServicePolicy } from './policy.js';

/** Why a reference failed the pre-flight. */
export type ProblemReason = 'missing' | 'missing key' | 'denied';

/** One failed reference (paths and key names only, never values). */
export interface PreflightProblem {
  readonly service: string;
  readonly source: 'vault' | 'consul';
  /** Vault path or Consul key. */
  readonly path: string;
  /** Key inside the Vault secret, when the spec names one. */
  readonly key?: string;
  readonly reason: ProblemReason;
}

/** What a pre-flight checked and found. */
export interface PreflightReport {
  /** References checked (Vault secrets + Consul keys). */
  readonly checked: number;
  readonly problems: readonly PreflightProblem[];
  /** Wall time of the checks, milliseconds. */
  readonly ms: number;
}

/** Options of the pre-flight and apply functions. */
export interface SecretsOptions {
  /** Concurrent requests. @default 32 */
  readonly concurrency?: number;
  /** JWT auth mount. @default "jwt-nomad" */
  readonly mount?: string;
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

function statusOf(err: unknown): number | undefined {
  return err instanceof ServerError ? err.status : undefined;
}

/**
 * Write each service's ACL policy (`sys/policies/acl/<name>`) and its JWT role
 * (`auth/<mount>/role/<role>`) binding `nomad_job_id = <job>` to that policy.
 * @throws {InputError} (exit 1, nothing written) when two services would share one role name (an environment-wide `vault_role`).
 * @throws {ServerError} naming the path when Vault refuses a write or cannot be reached.
 */
export async function applyPolicies(vault: Vault, policies: readonly ServicePolicy[], opts: SecretsOptions = {}): Promise<void> {
  const shared = sharedRoles(policies);
  if (shared.length > 0) {
    throw new InputError(
      shared.map(([role, services]) => ({
        subject: 'vault_role',
        message: `role \`${role}\` is shared by ${services.join(', ')}; each service needs its own role (set vault_role per service under services.<name>, or drop the environment-wide vault_role)`,
      })),
    );
  }
  const mount = opts.mount ?? workloadIdentity.mount;
  await pool(policies, opts.concurrency ?? 32, async (p) => {
    const policyPath = `sys/policies/acl/${p.name}`;
    await vault.client.call('policy.write', policyPath, (api) => api.write(policyPath, { policy: p.hcl }));
    const rolePath = `auth/${mount}/role/${p.role}`;
    await vault.client.call('role.write', rolePath, (api) => api.write(rolePath, jwtRole(p)));
  });
}

/**
 * Does the secret exist, and does it hold the key? Reads with the operator's token.
 * A PKI issue/sign path is "present" when its role (`<mount>/roles/<role>`) exists.
 */
async function secretState(vault: VaultClient, ref: SecretReference): Promise<ProblemReason | undefined> {
  const { path, key, kvVersion: v } = ref;
  const readPath = ref.capability === 'update' ? path.replace(/^([^/]+)\/(issue|sign)\//, '$1/roles/') : path;
  let res: { data?: Record<string, unknown> | null } | undefined;
  try {
    res = (await vault.call('secret.read', readPath, (api) => api.read(readPath))) as typeof res;
  } catch (err) {
    if (statusOf(err) === 404) return 'missing';
    throw err;
  }
  if (ref.capability === 'update') return res?.data === null || res?.data === undefined ? 'missing' : undefined;
  const data = v === 2 ? (res?.data?.['data'] as Record<string, unknown> | null | undefined) : res?.data;
  if (data === null || data === undefined) return 'missing';
  if (key !== undefined && !Object.prototype.hasOwnProperty.call(data, key)) return 'missing key';
  return undefined;
}

/**
 * Which of `refs` a token holding only `policy` may use (read, or update for PKI
 * issue/sign paths): a short-lived token
 * (ttl 60s, no default policy) is created, its capabilities asked through
 * `sys/capabilities-accessor` (so the token never travels again), then revoked.
 */
async function readable(vault: VaultClient, policy: string, refs: readonly SecretReference[]): Promise<Set<string>> {
  const paths = [...new Set(refs.map((r) => r.path))];
  const need = new Map(refs.map((r) => [r.path, r.capability]));
  const created = (await vault.call('token.create', 'auth/token/create', (api) =>
    // write, not tokenCreate: node-vault's tokenCreate replaces the client's own token with the new one.
    api.write('auth/token/create', { policies: [policy], ttl: '60s', no_default_policy: true, renewable: false, display_name: `preflight-${policy}` }),
  )) as { auth?: { accessor?: string } };
  const accessor = created.auth?.accessor;
  if (accessor === undefined)
    throw new ServerError('vault', 'token.create', vault.config.address, 'no token accessor in the answer', { context: [['Path', 'auth/token/create']] });
  try {
    const res = (await vault.call('capabilities', paths.join(', '), (api) =>
      api.request({ path: '/sys/capabilities-accessor', method: 'POST', json: { accessor, paths } }),
    )) as Record<string, unknown> & { data?: Record<string, unknown> };
    const ok = new Set<string>();
    for (const p of paths) {
      const caps = (res.data?.[p] ?? res[p]) as unknown;
      if (Array.isArray(caps) && (caps.includes(need.get(p) ?? 'read') || caps.includes('root'))) ok.add(p);
    }
    return ok;
  } finally {
    await vault.api.request({ path: '/auth/token/revoke-accessor', method: 'POST', json: { accessor } }).catch(() => undefined);
  }
}

/**
 * Check every reference of the given services: each Vault secret exists (and
 * holds its key) and the service's policy grants `read` on it; each Consul key
 * exists. Every problem is collected; nothing is thrown for a missing or denied path.
 * @throws {ServerError} naming the path when Vault or Consul cannot be reached, is
 *   sealed, or refuses the operator's token (the token itself is never shown).
 */
export async function preflight(
  clients: { readonly vault: Vault; readonly consul: Consul },
  policies: readonly ServicePolicy[],
  opts: SecretsOptions = {},
): Promise<PreflightReport> {
  const started = performance.now();
  const vault = clients.vault.client;
  const { consul } = clients;
  const limit = opts.concurrency ?? 32;
  const problems: (PreflightProblem & { order: number })[] = [];
  type Job = { order: number; run: () => Promise<void> };
  const jobs: Job[] = [];
  let order = 0;
  for (const p of policies) {
    for (const s of p.secrets) {
      const o = order++;
      jobs.push({
        order: o,
        run: async () => {
          const reason = await secretState(vault, s);
          if (reason !== undefined)
            problems.push({ order: o, service: p.service, source: 'vault', path: s.path, ...(s.key === undefined ? {} : { key: s.key }), reason });
        },
      });
    }
    if (p.paths.length > 0) {
      const base = order;
      order += p.secrets.length;
      jobs.push({
        order: base,
        run: async () => {
          const ok = await readable(vault, p.name, p.secrets);
          p.secrets.forEach((s, i) => {
            if (!ok.has(s.path))
              problems.push({
                order: base + i + 0.5,
                service: p.service,
                source: 'vault',
                path: s.path,
                ...(s.key === undefined ? {} : { key: s.key }),
                reason: 'denied',
              });
          });
        },
      });
    }
    for (const k of p.kv) {
      const o = order++;
      jobs.push({
        order: o,
        run: async () => {
          if ((await consul.kv.get(k.key)) === undefined) problems.push({ order: o, service: p.service, source: 'consul', path: k.key, reason: 'missing' });
        },
      });
    }
  }
  // When servers fail, every check still finishes and the first reference's error is
  // raised, so the same failure always names the same path.
  const failures: { order: number; err: unknown }[] = [];
  await pool(jobs, limit, (j) => j.run().catch((err: unknown) => void failures.push({ order: j.order, err })));
  if (failures.length > 0) throw failures.sort((a, b) => a.order - b.order)[0]?.err;
  const checked = policies.reduce((n, p) => n + p.secrets.length + p.kv.length, 0);
  problems.sort((a, b) => a.order - b.order);
  return { checked, problems: problems.map(({ order: _o, ...rest }) => rest), ms: performance.now() - started };
}

/** One line per problem: `web  vault  secret/data/web/db#password  missing key`. */
export function describeProblem(p: PreflightProblem): string {
  return `${p.service}  ${p.source}  ${p.path}${p.key === undefined ? '' : `#${p.key}`}  ${p.reason}`;
}

/** The next step for a refused pre-flight, by what kind of problem it found. */
export function preflightSuggestion(problems: readonly PreflightProblem[]): string {
  const steps: string[] = [];
  if (problems.some((p) => p.source === 'vault' && p.reason !== 'denied'))
    steps.push('write the missing Vault secrets (`hashiship secrets put <path> --from-file keys.json`)');
  if (problems.some((p) => p.source === 'consul')) steps.push('write the missing Consul keys (`hashiship kv sync --env <env>` for `config:` values)');
  if (problems.some((p) => p.reason === 'denied')) steps.push("apply the services' policies (`hashiship secrets policy --apply`)");
  steps.push('then run `hashiship secrets check` again (docs/secrets.md)');
  return steps.join('; ');
}

/**
 * {@link preflight}, then refuse when anything is missing or denied.
 * @throws {GateError} (exit 6) listing every missing or denied path.
 * @throws {ServerError} (exit 2) as {@link preflight}.
 */
export async function requireSecrets(
  clients: { readonly vault: Vault; readonly consul: Consul },
  policies: readonly ServicePolicy[],
  opts: SecretsOptions = {},
): Promise<PreflightReport> {
  const report = await preflight(clients, policies, opts);
  if (report.problems.length > 0) {
    throw new GateError(
      `pre-flight refused: ${report.problems.length} problem(s) in ${report.checked} references (missing, or not readable with the service's policy)`,
      {
        context: [
          ...report.problems.map((p): [string, string] => [
            p.reason === 'denied' ? 'Denied' : p.reason === 'missing key' ? 'Missing key' : 'Missing',
            describeProblem(p),
          ]),
          ['Suggestion', preflightSuggestion(report.problems)],
        ],
      },
    );
  }
  return report;
}

/** Options of {@link secretsGate}. */
export interface SecretsGateOptions extends SecretsOptions {
  readonly log?: Logger;
}

/**
 * The pre-flight as a deploy gate (`PlanOptions.secrets` of src/deploy): for the
 * services of an input set, log in to Vault through the run's root client (token,
 * AppRole or JWT, kept alive while it runs), then {@link requireSecrets} on the
 * session's client and the run's Consul client. Job-file inputs carry no specs: the gate
 * says so in a debug event and lets them through.
 * @returns a gate that throws {@link GateError} (exit 6) listing every missing or denied path.
 */
export function secretsGate(
  clients: { readonly vault: Vault; readonly consul: Consul },
  opts: SecretsGateOptions = {},
): (set: { readonly services?: readonly PolicyInput[] }) => Promise<PreflightReport | undefined> {
  const { log = silent, ...checkOpts } = opts;
  const { consul } = clients;
  return async (set) => {
    if (set.services === undefined) {
      log({ kind: 'debug', message: 'secrets pre-flight: job files carry no specs; nothing to check' });
      return undefined;
    }
    const policies = set.services.map(servicePolicy).filter((p) => p.secrets.length + p.kv.length > 0);
    if (policies.length === 0) {
      log({ kind: 'debug', message: 'secrets pre-flight: no service references secrets or Consul keys' });
      return undefined;
    }
    const report = await withVault(clients.vault, (session) => requireSecrets({ vault: session.client, consul }, policies, checkOpts), { log });
    log({
      kind: 'debug',
      message: `secrets pre-flight: ${report.checked} references of ${policies.length} services present and readable (${Math.round(report.ms)} ms)`,
    });
    return report;
  };
}
