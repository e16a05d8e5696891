/**
 * Fabio's live routing table (`GET /api/routes`), the table we expect, the
 * difference between them, and a bounded wait until they agree. Fabio has no
 * blocking API, so the wait polls it (200 ms) under a deadline.
 */
import { escapeText, GateError } from '../errors.js';
import { HttpApi } from '../http.js';
import { silent, type Logger } from '../log.js';
import { realClock, type Clock } from '../runtime.js';

/** Fabio's UI/API address on the dev stack. @default "http://127.0.0.1:9998" */
export const DefaultFabioApi = 'http://127.0.0.1:9998';

/** One target of Fabio's routing table. */
export interface LiveRoute {
  readonly service: string;
  /** `host/path` (or `:port` for TCP). */
  readonly src: string;
  readonly dst: string;
  readonly weight: number;
  readonly tags: readonly string[];
  readonly opts: string;
}

/** What a service's routes must look like. */
export interface ExpectedRoutes {
  readonly service: string;
  /** Route sources that must be live. */
  readonly sources: readonly string[];
  /**
   * Share of each source's traffic that targets carrying `canaryTags` get in
   * total; undefined means no weight rule: every target gets an equal share.
   */
  readonly canaryWeight?: number;
  /** @default ["canary"] */
  readonly canaryTags?: readonly string[];
  /** When set, the number of live targets each source must have. */
  readonly targets?: number;
}

/** A Fabio API client on {@link HttpApi}. */
export function fabioApi(baseURL: string = DefaultFabioApi): HttpApi {
  return new HttpApi({ server: 'fabio', baseURL, timeoutMs: 10_000 });
}

/**
 * Read Fabio's routing table (`null` when it is empty).
 * @throws {ServerError} when Fabio cannot be reached.
 */
export async function readRoutes(api: HttpApi): Promise<LiveRoute[]> {
  const res = await api.request<unknown>('routes', { path: '/api/routes' });
  if (!Array.isArray(res.data)) return [];
  return (res.data as Record<string, unknown>[]).map((r) => ({
    service: String(r['service'] ?? ''),
    src: String(r['src'] ?? ''),
    dst: String(r['dst'] ?? ''),
    weight: Number(r['weight'] ?? 0),
    tags: Array.isArray(r['tags']) ? (r['tags'] as unknown[]).map(String) : [],
    opts: String(r['opts'] ?? ''),
  }));
}

/** Weights are equal when they differ by less than this. */
export const WeightTolerance = 0.005;

const pct = (w: number) => `${(w * 100).toFixed(1)} %`;

/** Every way the live table differs from the expected one (empty when they agree). */
export function diffRoutes(live: readonly LiveRoute[], expected: ExpectedRoutes): string[] {
  const out: string[] = [];
  const tags = expected.canaryTags ?? ['canary'];
  const mine = live.filter((r) => r.service === expected.service);
  for (const src of expected.sources) {
    const targets = mine.filter((r) => r.src === src);
    if (targets.length === 0) {
      out.push(`${src}: no live route for ${expected.service}`);
      continue;
    }
    if (expected.targets !== undefined && targets.length !== expected.targets) {
      out.push(`${src}: ${targets.length} live targets, expected ${expected.targets}`);
    }
    const isCanary = (r: LiveRoute) => tags.every((t) => r.tags.includes(t));
    const canary = targets.filter(isCanary);
    const stable = targets.filter((r) => !isCanary(r));
    if (expected.canaryWeight === undefined) {
      const share = 1 / targets.length;
      for (const t of targets) {
        if (Math.abs(t.weight - share) > WeightTolerance) out.push(`${src} → ${t.dst}: weight ${pct(t.weight)}, expected ${pct(share)} (no weight rule)`);
      }
      continue;
    }
    if (canary.length === 0 || stable.length === 0) {
      out.push(`${src}: no live ${canary.length === 0 ? `canary target (tags ${tags.join(',')})` : 'stable target beside the canary'}`);
      continue;
    }
    const got = canary.reduce((s, r) => s + r.weight, 0);
    const want = expected.canaryWeight;
    if (Math.abs(got - want) > WeightTolerance) out.push(`${src}: canary targets get ${pct(got)}, expected ${pct(want)}`);
  }
  return out;
}

/** Options of {@link waitForRoutes}. */
export interface WaitRoutesOptions {
  /** @default 30000 */
  readonly deadlineMs?: number;
  /** @default 200 */
  readonly intervalMs?: number;
  readonly log?: Logger;
  /** @default realClock */
  readonly clock?: Clock;
}

/**
 * Poll `/api/routes` until it matches `expected`, within a deadline.
 * @returns the live routes of the service and how long it took.
 * @throws {GateError} (exit 6) with the remaining differences when the deadline passes.
 * @throws {ServerError} when Fabio cannot be reached.
 */
export async function waitForRoutes(
  api: HttpApi,
  expected: ExpectedRoutes,
  opts: WaitRoutesOptions = {},
): Promise<{ readonly routes: LiveRoute[]; readonly elapsedMs: number }> {
  const log = opts.log ?? silent;
  const clock = opts.clock ?? realClock;
  const start = clock.now();
  const deadline = start + (opts.deadlineMs ?? 30_000);
  let last = '';
  for (;;) {
    const live = await readRoutes(api);
    const diff = diffRoutes(live, expected);
    const key = diff.join('\n');
    if (diff.length === 0) {
      log({ kind: 'fabio.routes', service: expected.service, live: true, differences: [] });
      return { routes: live.filter((r) => r.service === expected.service), elapsedMs: clock.now() - start };
    }
    if (key !== last) {
      last = key;
      log({ kind: 'fabio.routes', service: expected.service, live: false, differences: diff });
    }
    if (clock.now() >= deadline) {
      throw new GateError(`fabio: routes of ${expected.service} not live after ${((clock.now() - start) / 1000).toFixed(1)} s`, {
        context: [['Fabio', api.baseURL], ...diff.map((d) => ['Difference', d] as const)],
      });
    }
    await clock.sleep(Math.min(opts.intervalMs ?? 200, Math.max(1, deadline - clock.now())));
  }
}

/**
 * The live routes that belong to the expected ones: the service's targets for the
 * sources it expects. Another environment's routes of a service with the same
 * Consul name (Consul OSS has no namespaces; e.g. `sample.prod.local/` beside
 * `sample.qa.local/`) are not its.
 */
export function routesOf(live: readonly LiveRoute[], expected: ExpectedRoutes): LiveRoute[] {
  return live.filter((r) => r.service === expected.service && expected.sources.includes(r.src));
}

/**
 * The live table beside the expected one, one line per target (for `hashiship routes`).
 * A route's tags and options are what Fabio read from Consul tags: each line is escaped
 * ({@link escapeText}), so a control character or a line break stays visible text on it.
 */
export function formatRouteTable(live: readonly LiveRoute[], expected: readonly ExpectedRoutes[]): string[] {
  const lines: string[] = [];
  for (const e of expected) {
    const diff = diffRoutes(live, e);
    lines.push(
      `${e.service}  expected: ${e.sources.join(', ')}${e.canaryWeight === undefined ? '' : ` canary ${pct(e.canaryWeight)}`}  ${diff.length === 0 ? 'live' : 'DIFFERS'}`,
    );
    for (const r of routesOf(live, e)) {
      lines.push(`  ${r.src} → ${r.dst}  ${pct(r.weight)}${r.tags.length === 0 ? '' : `  [${r.tags.join(',')}]`}${r.opts === '' ? '' : `  ${r.opts}`}`);
    }
    for (const d of diff) lines.push(`  ! ${d}`);
  }
  return lines.map(escapeText);
}
