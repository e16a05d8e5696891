/**
 * Consul health checks of a job's services, followed with Consul blocking
 * queries while a deployment runs. A failing allocation is stopped (and its
 * checks deregistered) as soon as the deployment fails, so the check output a
 * diagnosis needs has to be kept while it is visible.
 */
import { EventEmitter } from 'node:events';
import type { ConsulApi, ConsulClient } from '../consul/client.js';
import type { JobSpecLike } from '../nomad/jobs.js';
import { sleep } from '../runtime.js';

/** One check of one allocation's service, as last seen. */
export interface CheckRecord {
  readonly allocId: string;
  readonly service: string;
  readonly check: string;
  /** passing, warning, critical. */
  readonly status: string;
  readonly output: string;
  /** The last output seen while the check was not passing. */
  readonly lastFailure?: string;
}

/** Consul's answer row for a check (the fields hashiship reads). */
export interface ConsulCheck {
  readonly CheckID: string;
  readonly Name: string;
  readonly Status: string;
  readonly Output: string;
  readonly ServiceID: string;
  readonly ServiceName: string;
}

const ALLOC_IN_SERVICE_ID = /_nomad-task-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-/;

/** The allocation ID inside a Nomad-registered Consul service ID, if any. */
export function allocOfServiceId(serviceId: string): string | undefined {
  return ALLOC_IN_SERVICE_ID.exec(serviceId)?.[1];
}

/** Per task group, the Consul service names it registers (group and task services with the Consul provider). */
export function consulServicesByGroup(job: JobSpecLike): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const g of job.TaskGroups ?? []) {
    const names = new Set<string>();
    const services = [...(g.Services ?? []), ...(g.Tasks ?? []).flatMap((t) => t.Services ?? [])];
    for (const s of services) {
      if (s.Name !== undefined && s.Name !== '' && (s.Provider ?? 'consul') === 'consul' && !s.Name.includes('${')) names.add(s.Name);
    }
    if (names.size > 0) out.set(g.Name ?? '', [...names].sort());
  }
  return out;
}

/** The Consul service names a job registers (group and task services with the Consul provider). */
export function consulServicesOf(job: JobSpecLike): string[] {
  return [...new Set([...consulServicesByGroup(job).values()].flat())].sort();
}

/** Receives a check whose status changed. */
export type CheckListener = (r: CheckRecord) => void;

/**
 * Follows the checks of some Consul services and remembers, per allocation, each
 * check's status and its last failing output.
 */
export class CheckTracker {
  readonly #records = new Map<string, CheckRecord>();
  readonly #ctx = new EventEmitter();
  #stopped = false;
  readonly #loops: Promise<void>[] = [];
  readonly #services = new Set<string>();

  constructor(
    readonly consul: ConsulClient,
    readonly onChange: CheckListener = () => {},
  ) {
    this.#ctx.setMaxListeners(0);
  }

  /** Start following these services (each in its own blocking loop). */
  follow(services: readonly string[]): void {
    for (const s of services) {
      this.#services.add(s);
      this.#loops.push(this.#loop(s));
    }
  }

  /**
   * Record one answer (exposed for the loops and for tests of the bookkeeping).
   * The first sighting of a check is silent; a status change is reported.
   */
  record(rows: readonly ConsulCheck[]): void {
    for (const row of rows) {
      const allocId = allocOfServiceId(row.ServiceID);
      if (allocId === undefined) continue;
      const key = `${row.ServiceID}/${row.CheckID}`;
      const prev = this.#records.get(key);
      const output = row.Output.trim();
      // A failing check keeps its last non-empty output; '' means "failing, no output seen yet".
      const failure = row.Status !== 'passing' ? (output !== '' ? output : (prev?.lastFailure ?? '')) : prev?.lastFailure;
      const rec: CheckRecord = {
        allocId,
        service: row.ServiceName,
        check: row.Name,
        status: row.Status,
        // The catalog may lag behind on output (Consul syncs output-only changes every
        // check_update_interval); never replace a known output with an empty one.
        output: output === '' && prev !== undefined && prev.status === row.Status ? prev.output : output,
        ...(failure === undefined ? {} : { lastFailure: failure }),
      };
      this.#records.set(key, rec);
      if (prev !== undefined && prev.status !== rec.status) this.onChange(rec);
    }
  }

  /**
   * Read the checks of the Consul agent we talk to (`/v1/agent/checks`): it holds
   * each check's current output, which the catalog only receives when the status
   * changes. Useful when that agent is the one the allocations registered with
   * (a single node, the dev stack); elsewhere it adds nothing. Never throws.
   */
  async refreshLocal(): Promise<void> {
    if (this.#stopped) return;
    try {
      const checks = (await this.consul.call('agent.check.list', (api) => api.agent.check.list())) as unknown as Record<string, ConsulCheck>;
      const ours = Object.values(checks ?? {}).filter((c) => this.#services.has(c.ServiceName));
      this.record(ours);
    } catch {
      // Diagnosis degrades without check output.
    }
  }

  /** The checks seen for an allocation. */
  forAlloc(allocId: string): CheckRecord[] {
    return [...this.#records.values()].filter((r) => r.allocId === allocId);
  }

  /** Stop every loop (pending requests are cancelled). */
  async stop(): Promise<void> {
    this.#stopped = true;
    (this.#ctx as EventEmitter & { canceled?: boolean }).canceled = true;
    this.#ctx.emit('cancel');
    await Promise.allSettled(this.#loops);
  }

  async #loop(service: string): Promise<void> {
    let index = '0';
    let failures = 0;
    while (!this.#stopped) {
      try {
        const ctx = Object.assign(this.#ctx, { includeResponse: true });
        const opts = { service, index, wait: '30s', timeout: 45_000, ctx };
        const [res, body] = (await this.consul.call('health.checks', (api) =>
          api.health.checks(opts as unknown as Parameters<ConsulApi['health']['checks']>[0]),
        )) as unknown as [{ headers: Record<string, string | undefined> }, ConsulCheck[]];
        if (this.#stopped) return;
        failures = 0;
        this.record(body);
        const next = res.headers['x-consul-index'] ?? '0';
        index = BigInt(next) < BigInt(index) ? '0' : next;
      } catch {
        if (this.#stopped) return;
        // Diagnosis degrades without check output; never fail a deploy for it.
        if (++failures >= 3) return;
        await sleep(500 * failures);
      }
    }
  }
}
