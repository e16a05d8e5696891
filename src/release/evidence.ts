/**
 * Evidence of a release: the Consul health of the environment's instances and
 * the spec's smoke requests sent through Fabio's proxy to the service's route.
 * `deploy --image … --build …` (./deploy-image.ts) gathers it after deploying.
 */
import { selectInstances, type HealthGateResult } from '../consul/health.js';
import type { Consul } from '../consul/index.js';
import { GateError } from '../errors.js';
import { HttpApi } from '../http.js';
import { silent, type Logger } from '../log.js';
import { realClock, type Clock } from '../runtime.js';
import { waitForRoutes } from '../fabio/routes.js';
import { routeSources } from '../fabio/weights.js';
import { serviceNameOf } from '../service-spec/semantic.js';
import { routeHost, routeTag } from '../service-spec/routes.js';
import type { ResolvedService } from '../service-spec/overlay.js';
import type { HealthEvidence, SmokeEvidence } from './records.js';

/** Fabio's proxy on the dev stack. */
export const DefaultFabioProxy = 'http://127.0.0.1:9999';

/** The meta key the sample and promotable services carry: `environment: ${NOMAD_META_environment}`. */
export const EnvironmentMeta = 'environment';

/** The Consul service, route tags and route of a resolved service (its first registration). */
export function serviceRouting(r: ResolvedService): {
  readonly service: string;
  readonly tags: readonly string[];
  readonly host?: string;
  readonly path: string;
  readonly count: number;
} {
  for (const g of r.spec.groups) {
    for (const s of g.services ?? []) {
      const routes = s.routes ?? [];
      const first = routes[0];
      return {
        service: serviceNameOf(r.spec.name, s, g.name),
        tags: routes.map((rt) => routeTag(rt, r.environment?.domain)),
        ...(first?.host === undefined ? {} : { host: routeHost(first.host, r.environment?.domain) }),
        path: first?.path ?? '/',
        count: g.count ?? 1,
      };
    }
  }
  return { service: r.spec.name, tags: [], path: '/', count: 0 };
}

/** Options of {@link runSmoke}. */
export interface SmokeOptions {
  /** Fabio's proxy. @default "http://127.0.0.1:9999" */
  readonly proxy?: string;
  /** Each request is sent this many times (so several instances answer). @default 3 */
  readonly repeat?: number;
  readonly log?: Logger;
}

/**
 * Send the spec's smoke requests through Fabio to the service's first route.
 * Never throws for a failed request: each is a result; `passed` is all of them.
 * @throws {ServerError} only when Fabio's proxy cannot be reached at all.
 */
export async function runSmoke(r: ResolvedService, opts: SmokeOptions = {}): Promise<{ readonly passed: boolean; readonly requests: SmokeEvidence[] }> {
  const smoke = r.spec.smoke ?? [];
  const routing = serviceRouting(r);
  const proxy = opts.proxy ?? DefaultFabioProxy;
  const api = new HttpApi({ server: 'fabio proxy', baseURL: proxy, timeoutMs: 10_000 });
  const requests: SmokeEvidence[] = [];
  const base = routing.path.replace(/\/+$/, '');
  for (const s of smoke) {
    for (let i = 0; i < Math.max(1, opts.repeat ?? 3); i++) {
      const path = `${base}${s.path}`;
      const want = s.status ?? 200;
      const res = await api.request<string>(`smoke.${s.name ?? s.path}`, {
        method: s.method ?? 'GET',
        path,
        headers: routing.host === undefined ? {} : { Host: routing.host },
        responseType: 'text',
        accept: Array.from({ length: 500 }, (_, k) => k + 100),
      });
      const body = typeof res.data === 'string' ? res.data : '';
      const bodyOk = s.body === undefined || body.includes(s.body);
      const ok = res.status === want && bodyOk;
      const detail = ok
        ? `${res.status} ${body.trim().slice(0, 80)}`
        : res.status !== want
          ? `status ${res.status}, expected ${want}: ${body.trim().slice(0, 120)}`
          : `body does not contain ${JSON.stringify(s.body)}: ${body.trim().slice(0, 120)}`;
      requests.push({ name: s.name ?? s.path, url: `http://${routing.host ?? '<any host>'}${path}`, status: res.status, ok, detail });
    }
  }
  (opts.log ?? silent)({ kind: 'promote.smoke', service: r.spec.name, passed: requests.every((q) => q.ok), requests: requests.length });
  return { passed: requests.every((q) => q.ok), requests };
}

/**
 * Wait until the environment's instances of a service are exactly the new ones:
 * at most `count` registered (the replaced allocations deregistered after their
 * shutdown delay), none tagged canary, all passing. Then Fabio routes only to them.
 * @throws {GateError} when that does not happen by the deadline.
 */
export async function waitSettled(consul: Consul, r: ResolvedService, opts: { readonly deadlineMs?: number; readonly clock?: Clock } = {}): Promise<void> {
  const routing = serviceRouting(r);
  const env = r.environment?.name ?? '';
  const clock = opts.clock ?? realClock;
  const end = clock.now() + (opts.deadlineMs ?? 60_000);
  let index = 0;
  for (;;) {
    const res = await consul.health.instances(routing.service, { index, waitMs: Math.max(1, Math.min(5_000, end - clock.now())) });
    index = res.index;
    const mine = selectInstances(res.instances, { service: routing.service, version: env, versionMetaKey: EnvironmentMeta });
    if (mine.length > 0 && mine.length <= Math.max(1, routing.count) && mine.every((i) => i.passing && !i.tags.includes('canary'))) return;
    if (clock.now() >= end) {
      throw new GateError(`${routing.service} in ${env}: the old instances did not leave in time (${mine.length} registered, ${routing.count} wanted)`, {
        context: mine.map((i) => [`Instance ${i.id}`, `${i.passing ? 'passing' : 'not passing'}; tags ${i.tags.join(',')}`] as const),
      });
    }
  }
}

/** The health evidence of a gate result. */
export function healthEvidence(h: HealthGateResult, now: number): HealthEvidence {
  return { passing: h.passing, total: h.instances.length, at: new Date(now).toISOString() };
}

/**
 * Gather a service's evidence in an environment (health of its instances there,
 * then the smoke requests), after its routes are live in Fabio.
 * @throws {GateError} when the instances do not pass in time.
 */
export async function gatherEvidence(
  consul: Consul,
  r: ResolvedService,
  opts: {
    readonly fabio: HttpApi;
    readonly proxy?: string;
    readonly deadlineMs?: number;
    readonly log?: Logger;
    readonly tags?: readonly string[];
  },
): Promise<{ readonly health: HealthGateResult; readonly smoke: { readonly passed: boolean; readonly requests: SmokeEvidence[] } }> {
  const routing = serviceRouting(r);
  const env = r.environment?.name ?? '';
  // Evidence is about the new instances only: wait until the replaced ones left.
  if (opts.tags === undefined) await waitSettled(consul, r, { deadlineMs: opts.deadlineMs ?? 60_000 });
  const health = await consul.health.waitForHealthy({
    service: routing.service,
    version: env,
    versionMetaKey: EnvironmentMeta,
    ...(opts.tags === undefined ? {} : { tags: opts.tags }),
    require: 'all',
    min: opts.tags === undefined ? Math.max(1, routing.count) : 1,
    deadlineMs: opts.deadlineMs ?? 60_000,
    ...(opts.log === undefined ? {} : { log: opts.log }),
  });
  if (routing.tags.length > 0) {
    await waitForRoutes(
      opts.fabio,
      { service: routing.service, sources: routeSources(routing.tags) },
      {
        deadlineMs: 30_000,
        ...(opts.log === undefined ? {} : { log: opts.log }),
      },
    );
  }
  const smoke = await runSmoke(r, { ...(opts.proxy === undefined ? {} : { proxy: opts.proxy }), ...(opts.log === undefined ? {} : { log: opts.log }) });
  return { health, smoke };
}
