/**
 * The expected routing table of rendered jobs beside Fabio's live one (for
 * `hashiship routes`): every Consul service with `urlprefix-` tags, with the
 * canary weight its `fabio/config/<service>` key holds, if any.
 */
import type { Consul } from '../consul/index.js';
import type { HttpApi } from '../http.js';
import { diffRoutes, formatRouteTable, readRoutes, routesOf, type ExpectedRoutes, type LiveRoute } from './routes.js';
import { FabioKvPath, routeSources, weightKey } from './weights.js';

interface ServiceLike {
  readonly Name?: string;
  readonly Provider?: string;
  readonly Tags?: readonly string[] | null;
}

/** The parts of a rendered job (Nomad API JSON) this module reads. */
interface JobWithServices {
  readonly TaskGroups?:
    | readonly {
        readonly Services?: readonly ServiceLike[] | null;
        readonly Tasks?: readonly { readonly Services?: readonly ServiceLike[] | null }[] | null;
      }[]
    | null;
}

/** Route sources per Consul service of the jobs, in job order (Nomad-provider services are not routed by Fabio). */
export function routedServices(jobs: readonly object[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const job of jobs as readonly JobWithServices[]) {
    for (const g of job.TaskGroups ?? []) {
      for (const s of [...(g.Services ?? []), ...(g.Tasks ?? []).flatMap((t) => t.Services ?? [])]) {
        if ((s.Provider ?? 'consul') !== 'consul' || s.Name === undefined) continue;
        const sources = routeSources(s.Tags ?? []);
        if (sources.length === 0) continue;
        const prev = out.get(s.Name) ?? [];
        out.set(s.Name, [...prev, ...sources.filter((x) => !prev.includes(x))]);
      }
    }
  }
  return out;
}

/** The weight of the first `route weight … weight <w>` line of a rules text. */
export function weightOfRules(text: string): number | undefined {
  const m = /^route\s+weight\s+\S+\s+\S+\s+weight\s+([0-9.]+)/m.exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Both tables and whether they agree. */
export interface RoutesReport {
  readonly expected: readonly ExpectedRoutes[];
  /** The live routes of the expected services for the sources they expect (not other environments' routes of the same service name). */
  readonly live: readonly LiveRoute[];
  readonly differences: readonly string[];
  /** Printable lines: per service its expected sources, live targets and differences. */
  readonly lines: readonly string[];
}

/**
 * Read the weight keys and Fabio's table, and compare them with the jobs' routes.
 * @throws {ServerError} when Consul or Fabio cannot be reached.
 */
export async function routesReport(consul: Consul, fabio: HttpApi, jobs: readonly object[], opts: { readonly kvPath?: string } = {}): Promise<RoutesReport> {
  const expected: ExpectedRoutes[] = [];
  for (const [service, sources] of routedServices(jobs)) {
    const rules = await consul.kv.get(weightKey(service, opts.kvPath ?? FabioKvPath));
    const w = rules === undefined ? undefined : weightOfRules(rules.value);
    expected.push({ service, sources, ...(w === undefined ? {} : { canaryWeight: w }) });
  }
  const live = await readRoutes(fabio);
  return {
    expected,
    live: expected.flatMap((e) => routesOf(live, e)),
    differences: expected.flatMap((e) => diffRoutes(live, e).map((d) => `${e.service}: ${d}`)),
    lines: formatRouteTable(live, expected),
  };
}
