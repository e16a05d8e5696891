/**
 * The {@link PromotionDeps} of one service's promotion on the real servers of a
 * configuration: the target environment's registry, Nomad (in the job's
 * namespace), Consul and Fabio. Every call is one library call of the area it
 * names; nothing here decides anything.
 */
import type { Clients } from '../../clients.js';
import type { HashishipConfig } from '../../config/index.js';
import { deployJob, Diagnosed, promoteCanaries } from '../../deploy/deploy.js';
import type { DeployContext } from '../../deploy/runtime.js';
import { applyCanaryWeight, removeCanaryWeight } from '../../fabio/canary.js';
import { waitForRoutes } from '../../fabio/routes.js';
import { CanaryTag, routeSources, weightKey } from '../../fabio/weights.js';
import type { HttpApi } from '../../http.js';
import type { Logger } from '../../log.js';
import { copyImage } from '../../registry/index.js';
import type { Clock } from '../../runtime.js';
import type { ResolvedService } from '../../service-spec/overlay.js';
import { EnvironmentMeta, runSmoke, serviceRouting, waitSettled } from '../evidence.js';
import { contextForSet, pinnedInputs, type SpecDirs } from '../image.js';
import { progressKey } from './plan.js';
import { readRelease, writeRelease } from '../records.js';
import type { PromotionDeps, TargetNomad } from './state.js';

/** Where a promotion's servers are, besides the configuration. */
export interface ServerOptions {
  readonly to: string;
  readonly dirs?: SpecDirs;
  /** The source release's images: the target's jobs are rendered with these digests pinned. */
  readonly pinned: Readonly<Record<string, string>>;
  /** Overwrite a different digest under an existing tag in the target registry. */
  readonly force?: boolean;
  readonly fabio: HttpApi;
  readonly proxy?: string;
  readonly clock: Clock;
  readonly log: Logger;
}

/** The promotion of `target` (a service resolved in the target environment) on the servers of `config`, through the run's clients. */
export function serverDeps(config: HashishipConfig, clients: Clients, target: ResolvedService, o: ServerOptions): PromotionDeps {
  const { consul, registries } = clients;
  const service = target.spec.name;
  const routing = serviceRouting(target);
  const { log, clock } = o;
  const proxy = o.proxy === undefined ? {} : { proxy: o.proxy };
  const rule = weightKey(routing.service);
  let nomad: TargetNomad | undefined;

  /** Render the job with the digests pinned and build the Nomad context in its namespace (cached once it worked). */
  const targetNomad = async (): Promise<TargetNomad> => {
    if (nomad !== undefined) return nomad;
    const pinned = await pinnedInputs(o.to, [service], {
      ...(o.dirs === undefined ? {} : { dirs: o.dirs }),
      pinned: o.pinned,
      clients: registries,
      ...(config.nomad.namespace === undefined ? {} : { namespace: config.nomad.namespace }),
    });
    const input = pinned.set.inputs[0]!;
    const ctx: DeployContext = contextForSet(config, pinned.set, log, clients);
    nomad = {
      deploy: () => deployJob(ctx, o.to, input, { until: 'promotion-ready' }),
      deployment: async (id) => (id === undefined ? ctx.nomad.jobs.latestDeployment(service) : (await ctx.nomad.deployments.get(id)).data),
      fail: (id) => ctx.nomad.deployments.fail(id),
      job: () => ctx.nomad.jobs.get(service),
      promote: async () => {
        const r = await promoteCanaries(ctx, [service], { environment: o.to });
        const s = r.results[0];
        if (s?.error !== undefined) throw new Diagnosed(s.error, s.diagnosis);
      },
    };
    return nomad;
  };

  return {
    clock,
    log,
    registry: {
      copy: async (source, destination) => {
        const r = await copyImage(source, destination, { clients: registries, force: o.force === true, log });
        return r.digest;
      },
    },
    nomad: targetNomad,
    consul: {
      saveProgress: async (progress, index) => (await consul.kv.putCas(progressKey(o.to, service), JSON.stringify(progress), index)).modifyIndex,
      waitHealthy: ({ canaries, deadlineMs, quiet }) =>
        consul.health.waitForHealthy({
          service: routing.service,
          version: o.to,
          versionMetaKey: EnvironmentMeta,
          ...(canaries > 0 ? { tags: [CanaryTag], min: canaries } : {}),
          require: 'all',
          deadlineMs,
          ...(quiet === true ? {} : { log }),
        }),
      instances: (index, waitMs) => consul.health.instances(routing.service, { index, waitMs }),
      waitSettled: (deadlineMs) => waitSettled(consul, target, { deadlineMs, clock }),
      weightRule: rule,
      deleteWeightRule: async () => {
        await consul.kv.update(rule, () => null, { log });
      },
      readRelease: async () => (await readRelease(consul, o.to, service))?.record,
      writeRelease: (record) => writeRelease(consul, record, { log }),
    },
    fabio: {
      applyWeight: (percent, { canaries, deadlineMs }) =>
        applyCanaryWeight(consul, o.fabio, percent / 100, {
          service: routing.service,
          routeTags: routing.tags,
          minCanaries: canaries,
          healthDeadlineMs: deadlineMs,
          log,
        }),
      removeWeight: async () => {
        await removeCanaryWeight(consul, o.fabio, { service: routing.service, routeTags: routing.tags, log });
      },
      smoke: (opts = {}) => runSmoke(target, { ...proxy, ...(opts.quiet === true ? {} : { log }) }),
      routesSettled: async (deadlineMs) => {
        if (routing.tags.length === 0) return 'unrouted';
        const sources = routeSources(routing.tags);
        await waitForRoutes(o.fabio, { service: routing.service, sources, targets: routing.count }, { deadlineMs, log, clock });
        return 'confirmed';
      },
    },
  };
}
