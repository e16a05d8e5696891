/**
 * Apply and remove a canary's Fabio weight: gate on Consul health first (never a
 * weight rule before the canary instances are registered and passing), write
 * `fabio/config/<service>` with check-and-set, then wait until Fabio's live table
 * shows the weight.
 */
import type { HealthGateResult } from '../consul/health.js';
import type { Consul } from '../consul/index.js';
import type { HttpApi } from '../http.js';
import { silent, type Logger } from '../log.js';
import { waitForRoutes, type LiveRoute } from './routes.js';
import { CanaryTag, FabioKvPath, routeSources, weightKey, weightRules, weightRulesText } from './weights.js';

/** Options of {@link applyCanaryWeight} and {@link removeCanaryWeight}. */
export interface CanaryWeightOptions {
  readonly service: string;
  /** The service's `urlprefix-` tags (from the rendered spec). */
  readonly routeTags: readonly string[];
  /** Tags selecting canary instances. @default ["canary"] */
  readonly selectTags?: readonly string[];
  /** Fabio's `registry.consul.kvpath`. @default "fabio/config" */
  readonly kvPath?: string;
  /** Deadline of the health gate before writing. @default 120000 */
  readonly healthDeadlineMs?: number;
  /** Canary instances that must exist and pass. @default 1 */
  readonly minCanaries?: number;
  /** Deadline for Fabio to show the change. @default 30000 */
  readonly routesDeadlineMs?: number;
  /**
   * The key's ModifyIndex from the previous step (0: the key must not exist).
   * When set, the write names it, so any change since that step is exit 6;
   * when absent, the index read just before the write is used.
   */
  readonly cas?: number;
  readonly log?: Logger;
}

/** What an apply did. */
export interface CanaryWeightResult {
  readonly key: string;
  /** The key's ModifyIndex after the write: the `cas` of the next step. */
  readonly modifyIndex: number;
  readonly rules: readonly string[];
  readonly health?: HealthGateResult;
  readonly routes: readonly LiveRoute[];
  /** Milliseconds from the KV write until Fabio showed it. */
  readonly liveAfterMs: number;
}

/**
 * Give the canary `weight` (0 < w < 1) of the service's traffic.
 * @throws {GateError} (exit 6) when the canaries do not pass in time, the key
 *   changed concurrently, or Fabio does not show the weight in time.
 * @throws {ServerError} when Consul or Fabio cannot be reached.
 */
export async function applyCanaryWeight(consul: Consul, fabio: HttpApi, weight: number, opts: CanaryWeightOptions): Promise<CanaryWeightResult> {
  const log = opts.log ?? silent;
  const selectTags = opts.selectTags ?? [CanaryTag];
  const input = { service: opts.service, routeTags: opts.routeTags, weight, selectTags };
  const rules = weightRules(input); // validates before any I/O
  const health = await consul.health.waitForHealthy({
    service: opts.service,
    tags: selectTags,
    require: 'all',
    min: opts.minCanaries ?? 1,
    deadlineMs: opts.healthDeadlineMs ?? 120_000,
    log,
  });
  const key = weightKey(opts.service, opts.kvPath ?? FabioKvPath);
  const written =
    opts.cas === undefined
      ? await consul.kv.update(key, () => weightRulesText(input), { log })
      : await consul.kv.putCas(key, weightRulesText(input), opts.cas, { log });
  log({ kind: 'fabio.weights', service: opts.service, action: 'write', rules });
  const live = await waitForRoutes(
    fabio,
    { service: opts.service, sources: routeSources(opts.routeTags), canaryWeight: weight, canaryTags: selectTags },
    { deadlineMs: opts.routesDeadlineMs ?? 30_000, log },
  );
  return { key, modifyIndex: written?.modifyIndex ?? 0, rules, health, routes: live.routes, liveAfterMs: live.elapsedMs };
}

/**
 * Remove the service's weight rules (after promotion or abort) with
 * check-and-set, then wait until Fabio splits traffic evenly again.
 * @throws {GateError} (exit 6) when the key changed concurrently or Fabio does not
 *   show the change in time.
 * @throws {ServerError} when Consul or Fabio cannot be reached.
 */
export async function removeCanaryWeight(
  consul: Consul,
  fabio: HttpApi,
  opts: Omit<CanaryWeightOptions, 'healthDeadlineMs' | 'minCanaries'>,
): Promise<{ readonly key: string; readonly routes: readonly LiveRoute[]; readonly liveAfterMs: number }> {
  const log = opts.log ?? silent;
  const key = weightKey(opts.service, opts.kvPath ?? FabioKvPath);
  if (opts.cas === undefined || opts.cas === 0) await consul.kv.update(key, () => null, { log });
  else await consul.kv.deleteCas(key, opts.cas, { log });
  log({ kind: 'fabio.weights', service: opts.service, action: 'remove', rules: [] });
  const live = await waitForRoutes(
    fabio,
    { service: opts.service, sources: routeSources(opts.routeTags) },
    { deadlineMs: opts.routesDeadlineMs ?? 30_000, log },
  );
  return { key, routes: live.routes, liveAfterMs: live.elapsedMs };
}
