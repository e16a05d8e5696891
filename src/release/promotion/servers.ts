/**
 * The {@link PromotionDeps} of one service's promotion on the real servers of a
 * configuration: the target environment's registry, Nomad (in the job's
 * namespace), Consul and Fabio. Every call is one library call of the area it
 * names; nothing here decides anything.
 */
import type { HashishipConfig } from '../../config/index.js';
import type { ConsulApi } from '../../consul/client.js';
import { readInstances, waitForHealthy } from '../../consul/health.js';
import { kvPutCas, kvUpdate } from '../../consul/kv.js';
import { deployJob, Diagnosed, promoteCanaries } from '../../deploy/deploy.js';
import type { DeployContext } from '../../deploy/runtime.js';
import { applyCanaryWeight, removeCanaryWeight } from '../../fabio/canary.js';
import { waitForRoutes } from '../../fabio/routes.js';
import { CanaryTag, routeSources, weightKey } from '../../fabio/weights.js';
import type { HttpApi } from '../../http.js';
import type { Logger } from '../../log.js';
import { copyImage, RegistryClients, type RegistryAccess } from '../../registry/index.js';
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
  readonly access?: RegistryAccess;
  readonly clock: Clock;
  readonly log: Logger;
}

/** The promotion of `target` (a service resolved in the target environment) on the servers of `config`. */
export function serverDeps(config: HashishipConfig, consul: ConsulApi, target: ResolvedService, o: ServerOptions): PromotionDeps {
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
      ...(o.access === undefined ? {} : { access: o.access }),
      ...(config.nomad.namespace === undefined ? {} : { namespace: config.nomad.namespace }),
    });
    const input = pinned.set.inputs[0]!;
    const ctx: DeployContext = contextForSet(config, pinned.set, log);
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

  let clients: RegistryClients | undefined;
  return {
    clock,
    log,
    registry: {
      copy: async (source, destination) => {
        clients ??= new RegistryClients(o.access ?? {});
        const r = await copyImage(source, destination, { clients, force: o.force === true, log, ...(o.access ?? {}) });
        return r.digest;
      },
    },
    nomad: targetNomad,
    consul: {
      saveProgress: async (progress, index) =>
        (await kvPutCas(config.consul, progressKey(o.to, service), JSON.stringify(progress), index, { consul })).modifyIndex,
      waitHealthy: ({ canaries, deadlineMs, quiet }) =>
        waitForHealthy(config.consul, {
          service: routing.service,
          version: o.to,
          versionMetaKey: EnvironmentMeta,
          ...(canaries > 0 ? { tags: [CanaryTag], min: canaries } : {}),
          require: 'all',
          deadlineMs,
          consul,
          ...(quiet === true ? {} : { log }),
        }),
      instances: (index, waitMs) => readInstances(config.consul, routing.service, { index, waitMs, consul }),
      waitSettled: (deadlineMs) => waitSettled(config, target, { deadlineMs, consul, clock }),
      weightRule: rule,
      deleteWeightRule: async () => {
        await kvUpdate(config.consul, rule, () => null, { consul, log });
      },
      readRelease: async () => (await readRelease(config.consul, o.to, service, { consul }))?.record,
      writeRelease: (record) => writeRelease(config.consul, record, { consul, log }),
    },
    fabio: {
      applyWeight: (percent, { canaries, deadlineMs }) =>
        applyCanaryWeight(config.consul, o.fabio, percent / 100, {
          service: routing.service,
          routeTags: routing.tags,
          minCanaries: canaries,
          healthDeadlineMs: deadlineMs,
          consul,
          log,
        }),
      removeWeight: async () => {
        await removeCanaryWeight(config.consul, o.fabio, { service: routing.service, routeTags: routing.tags, consul, log });
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
