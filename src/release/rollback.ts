/**
 * `hashiship rollback --env <env> <service>`: restore the release before the
 * current one as a whole — the weight rule removed first, the Nomad job reverted
 * to that release's job version (so its pinned digest runs again), its canaries
 * promoted, and a new release record (`via: rollback`) written after the health
 * gate and smoke requests pass. Holds the same lock as a promotion.
 */
import type { Clients } from '../clients.js';
import type { HashishipConfig } from '../config/index.js';
import { Diagnosed, promoteCanaries } from '../deploy/deploy.js';
import { ExitCode, GateError } from '../errors.js';
import type { HttpApi } from '../http.js';
import { weightKey } from '../fabio/weights.js';
import { silent, type Logger } from '../log.js';
import { realClock, type Clock } from '../runtime.js';
import { contextForSet, pinnedInputs, type SpecDirs } from './image.js';
import { EnvironmentMeta, healthEvidence, runSmoke, serviceRouting, waitSettled } from './evidence.js';
import { acquireLock } from './lock.js';
import { readRelease, releaseHistory, writeRelease, type ReleaseRecord } from './records.js';

/** Options of {@link rollback}. */
export interface RollbackOptions {
  readonly environment: string;
  readonly service: string;
  readonly dirs?: SpecDirs;
  readonly fabio: HttpApi;
  readonly proxy?: string;
  readonly healthDeadlineMs?: number;
  readonly log?: Logger;
  /** @default realClock */
  readonly clock?: Clock;
  /** The run's clients (Consul, Nomad, the registries to resolve images in), built once by the caller. */
  readonly clients: Clients;
}

/** What a rollback did. */
export interface RollbackResult {
  readonly from: ReleaseRecord;
  readonly to: ReleaseRecord;
  readonly record: ReleaseRecord;
  readonly jobVersion: number;
}

/** The release a rollback restores: the newest one before `current` with another digest. */
export function previousRelease(history: readonly ReleaseRecord[], current: ReleaseRecord): ReleaseRecord | undefined {
  return [...history].reverse().find((r) => r.seq < current.seq && r.digest !== current.digest && r.smoke.passed);
}

/**
 * Roll a service back to its previous release.
 * @throws {GateError} (exit 6) when there is no current or previous release, or the lock is held;
 *   {@link Diagnosed} wrapping the deploy error when the restored release fails; {@link ServerError}.
 */
export async function rollback(config: HashishipConfig, opts: RollbackOptions): Promise<RollbackResult> {
  const log = opts.log ?? silent;
  const clock = opts.clock ?? realClock;
  const { clients } = opts;
  const { consul } = clients;
  const { environment, service } = opts;
  const current = await readRelease(consul, environment, service);
  if (current === undefined) throw new GateError(`${service} has no release in ${environment}; nothing to roll back`);
  const previous = previousRelease(await releaseHistory(consul, environment, service), current.record);
  if (previous === undefined) {
    throw new GateError(`${service} in ${environment}: no earlier release with another digest to roll back to`, {
      context: [['Current', `#${current.record.seq} ${current.record.digest}`]],
    });
  }
  const lock = await acquireLock(consul, { environment, service, holder: { what: `rollback of ${service}` }, clock });
  try {
    const pinned = await pinnedInputs(environment, [service], {
      ...(opts.dirs === undefined ? {} : { dirs: opts.dirs }),
      pinned: Object.fromEntries(previous.images.map((i) => [i.repository, i.digest])),
      clients: clients.registries,
      ...(config.nomad.namespace === undefined ? {} : { namespace: config.nomad.namespace }),
    });
    const target = pinned.services[0]!;
    const routing = serviceRouting(target);
    // Weights first: no traffic may be steered to a canary of the release being removed.
    await consul.kv.update(weightKey(routing.service), () => null, { log });
    const ctx = contextForSet(config, pinned.set, log, clients);
    const live = await ctx.nomad.jobs.get(service);
    if (live === undefined) throw new GateError(`${service}: no job in ${environment}; nothing to roll back`);
    const versions = await ctx.nomad.client.request<{ Versions?: { Version: number }[] }>('jobs.versions', {
      path: `/v1/job/${encodeURIComponent(service)}/versions`,
    });
    const known = (versions.data.Versions ?? []).some((v) => v.Version === previous.jobVersion);
    if (!known) {
      throw new GateError(`${service}: Nomad no longer keeps job version ${previous.jobVersion} of release #${previous.seq}`, {
        context: [['Suggestion', `promote ${previous.digest} again (hashiship promote) instead`]],
      });
    }
    const before = await ctx.nomad.jobs.latestDeployment(service);
    if (live.Version !== previous.jobVersion) {
      await ctx.nomad.client.request('jobs.revert', {
        method: 'PUT',
        path: `/v1/job/${encodeURIComponent(service)}/revert`,
        data: { JobID: service, JobVersion: previous.jobVersion, EnforcePriorVersion: live.Version },
      });
      // Wait for the revert's deployment to appear, then promote its canaries and watch it.
      const end = clock.now() + 20_000;
      for (;;) {
        const d = await ctx.nomad.jobs.latestDeployment(service);
        if (d !== undefined && d.ID !== before?.ID) break;
        if (clock.now() > end) break; // no deployment (nothing to replace): the revert is already in place
        await clock.sleep(200);
      }
      const r = await promoteCanaries(ctx, [service], { environment });
      const s = r.results[0];
      if (s?.error !== undefined && s.exitCode !== ExitCode.ok) throw new Diagnosed(s.error, s.diagnosis);
    }
    await waitSettled(consul, target, { deadlineMs: opts.healthDeadlineMs ?? 60_000, clock });
    const health = await consul.health.waitForHealthy({
      service: routing.service,
      version: environment,
      versionMetaKey: EnvironmentMeta,
      require: 'all',
      min: Math.max(1, routing.count),
      deadlineMs: opts.healthDeadlineMs ?? 60_000,
      log,
    });
    const smoke = await runSmoke(target, { ...(opts.proxy === undefined ? {} : { proxy: opts.proxy }), log });
    const after = await ctx.nomad.jobs.get(service);
    const record = await writeRelease(
      consul,
      {
        service,
        environment,
        images: previous.images,
        digest: previous.digest,
        jobVersion: after?.Version ?? previous.jobVersion,
        ...(previous.build === undefined ? {} : { build: previous.build }),
        ...(previous.commit === undefined ? {} : { commit: previous.commit }),
        time: new Date(clock.now()).toISOString(),
        health: healthEvidence(health, clock.now()),
        smoke,
        via: 'rollback',
        rolledBackFrom: current.record.seq,
      },
      { log },
    );
    log({ kind: 'promote.record', service, environment, seq: record.seq, digest: record.digest, written: true });
    return { from: current.record, to: previous, record, jobVersion: after?.Version ?? previous.jobVersion };
  } finally {
    await lock.release();
  }
}
