/**
 * `deploy --env <env> [services…] --image <service>=<tag|digest> --build <n>`, the
 * release path of deploy: resolve the images in the environment's registry, deploy
 * them pinned by digest, then gather the evidence (./evidence.ts: health, smoke
 * requests through Fabio) and write the environment's release record
 * (./records.ts). `src/commands/deploy-release.ts` is its shell: flags in, this
 * out, printed.
 */
import type { Clients } from '../clients.js';
import type { Env, HashishipConfig } from '../config/index.js';
import { deployEnvironment, type DeployOptions, type DeployResult } from '../deploy/deploy.js';
import { inNamespace } from '../deploy/runtime.js';
import { ExitCode, GateError, HashishipError, InputError, worstExitCode } from '../errors.js';
import type { HttpApi } from '../http.js';
import { silent, type Logger } from '../log.js';
import { gatherEvidence, healthEvidence } from './evidence.js';
import { contextForSet, pinnedInputs, type ResolvedImage, type SpecDirs } from './image.js';
import { readRelease, writeRelease, type ReleaseRecord } from './records.js';

/** Why a deploy is a release deploy (for messages), and its build number. */
export interface ReleaseMode {
  readonly why: string;
  readonly build?: string;
}

/** A build number: recorded with the release and, when promoting, the image's tag (Docker's tag rules). */
const BUILD = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * A build number as given by `subject` (`--build`, `HASHISHIP_BUILD`), checked before anything is contacted.
 * @throws {InputError} naming it when it cannot be an image tag (a control character, a space, a slash…).
 */
export function checkBuild(subject: string, build: string | undefined): string | undefined {
  if (build === undefined || BUILD.test(build)) return build;
  throw new InputError([
    {
      subject: `${subject}=${JSON.stringify(build)}`,
      message: 'not a build number: it tags the release image, so letters, digits, _ . and -, at most 128, not starting with . or -',
    },
  ]);
}

/**
 * A release deploy when `--image` is given, or a build number (`--build`, else
 * HASHISHIP_BUILD); undefined for a plain deploy (pure).
 * @throws {InputError} when the build number cannot be an image tag.
 */
export function releaseMode(flags: { readonly image?: readonly string[]; readonly build?: string }, env: Env): ReleaseMode | undefined {
  const fromEnv = env['HASHISHIP_BUILD'];
  const build =
    flags.build !== undefined && flags.build !== ''
      ? checkBuild('--build', flags.build)
      : fromEnv !== undefined && fromEnv !== ''
        ? checkBuild('HASHISHIP_BUILD', fromEnv)
        : undefined;
  const images = (flags.image ?? []).length > 0;
  if (!images && build === undefined) return undefined;
  const why = images
    ? '--image makes this a release deploy'
    : flags.build !== undefined && flags.build !== ''
      ? '--build makes this a release deploy'
      : `HASHISHIP_BUILD=${JSON.stringify(fromEnv)} makes this a release deploy (unset it for a plain deploy)`;
  return { why, ...(build === undefined ? {} : { build }) };
}

/** Options of {@link deployRelease}. */
export interface ReleaseDeployOptions {
  readonly environment: string;
  readonly names: readonly string[];
  readonly dirs?: SpecDirs;
  /** `--image <service>=<tag|digest>`. */
  readonly overrides?: ReadonlyMap<string, string>;
  readonly build?: string;
  readonly commit?: string;
  /** Fabio's API (to wait for routes). */
  readonly fabio: HttpApi;
  readonly proxy?: string;
  /** The run's clients (Nomad, Consul, the registries to resolve images in), built once by the caller. */
  readonly clients: Clients;
  readonly deploy?: DeployOptions;
  /** Deadline of the health gate after the deployment. @default 60000 */
  readonly healthDeadlineMs?: number;
  readonly log?: Logger;
}

/** The outcome of {@link deployRelease}. */
export interface ReleaseDeployResult {
  readonly deploy: DeployResult;
  readonly images: ReadonlyMap<string, readonly ResolvedImage[]>;
  /** Records written (services whose evidence was gathered). */
  readonly records: readonly ReleaseRecord[];
  /** Services whose evidence failed, with the error. */
  readonly failures: readonly { readonly service: string; readonly error: HashishipError }[];
  readonly exitCode: number;
}

/**
 * `deploy --env <env> --image <service>=<ref> --build <n>`: resolve the images in
 * the environment's registry, deploy them pinned by digest, then for each
 * service that deployed, gather the evidence and write its release record.
 * Smoke failures are recorded (the record says so, and promotion refuses it) and
 * make the exit code 6.
 * @throws {InputError} for bad specs or flags; {@link ServerError} when a server fails before deploying.
 */
export async function deployRelease(config: HashishipConfig, opts: ReleaseDeployOptions): Promise<ReleaseDeployResult> {
  const log = opts.log ?? silent;
  const { clients } = opts;
  const { consul } = clients;
  const pinned = await pinnedInputs(opts.environment, opts.names, {
    ...(opts.dirs === undefined ? {} : { dirs: opts.dirs }),
    ...(opts.overrides === undefined ? {} : { overrides: opts.overrides }),
    clients: clients.registries,
    ...(config.nomad.namespace === undefined ? {} : { namespace: config.nomad.namespace }),
  });
  for (const [service, imgs] of pinned.images) {
    for (const i of imgs)
      log({ kind: 'promote.image', service, repository: i.repository, registry: i.registry, digest: i.digest, ...(i.tag === undefined ? {} : { tag: i.tag }) });
  }
  const ctx = contextForSet(config, pinned.set, log, clients);
  const result = await deployEnvironment(ctx, pinned.set, { until: 'healthy', ...opts.deploy });
  const records: ReleaseRecord[] = [];
  const failures: { service: string; error: HashishipError }[] = [];
  for (const s of result.results) {
    if (s.exitCode !== ExitCode.ok) continue;
    const r = pinned.services.find((x) => x.spec.name === s.job);
    const images = pinned.images.get(s.job) ?? [];
    if (r === undefined || images.length === 0) continue;
    try {
      const ev = await gatherEvidence(consul, r, {
        fabio: opts.fabio,
        ...(opts.proxy === undefined ? {} : { proxy: opts.proxy }),
        deadlineMs: opts.healthDeadlineMs ?? 60_000,
        log,
      });
      const live = await inNamespace(ctx, s.namespace).nomad.jobs.get(s.job);
      const current = await readRelease(consul, opts.environment, s.job);
      const c = current?.record;
      const same =
        c !== undefined &&
        c.digest === images[0]!.digest &&
        c.jobVersion === (live?.Version ?? s.version) &&
        c.build === opts.build &&
        c.smoke.passed === ev.smoke.passed;
      const rec: ReleaseRecord = same
        ? c
        : await writeRelease(
            consul,
            {
              service: s.job,
              environment: opts.environment,
              images: images.map(({ layers: _l, ...i }) => i),
              digest: images[0]!.digest,
              jobVersion: live?.Version ?? s.version ?? 0,
              ...(opts.build === undefined ? {} : { build: opts.build }),
              ...(opts.commit === undefined ? {} : { commit: opts.commit }),
              time: new Date().toISOString(),
              health: healthEvidence(ev.health, Date.now()),
              smoke: ev.smoke,
              via: 'deploy',
            },
            { log },
          );
      log({ kind: 'promote.record', service: s.job, environment: opts.environment, seq: rec.seq, digest: rec.digest, written: !same });
      records.push(rec);
      if (!ev.smoke.passed) {
        const bad = ev.smoke.requests.filter((q) => !q.ok);
        failures.push({
          service: s.job,
          error: new GateError(`${s.job}: smoke tests failed in ${opts.environment}; the release is recorded as failed`, {
            context: bad.slice(0, 5).map((q) => [`Smoke ${q.name}`, `${q.url}: ${q.detail}`] as const),
          }),
        });
      }
    } catch (err) {
      if (!(err instanceof HashishipError)) throw err;
      failures.push({ service: s.job, error: err });
    }
  }
  const codes = [result.exitCode, ...failures.map((f) => f.error.exitCode)].filter((c) => c !== ExitCode.ok);
  return { deploy: result, images: pinned.images, records, failures, exitCode: worstExitCode(codes) };
}

/** The `--json` document of a release deploy: the deploy's, its records and the evidence failures. */
export function releaseDeployDocument(r: ReleaseDeployResult, deployDocument: object): object {
  return {
    ...deployDocument,
    exitCode: r.exitCode,
    records: r.records,
    evidenceFailures: r.failures.map((f) => ({ service: f.service, error: f.error.message })),
  };
}

/** One line per release record written: `web: release #3 in qa: sha256:… (build 42), smoke passed`. */
export function releaseLines(r: ReleaseDeployResult): string[] {
  return r.records.map(
    (x) =>
      `${x.service}: release #${x.seq} in ${x.environment}: ${x.digest}${x.build === undefined ? '' : ` (build ${x.build})`}, smoke ${x.smoke.passed ? 'passed' : 'FAILED'}`,
  );
}
