/**
 * Where the jobs to plan and deploy come from: the service specs of an
 * environment (rendered by src/nomad/render), or job files (API JSON, or HCL
 * parsed by Nomad's `/v1/jobs/parse`).
 */
import { readInputFile } from '../config/input-file.js';
import { InputError, ServerError } from '../errors.js';
import type { Jobs, JobSpecLike } from '../nomad/jobs.js';
import { renderAll } from '../nomad/render.js';
import { DefaultPaths, readSpecFiles, type SkippedEntry } from '../service-spec/files.js';
import { loadSet, resolveEnvironment } from '../service-spec/load.js';
import type { ResolvedService } from '../service-spec/overlay.js';
import { suggest } from '../service-spec/suggest.js';
import type { NamespaceSpec } from '../service-spec/types.js';

/** One job to plan or deploy. */
export interface JobInput {
  readonly job: JobSpecLike;
  /** The spec or job file it came from. */
  readonly source: string;
}

/** The jobs of one run. */
export interface InputSet {
  readonly environment: string;
  readonly inputs: readonly JobInput[];
  /**
   * True when the inputs are every service of the environment: jobs hashiship
   * owns there that are not among them were removed from the specs.
   */
  readonly complete: boolean;
  /** The resolved services the jobs were rendered from (spec inputs only): the secrets pre-flight reads their references. */
  readonly services?: readonly ResolvedService[];
  /** The Nomad namespaces the environment declares (`namespaces:`): plan shows the missing ones, deploy creates them. */
  readonly namespaces?: readonly NamespaceSpec[];
  /** The environment file (spec inputs only), for messages. */
  readonly environmentFile?: string;
  /** Directory entries not read as specs (their name), to be named to the user. */
  readonly skipped?: readonly SkippedEntry[];
}

/** Where specs live. */
export interface SpecPaths {
  /** @default "jobs/services" */
  readonly services?: string;
  /** @default "jobs/environments" */
  readonly environments?: string;
}

/**
 * The jobs of an environment's services (all, or the named ones), rendered and
 * stamped with hashiship's ownership meta, each in its namespace: the one its
 * spec or environment names, else `opts.namespace` (NOMAD_NAMESPACE), else `default`.
 * @throws {InputError} for any problem in the specs, an unknown environment or an unknown service name.
 */
export async function inputsFromSpecs(
  environment: string,
  names: readonly string[],
  paths: SpecPaths = {},
  opts: { readonly namespace?: string } = {},
): Promise<InputSet> {
  const { services: chosen, environment: env, skipped } = await loadEnvironment(environment, names, paths);
  return {
    environment,
    inputs: renderAll(chosen, opts.namespace === undefined ? {} : { namespace: opts.namespace }).map((r) => ({ job: r.job, source: r.file })),
    complete: names.length === 0,
    services: chosen,
    ...(env?.env.namespaces === undefined ? {} : { namespaces: env.env.namespaces }),
    ...(env === undefined ? {} : { environmentFile: env.file }),
    ...(skipped.length === 0 ? {} : { skipped }),
  };
}

/**
 * The services of an environment merged with it, not rendered (all, or the named ones).
 * @throws {InputError} for any problem in the specs, an unknown environment or an unknown service name.
 */
export async function servicesFromSpecs(environment: string, names: readonly string[], paths: SpecPaths = {}): Promise<ResolvedService[]> {
  return (await loadEnvironment(environment, names, paths)).services;
}

async function loadEnvironment(environment: string, names: readonly string[], paths: SpecPaths) {
  const files = await readSpecFiles([paths.services ?? DefaultPaths.services, paths.environments ?? DefaultPaths.environments]);
  const set = loadSet(files);
  const resolved = resolveEnvironment(set, environment);
  const env = set.environments.find((e) => e.env.name === environment);
  const known = resolved.map((r) => r.spec.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new InputError(
      unknown.map((n) => {
        const hint = suggest(n, known);
        return { subject: n, message: `no service named \`${n}\` in ${environment}${hint === undefined ? '' : `; did you mean \`${hint}\`?`}` };
      }),
    );
  }
  return { services: names.length === 0 ? resolved : resolved.filter((r) => names.includes(r.spec.name)), environment: env, skipped: files.skipped };
}

/** The largest job file read (as `hashiship import`). */
const JobFileBytes = 4 * 1024 * 1024;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Jobs from files: `.json` holds `{"Job": {…}}` (as `hashiship render --format
 * json` and `nomad job inspect` write it) or a bare job; anything else is HCL,
 * parsed by Nomad.
 * @throws {InputError} when a file cannot be read or holds no job; {@link ServerError} when Nomad rejects HCL.
 */
export async function inputsFromFiles(jobs: Jobs, environment: string, files: readonly string[]): Promise<InputSet> {
  const inputs: JobInput[] = [];
  for (const file of files) {
    const text = readInputFile(file, { subject: file, maxBytes: JobFileBytes, what: 'a job' });
    let job: unknown;
    if (file.endsWith('.json')) {
      try {
        const doc: unknown = JSON.parse(text);
        job = isRecord(doc) && isRecord(doc['Job']) ? doc['Job'] : doc;
      } catch (err) {
        throw new InputError([{ subject: file, message: `not JSON: ${(err as Error).message}` }]);
      }
    } else {
      try {
        job = await jobs.parse(text);
        // Canonical parsing puts a job that names no namespace in `default`; like
        // `nomad job run`, such a job goes to the default namespace (NOMAD_NAMESPACE).
        const named = (await jobs.parse(text, undefined, { canonicalize: false })).Namespace;
        if ((named ?? '') === '' && isRecord(job)) delete job['Namespace'];
      } catch (err) {
        if (!(err instanceof ServerError) || err.status !== 400) throw err;
        const msg = err.message.replace(/^nomad: jobs\.parse: 400 [^:]*: /, '');
        throw new InputError([{ subject: file, message: `Nomad cannot parse it: ${msg}` }]);
      }
    }
    if (!isRecord(job) || typeof job['ID'] !== 'string' || job['ID'] === '') {
      throw new InputError([{ subject: file, message: 'no job with an ID in it' }]);
    }
    inputs.push({ job: job as unknown as JobSpecLike, source: file });
  }
  const ids = inputs.map((i) => i.job.ID);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw new InputError([{ subject: '--job', message: `job ${JSON.stringify(dup)} is given twice` }]);
  return { environment, inputs, complete: false };
}
