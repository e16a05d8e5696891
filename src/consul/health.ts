/**
 * The Consul health gate: "every instance of service S at version V is passing"
 * or "at least N are passing", watched with Consul blocking queries
 * (`?index=N&wait=D`, answer's `X-Consul-Index`) until a deadline. On failure the
 * error names each instance that is not passing, its failing checks and their output.
 */
import { EventEmitter } from 'node:events';
import { GateError, type ContextLine } from '../errors.js';
import { silent, type Logger } from '../log.js';
import { nextIndex } from '../nomad/blocking.js';
import type { ConsulApi, ConsulClient } from './client.js';

/** One health check of an instance, as `/v1/health/service/:service` reports it. */
export interface InstanceCheck {
  readonly id: string;
  readonly name: string;
  /** `passing`, `warning`, `critical` or `maintenance`. */
  readonly status: string;
  readonly output: string;
  /** The check's notes (maintenance mode puts its reason here). */
  readonly notes: string;
}

/** One registered instance of a service with its node and service checks. */
export interface ServiceInstance {
  readonly id: string;
  readonly node: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  readonly checks: readonly InstanceCheck[];
  /** Every check (node and service) is `passing`, as Consul's `?passing` means it. */
  readonly passing: boolean;
}

/** Which instances the gate looks at and what it requires of them. */
export interface HealthGateOptions {
  readonly service: string;
  /** Only instances whose meta `versionMetaKey` equals this value. */
  readonly version?: string;
  /** Meta key holding an instance's version. @default "version" */
  readonly versionMetaKey?: string;
  /** Only instances carrying every one of these tags (e.g. `["canary"]`). */
  readonly tags?: readonly string[];
  /**
   * Only instances Nomad registered for these allocations (IDs; a Nomad service ID is
   * `_nomad-task-<allocation>-…`), e.g. the allocations of one deployment.
   */
  readonly allocations?: readonly string[];
  /**
   * `all`: every selected instance passes and there is at least `min` of them;
   * a number N: at least N selected instances pass. @default "all"
   */
  readonly require?: 'all' | number;
  /** With `require: "all"`, how many instances must exist at least. @default 1 */
  readonly min?: number;
  /** How long to wait for the gate to open. @default 120000 */
  readonly deadlineMs?: number;
  /** Longest single blocking query; a heartbeat event follows each one. @default 55000 */
  readonly maxWaitMs?: number;
  readonly log?: Logger;
  /** Clock, injected for tests. @default Date.now */
  readonly now?: () => number;
}

/** What the gate saw when it opened. */
export interface HealthGateResult {
  readonly service: string;
  readonly instances: readonly ServiceInstance[];
  readonly passing: number;
  /** Milliseconds from the first query to the answer that opened the gate. */
  readonly elapsedMs: number;
  /** Blocking queries sent. */
  readonly queries: number;
}

interface RawEntry {
  readonly Node?: { readonly Node?: string; readonly Address?: string };
  readonly Service?: {
    readonly ID?: string;
    readonly Address?: string;
    readonly Port?: number;
    readonly Tags?: readonly string[] | null;
    readonly Meta?: Readonly<Record<string, string>> | null;
  };
  readonly Checks?: readonly {
    readonly CheckID?: string;
    readonly Name?: string;
    readonly Status?: string;
    readonly Output?: string;
    readonly Notes?: string;
  }[];
}

/** Turn Consul's health entries into instances (unknown → checked shape). */
export function parseInstances(body: unknown): ServiceInstance[] {
  if (!Array.isArray(body)) return [];
  return (body as RawEntry[]).map((e) => {
    const checks = (e.Checks ?? []).map((c) => ({
      id: c.CheckID ?? '',
      name: c.Name ?? c.CheckID ?? '',
      status: c.Status ?? 'critical',
      output: (c.Output ?? '').trim(),
      notes: (c.Notes ?? '').trim(),
    }));
    return {
      id: e.Service?.ID ?? '',
      node: e.Node?.Node ?? '',
      address: e.Service?.Address || e.Node?.Address || '',
      port: e.Service?.Port ?? 0,
      tags: e.Service?.Tags ?? [],
      meta: e.Service?.Meta ?? {},
      checks,
      passing: checks.every((c) => c.status === 'passing'),
    };
  });
}

/** The instances a gate looks at. */
export function selectInstances(instances: readonly ServiceInstance[], opts: HealthGateOptions): ServiceInstance[] {
  const key = opts.versionMetaKey ?? 'version';
  return instances.filter(
    (i) =>
      (opts.version === undefined || i.meta[key] === opts.version) &&
      (opts.tags ?? []).every((t) => i.tags.includes(t)) &&
      (opts.allocations === undefined || opts.allocations.some((a) => i.id.startsWith(`_nomad-task-${a}-`))),
  );
}

/** Whether the gate is open for these (already selected) instances. */
export function gateOpen(selected: readonly ServiceInstance[], opts: Pick<HealthGateOptions, 'require' | 'min'>): boolean {
  const passing = selected.filter((i) => i.passing).length;
  const require = opts.require ?? 'all';
  if (require === 'all') return selected.length >= (opts.min ?? 1) && passing === selected.length;
  return passing >= require;
}

/** `instance web-2 on node vm: check "http" critical: HTTP GET …: 500` lines. */
export function describeFailures(selected: readonly ServiceInstance[]): ContextLine[] {
  const lines: ContextLine[] = [];
  for (const i of selected) {
    if (i.passing) continue;
    for (const c of i.checks.filter((x) => x.status !== 'passing')) {
      const output = c.output === '' ? '(no output)' : c.output.replace(/\s+/g, ' ').slice(0, 400);
      const notes = c.notes === '' ? '' : ` (notes: ${c.notes.replace(/\s+/g, ' ').slice(0, 200)})`;
      lines.push([`Instance ${i.id}`, `node ${i.node}, check "${c.name}" (${c.id}) ${c.status}: ${output}${notes}`]);
    }
  }
  return lines;
}

/**
 * Consul's catalog takes an output-only change (a check that stays critical with a
 * new message) with a delay of up to the agent's `check_update_interval` (5 min),
 * so a failing check often shows an empty or stale output there. The local agent
 * knows the current output of its own checks: use it for instances on its node.
 * Best effort: a failure to ask leaves the catalog's output.
 */
async function withAgentOutput(client: ConsulClient, selected: readonly ServiceInstance[]): Promise<ServiceInstance[]> {
  if (selected.every((i) => i.passing)) return [...selected];
  let local: Record<string, { Node?: string; Output?: string; Status?: string }>;
  try {
    local = (await client.call('agent.check.list', (api) => api.agent.check.list())) as unknown as typeof local;
  } catch {
    return [...selected];
  }
  return selected.map((i) => ({
    ...i,
    checks: i.checks.map((c) => {
      const fresh = local[c.id];
      if (fresh === undefined || fresh.Node !== i.node || fresh.Output === undefined) return c;
      return { ...c, status: fresh.Status ?? c.status, output: fresh.Output.trim() };
    }),
  }));
}

function requirement(opts: HealthGateOptions): string {
  const require = opts.require ?? 'all';
  const allocs = opts.allocations === undefined ? '' : ` from ${opts.allocations.length} allocation${opts.allocations.length === 1 ? '' : 's'}`;
  // The selector by its meta key: `version 42`, or `environment qa` for the promotion's gates (not "version qa").
  const what = `${opts.service}${opts.version === undefined ? '' : ` ${opts.versionMetaKey ?? 'version'} ${opts.version}`}${(opts.tags ?? []).length > 0 ? ` tags ${(opts.tags ?? []).join(',')}` : ''}${allocs}`;
  return require === 'all' ? `every instance of ${what} passing (at least ${opts.min ?? 1})` : `at least ${require} passing instances of ${what}`;
}

/** {@link ConsulHealth.instances}. */
async function readInstances(
  client: ConsulClient,
  service: string,
  opts: { readonly index?: number; readonly waitMs?: number } = {},
): Promise<{ readonly instances: ServiceInstance[]; readonly index: number }> {
  const waitMs = Math.max(1, Math.round(opts.waitMs ?? 30_000));
  const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
  const query: Record<string, unknown> = { service, ctx, timeout: waitMs + waitMs / 16 + 10_000 };
  if ((opts.index ?? 0) > 0) Object.assign(query, { index: opts.index, wait: `${waitMs}ms` });
  // The typings know neither index/wait nor ctx.includeResponse, which make the call
  // answer [response, body] so that X-Consul-Index can be read.
  const answer = (await client.call('health.service', (api) =>
    api.health.service(query as unknown as Parameters<ConsulApi['health']['service']>[0]),
  )) as unknown as [{ headers: Record<string, string | undefined> }, unknown];
  const header = Number(answer[0].headers['x-consul-index'] ?? '0');
  return { instances: parseInstances(answer[1]), index: Number.isFinite(header) ? header : 0 };
}

/** {@link ConsulHealth.waitForHealthy}. */
async function waitForHealthy(client: ConsulClient, opts: HealthGateOptions): Promise<HealthGateResult> {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? silent;
  const start = now();
  const deadline = start + (opts.deadlineMs ?? 120_000);
  const maxWait = opts.maxWaitMs ?? 55_000;
  let index = 0;
  let queries = 0;
  let lastSummary = '';
  let lastBeat = start;
  for (;;) {
    const remaining = deadline - now();
    const r = await readInstances(client, opts.service, { index, waitMs: Math.max(1, Math.min(maxWait, remaining)) });
    queries++;
    index = nextIndex(index, r.index);
    const selected = selectInstances(r.instances, opts);
    const passing = selected.filter((i) => i.passing).length;
    const summary = `${passing}/${selected.length}`;
    if (summary !== lastSummary) {
      lastSummary = summary;
      log({ kind: 'consul.gate', service: opts.service, passing, total: selected.length, requirement: requirement(opts) });
    }
    if (gateOpen(selected, opts)) {
      return { service: opts.service, instances: selected, passing, elapsedMs: now() - start, queries };
    }
    if (now() >= deadline) {
      const failures = describeFailures(await withAgentOutput(client, selected));
      throw new GateError(
        `consul: health gate: ${opts.service}: ${passing} of ${selected.length} selected instances passing after ${((now() - start) / 1000).toFixed(1)} s`,
        {
          context: [
            ['Required', requirement(opts)],
            ...(selected.length === 0 ? [['Instances', 'none registered matching the selection'] as ContextLine] : []),
            ...failures,
          ],
        },
      );
    }
    if (now() - lastBeat >= maxWait) {
      lastBeat = now();
      log({ kind: 'heartbeat', waitingFor: `health of ${opts.service}`, seconds: (lastBeat - start) / 1000 });
    }
  }
}

/** Service health in one Consul (`consul.health`): instances and the health gate. */
export class ConsulHealth {
  constructor(readonly client: ConsulClient) {}

  /**
   * Read a service's instances once, or block until its index passes `index`.
   * @throws {ServerError} when Consul cannot be reached or answers an error.
   */
  instances(
    service: string,
    opts: { readonly index?: number; readonly waitMs?: number } = {},
  ): Promise<{ readonly instances: ServiceInstance[]; readonly index: number }> {
    return readInstances(this.client, service, opts);
  }

  /**
   * Wait until the health gate opens: blocking queries on `/v1/health/service/:service`,
   * re-evaluated on every change, until `deadlineMs`.
   * @throws {GateError} (exit 6) when the deadline passes; the context names every
   *   failing instance, its check and the check's output.
   * @throws {ServerError} when Consul cannot be reached.
   */
  waitForHealthy(opts: HealthGateOptions): Promise<HealthGateResult> {
    return waitForHealthy(this.client, opts);
  }
}
