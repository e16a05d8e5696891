/**
 * External services in Consul: `hashiship register --env <env>` makes the local
 * Consul agent's services match the environment's `kind: external` specs.
 *
 * Registration goes through the agent API (`/v1/agent/service/register`), not
 * the catalog: an agent registration has its checks run by that agent, so the
 * http/tcp/grpc checks of a database on its own host are real checks and the
 * health gate works on them; a catalog registration of an external node has no
 * agent running its checks (that needs consul-esm, which this stack does not run).
 *
 * Ownership: every service hashiship registers carries meta
 * `hashiship_tool=hashiship` and `hashiship_environment=<env>`, plus
 * `hashiship_hash` (a digest of the whole registration, checks included: the
 * agent API does not give check definitions back). A sync registers what is
 * new or changed, leaves unchanged services alone, deregisters services it owns
 * in that environment that the specs no longer list, and never touches a
 * service it does not own (an ID taken by someone else is exit 6).
 *
 * Read (list) → plan (pure) → apply, like the rest of hashiship.
 */
import { createHash } from 'node:crypto';
import { GateError } from '../errors.js';
import { silent, type Logger } from '../log.js';
import { externalCheckName, type ResolvedExternal } from '../service-spec/external.js';
import type { ExternalCheckSpec, ExternalSpec } from '../service-spec/types.js';
import type { ConsulApi, ConsulClient } from './client.js';

/** The meta keys that mark a service as hashiship's. */
export const OwnerMeta = {
  tool: 'hashiship_tool',
  environment: 'hashiship_environment',
  hash: 'hashiship_hash',
  /** A digest of the checks alone: the agent API shows their type and timing, not their target. */
  checks: 'hashiship_checks',
} as const;

/** The value of {@link OwnerMeta.tool}. */
export const TOOL = 'hashiship';

/** One check as registered with the agent. */
export interface CheckRegistration {
  readonly id: string;
  readonly name: string;
  readonly type: ExternalCheckSpec['type'];
  /** URL (http), host:port (tcp), host:port[/service] (grpc); empty for ttl. */
  readonly target: string;
  readonly interval?: string;
  readonly timeout?: string;
  readonly ttl?: string;
  readonly method?: string;
  readonly tlsSkipVerify?: boolean;
  readonly grpcUseTls?: boolean;
  readonly deregisterAfter?: string;
}

/** What the agent API shows of a service, registered or read back. */
export interface AgentServiceFields {
  /** `<name>-<environment>` for hashiship's: environments sharing an agent do not collide. */
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  /** For hashiship's: the spec's meta plus the ownership marks. */
  readonly meta: Readonly<Record<string, string>>;
}

/** One service as hashiship registers it on the agent. */
export interface ServiceRegistration extends AgentServiceFields {
  readonly checks: readonly CheckRegistration[];
}

/** A service as the agent reports it, with its checks' visible fields. */
export interface LiveService extends AgentServiceFields {
  readonly checks: readonly { readonly id: string; readonly name: string; readonly type: string; readonly interval: string; readonly timeout: string }[];
}

/** One field that differs between Consul and the spec. */
export interface FieldChange {
  readonly field: string;
  readonly from?: unknown;
  readonly to?: unknown;
}

/** One change of a sync. */
export interface ServiceChange {
  readonly action: 'add' | 'update' | 'remove';
  readonly id: string;
  readonly name: string;
  /** What differs (update), what is set (add), what goes (remove). */
  readonly fields: readonly FieldChange[];
  /** The registration to write (add, update). */
  readonly registration?: ServiceRegistration;
  /** Check IDs to deregister after the update (checks the spec no longer lists). */
  readonly staleChecks?: readonly string[];
}

/** What a sync found and (unless dry-run) did. */
export interface ServiceSyncResult {
  readonly environment: string;
  readonly changes: readonly ServiceChange[];
  /** IDs already as the specs say. */
  readonly unchanged: readonly string[];
  readonly dryRun: boolean;
}

/** The service ID hashiship uses for an external service in an environment. */
export function serviceId(name: string, environment: string): string {
  return `${name}-${environment}`;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function checkRegistration(spec: ExternalSpec, id: string, c: ExternalCheckSpec): CheckRegistration {
  const name = externalCheckName(spec.name, c);
  const target = hostPort(spec.address, c.port ?? spec.port);
  const base = {
    id: `${id}:${name}`,
    name,
    type: c.type,
    ...(c.deregister_critical_service_after === undefined ? {} : { deregisterAfter: c.deregister_critical_service_after }),
  };
  const timed = { interval: c.interval ?? '10s', timeout: c.timeout ?? '2s' };
  switch (c.type) {
    case 'ttl':
      return { ...base, target: '', ttl: c.ttl ?? '30s' };
    case 'tcp':
      return { ...base, target, ...timed };
    case 'grpc':
      return {
        ...base,
        target: c.grpc_service === undefined ? target : `${target}/${c.grpc_service}`,
        ...timed,
        grpcUseTls: c.grpc_use_tls ?? false,
        ...(c.tls_skip_verify === undefined ? {} : { tlsSkipVerify: c.tls_skip_verify }),
      };
    case 'http':
      return {
        ...base,
        target: `${c.protocol ?? 'http'}://${target}${c.path ?? '/'}`,
        ...timed,
        method: c.method ?? 'GET',
        ...(c.tls_skip_verify === undefined ? {} : { tlsSkipVerify: c.tls_skip_verify }),
      };
  }
}

/** A stable digest of a registration without its hash mark. */
export function registrationHash(r: Omit<ServiceRegistration, 'meta'> & { readonly meta: Readonly<Record<string, string>> }): string {
  const meta = Object.fromEntries(
    Object.entries(r.meta)
      .filter(([k]) => k !== OwnerMeta.hash)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  const canonical = JSON.stringify([
    r.id,
    r.name,
    r.address,
    r.port,
    [...r.tags],
    meta,
    r.checks.map((c) => Object.entries(c).sort(([a], [b]) => (a < b ? -1 : 1))),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** What the agent should hold for these external services in `environment` (pure). */
export function desiredRegistrations(environment: string, externals: readonly Pick<ResolvedExternal, 'spec'>[]): ServiceRegistration[] {
  return externals.map(({ spec }) => {
    const id = serviceId(spec.name, environment);
    const base = {
      id,
      name: spec.name,
      address: spec.address,
      port: spec.port,
      tags: [...(spec.tags ?? [])],
      meta: { ...spec.meta, [OwnerMeta.tool]: TOOL, [OwnerMeta.environment]: environment },
      checks: (spec.checks ?? []).map((c) => checkRegistration(spec, id, c)),
    };
    const checksHash = createHash('sha256')
      .update(JSON.stringify(base.checks.map((c) => Object.entries(c).sort(([a], [b]) => (a < b ? -1 : 1)))))
      .digest('hex')
      .slice(0, 16);
    return { ...base, meta: { ...base.meta, [OwnerMeta.checks]: checksHash, [OwnerMeta.hash]: registrationHash(base) } };
  });
}

/** Whether a live service carries hashiship's marks for `environment`. */
export function ownedBy(s: Pick<LiveService, 'meta'>, environment: string): boolean {
  return s.meta[OwnerMeta.tool] === TOOL && s.meta[OwnerMeta.environment] === environment;
}

const userMeta = (m: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(m)
      .filter(([k]) => !k.startsWith('hashiship_'))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The fields that differ between a live service and its registration. */
export function serviceDiff(live: LiveService, want: ServiceRegistration): FieldChange[] {
  const out: FieldChange[] = [];
  if (live.name !== want.name) out.push({ field: 'name', from: live.name, to: want.name });
  if (live.address !== want.address) out.push({ field: 'address', from: live.address, to: want.address });
  if (live.port !== want.port) out.push({ field: 'port', from: live.port, to: want.port });
  if (!sameJson(live.tags, want.tags)) out.push({ field: 'tags', from: live.tags, to: want.tags });
  const lm = userMeta(live.meta);
  const wm = userMeta(want.meta);
  for (const k of [...new Set([...Object.keys(lm), ...Object.keys(wm)])].sort()) {
    if (lm[k] !== wm[k]) out.push({ field: `meta.${k}`, ...(lm[k] === undefined ? {} : { from: lm[k] }), ...(wm[k] === undefined ? {} : { to: wm[k] }) });
  }
  const liveChecks = new Map(live.checks.map((c) => [c.id, c]));
  const checksChanged = live.meta[OwnerMeta.checks] !== want.meta[OwnerMeta.checks];
  for (const c of want.checks) {
    const l = liveChecks.get(c.id);
    if (l === undefined) out.push({ field: `checks.${c.name}`, to: describeCheck(c) });
    else if (checksChanged || l.type !== c.type || l.interval !== (c.interval ?? '') || l.timeout !== (c.timeout ?? '') || l.name !== c.name) {
      out.push({ field: `checks.${c.name}`, from: `${l.type} every ${l.interval || '-'} timeout ${l.timeout || '-'}`, to: describeCheck(c) });
    }
  }
  for (const l of live.checks) if (!want.checks.some((c) => c.id === l.id)) out.push({ field: `checks.${l.name}`, from: `${l.type}` });
  if (out.length === 0 && live.meta[OwnerMeta.hash] !== want.meta[OwnerMeta.hash]) {
    // What the agent API does not show (check targets, TTLs, flags) changed.
    out.push({ field: 'checks (definition)', from: live.meta[OwnerMeta.hash] ?? '(none)', to: want.meta[OwnerMeta.hash] });
  }
  return out;
}

/** `http GET http://10.0.0.5:8080/health every 10s timeout 2s`. */
export function describeCheck(c: CheckRegistration): string {
  if (c.type === 'ttl') return `ttl ${c.ttl}`;
  return `${c.type}${c.method === undefined ? '' : ` ${c.method}`} ${c.target} every ${c.interval} timeout ${c.timeout}`;
}

/**
 * Plan a sync (pure).
 * @throws {GateError} (exit 6) when a service ID hashiship needs is registered by
 *   someone else (no ownership marks, or another environment's).
 */
export function planServices(
  environment: string,
  desired: readonly ServiceRegistration[],
  live: readonly LiveService[],
): { changes: ServiceChange[]; unchanged: string[] } {
  const byId = new Map(live.map((s) => [s.id, s]));
  const changes: ServiceChange[] = [];
  const unchanged: string[] = [];
  const foreign: string[] = [];
  for (const want of desired) {
    const l = byId.get(want.id);
    if (l === undefined) {
      changes.push({
        action: 'add',
        id: want.id,
        name: want.name,
        registration: want,
        fields: [
          { field: 'address', to: want.address },
          { field: 'port', to: want.port },
          ...(want.tags.length > 0 ? [{ field: 'tags', to: want.tags }] : []),
          ...want.checks.map((c) => ({ field: `checks.${c.name}`, to: describeCheck(c) })),
        ],
      });
      continue;
    }
    if (!ownedBy(l, environment)) {
      foreign.push(
        `${want.id} (${l.meta[OwnerMeta.tool] === TOOL ? `hashiship environment ${l.meta[OwnerMeta.environment] ?? '?'}` : 'not registered by hashiship'})`,
      );
      continue;
    }
    const fields = serviceDiff(l, want);
    if (fields.length === 0) unchanged.push(want.id);
    else {
      const stale = l.checks.filter((c) => !want.checks.some((w) => w.id === c.id)).map((c) => c.id);
      changes.push({ action: 'update', id: want.id, name: want.name, registration: want, fields, ...(stale.length > 0 ? { staleChecks: stale } : {}) });
    }
  }
  if (foreign.length > 0) {
    throw new GateError(
      `consul: register: ${foreign.length} service ID${foreign.length === 1 ? ' is' : 's are'} taken by registrations hashiship does not own; nothing was changed`,
      {
        context: [...foreign.map((f) => ['Service', f] as const), ['Suggestion', 'deregister the other registration, or rename the external service spec']],
      },
    );
  }
  const wanted = new Set(desired.map((d) => d.id));
  for (const l of live) {
    if (!ownedBy(l, environment) || wanted.has(l.id)) continue;
    changes.push({
      action: 'remove',
      id: l.id,
      name: l.name,
      fields: [
        { field: 'address', from: l.address },
        { field: 'port', from: l.port },
      ],
    });
  }
  changes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { changes, unchanged: unchanged.sort() };
}

interface RawService {
  readonly ID?: string;
  readonly Service?: string;
  readonly Address?: string;
  readonly Port?: number;
  readonly Tags?: readonly string[] | null;
  readonly Meta?: Readonly<Record<string, string>> | null;
}
interface RawCheck {
  readonly CheckID?: string;
  readonly Name?: string;
  readonly ServiceID?: string;
  readonly Type?: string;
  readonly Interval?: string;
  readonly Timeout?: string;
}

/** The body of `/v1/agent/service/register` in the `consul` package's (lower-case) form. */
function registerOptions(r: ServiceRegistration): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    address: r.address,
    port: r.port,
    tags: [...r.tags],
    meta: { ...r.meta },
    checks: r.checks.map((c) => {
      const out: Record<string, unknown> = { checkid: c.id, name: c.name };
      if (c.type === 'ttl') out['ttl'] = c.ttl;
      else {
        out[c.type] = c.target;
        out['interval'] = c.interval;
        out['timeout'] = c.timeout;
      }
      if (c.method !== undefined) out['method'] = c.method;
      if (c.tlsSkipVerify !== undefined) out['tlsskipverify'] = c.tlsSkipVerify;
      if (c.grpcUseTls !== undefined) out['grpcusetls'] = c.grpcUseTls;
      if (c.deregisterAfter !== undefined) out['deregistercriticalserviceafter'] = c.deregisterAfter;
      return out;
    }),
  };
}

/** Run `fn` over `items` with at most `limit` at once; the first failure is thrown after all settle. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure.error;
}

/** Options of {@link syncServices}. */
export interface ServiceSyncOptions {
  /** Compute and report the changes, write nothing. @default false */
  readonly dryRun?: boolean;
  /** Agent calls in flight at once. @default 32 */
  readonly concurrency?: number;
  readonly log?: Logger;
}

/** {@link ConsulServices.list}. */
async function listAgentServices(client: ConsulClient): Promise<LiveService[]> {
  const [services, checks] = await Promise.all([
    client.call('agent.service.list', (api) => api.agent.service.list()) as Promise<unknown>,
    client.call('agent.check.list', (api) => api.agent.check.list()) as Promise<unknown>,
  ]);
  const byService = new Map<string, RawCheck[]>();
  for (const c of Object.values((checks ?? {}) as Record<string, RawCheck>)) {
    if (c.ServiceID === undefined || c.ServiceID === '') continue;
    byService.set(c.ServiceID, [...(byService.get(c.ServiceID) ?? []), c]);
  }
  return Object.values((services ?? {}) as Record<string, RawService>).map((s) => ({
    id: s.ID ?? '',
    name: s.Service ?? '',
    address: s.Address ?? '',
    port: s.Port ?? 0,
    tags: s.Tags ?? [],
    meta: s.Meta ?? {},
    checks: (byService.get(s.ID ?? '') ?? [])
      .filter((c) => !(c.CheckID ?? '').startsWith('_service_maintenance:'))
      .map((c) => ({ id: c.CheckID ?? '', name: c.Name ?? '', type: c.Type ?? '', interval: c.Interval ?? '', timeout: c.Timeout ?? '' })),
  }));
}

/** The services registered on the agent of one Consul (`consul.services`). */
export class ConsulServices {
  constructor(readonly client: ConsulClient) {}

  /**
   * The local agent's services (every one this token may read) with their checks.
   * @throws {ServerError} when the agent cannot be reached or refuses.
   */
  list(): Promise<LiveService[]> {
    return listAgentServices(this.client);
  }

  /**
   * Make the agent's hashiship-owned services of `environment` match `externals`.
   * @throws {GateError} (exit 6) when an ID is taken by a registration hashiship does not own.
   * @throws {ServerError} (exit 2) when the agent cannot be reached or refuses (ACL).
   */
  async sync(environment: string, externals: readonly Pick<ResolvedExternal, 'spec'>[], opts: ServiceSyncOptions = {}): Promise<ServiceSyncResult> {
    const client = this.client;
    const log = opts.log ?? silent;
    const desired = desiredRegistrations(environment, externals);
    const live = await this.list();
    const { changes, unchanged } = planServices(environment, desired, live);
    const dryRun = opts.dryRun === true;
    if (!dryRun) {
      await eachLimited(changes, opts.concurrency ?? 32, async (c) => {
        if (c.action === 'remove') {
          await client.call(`agent.service.deregister ${c.id}`, (api) => api.agent.service.deregister({ id: c.id }));
        } else {
          const r = c.registration!;
          await client.call(`agent.service.register ${c.id}`, (api) =>
            api.agent.service.register(registerOptions(r) as unknown as Parameters<ConsulApi['agent']['service']['register']>[0]),
          );
          for (const check of c.staleChecks ?? []) {
            await client.call(`agent.check.deregister ${check}`, (api) => api.agent.check.deregister({ id: check }));
          }
        }
        log({ kind: 'consul.service', action: c.action, id: c.id, fields: c.fields.map((f) => f.field) });
      });
    }
    return { environment, changes, unchanged, dryRun };
  }
}

/** Plain lines for a sync result: `+ postgres-qa  address 10.0.0.5 …`, then a count. */
export function describeServiceSync(r: ServiceSyncResult): string[] {
  const sign = { add: '+', update: '~', remove: '-' } as const;
  const value = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  const lines: string[] = [];
  for (const c of r.changes) {
    lines.push(`${sign[c.action]} ${c.action} ${c.id} (service ${c.name})`);
    for (const f of c.fields) {
      const from = f.from === undefined ? '' : value(f.from);
      const to = f.to === undefined ? '' : value(f.to);
      lines.push(`    ${f.field}: ${c.action === 'update' ? `${from || '(none)'} → ${to || '(none)'}` : c.action === 'add' ? to : from}`);
    }
  }
  const n = r.changes.length;
  lines.push(
    `${r.dryRun ? 'would make' : 'made'} ${n} change${n === 1 ? '' : 's'} in ${r.environment} (${r.changes.filter((c) => c.action === 'add').length} add, ${r.changes.filter((c) => c.action === 'update').length} update, ${r.changes.filter((c) => c.action === 'remove').length} remove), ${r.unchanged.length} unchanged`,
  );
  return lines;
}
