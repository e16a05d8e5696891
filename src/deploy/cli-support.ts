/**
 * What the plan, deploy, status and promote-canaries commands share: flags to
 * inputs, flag values, and the documents they print. No printing here.
 */
import { escapeText, InputError } from '../errors.js';
import { parseDuration } from '../service-spec/duration.js';
import type { DeployResult } from './deploy.js';
import { inputsFromFiles, inputsFromSpecs, type InputSet } from './inputs.js';
import type { DeployContext } from './runtime.js';

/** Flags that choose the jobs. */
export interface InputFlags {
  readonly env: string;
  /** Job files (JSON or HCL) instead of specs. */
  readonly job?: readonly string[];
  /** Service specs directory. */
  readonly services?: string;
  /** Environment files directory. */
  readonly environments?: string;
}

/**
 * The input set of a command: job files with `--job`, else the environment's specs.
 * @throws {InputError} for bad specs, files or flag combinations.
 */
export async function inputSetFromFlags(ctx: DeployContext, names: readonly string[], flags: InputFlags): Promise<InputSet> {
  const files = flags.job ?? [];
  if (files.length > 0) {
    if (names.length > 0) throw new InputError([{ subject: '--job', message: 'service names cannot be combined with --job files' }]);
    return inputsFromFiles(ctx.nomad.jobs, flags.env, files);
  }
  const set = await inputsFromSpecs(
    flags.env,
    names,
    {
      ...(flags.services === undefined ? {} : { services: flags.services }),
      ...(flags.environments === undefined ? {} : { environments: flags.environments }),
    },
    // NOMAD_NAMESPACE only for the services whose spec and environment name no namespace.
    ctx.nomad.client.namespace === undefined ? {} : { namespace: ctx.nomad.client.namespace },
  );
  for (const s of set.skipped ?? []) ctx.runtime.log({ kind: 'spec.skipped', path: s.path, reason: s.reason });
  return set;
}

/** Collect a repeatable flag. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * A duration flag (`90s`, `10m`, `1h30m`) in milliseconds.
 * @throws {InputError} when it is not a positive duration.
 */
export function durationMs(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ns = parseDuration(value);
  if (ns === undefined || ns <= 0)
    throw new InputError([{ subject: `${flag}=${JSON.stringify(value)}`, message: 'not a positive duration (e.g. 90s, 10m, 1h)' }]);
  return ns / 1e6;
}

/**
 * The most jobs `--parallel` deploys, plans or watches at once. Each job's watch keeps
 * three Nomad blocking queries open (its deployment, allocations and evaluations), and
 * a Nomad agent accepts at most 100 HTTP connections from one address by default
 * (`limits { http_max_conns_per_client = 100 }`): 32 jobs hold 96, the most that stay
 * under it. Above, Nomad would drop connections in the middle of the watches.
 */
export const MAX_PARALLEL = 32;

/**
 * A positive integer flag of at most `max`, written in decimal digits (`1e3` and
 * `0x10` are typos, not numbers to guess at).
 * @throws {InputError} naming the flag and the allowed range otherwise.
 */
export function positiveInt(flag: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= max)) throw new InputError([{ subject: `${flag}=${JSON.stringify(value)}`, message: `expected an integer from 1 to ${max}` }]);
  return n;
}

/** One of the allowed values of a flag. */
export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InputError([{ subject: `${flag}=${JSON.stringify(value)}`, message: `expected one of ${allowed.join(', ')}` }]);
  }
  return value as T;
}

/** The machine-readable document of a deploy (`deploy --json`, `promote-canaries --json`). */
export function resultDocument(kind: 'deploy' | 'promote-canaries', r: DeployResult): Record<string, unknown> {
  return {
    kind: `hashiship.${kind}`,
    environment: r.environment,
    exitCode: r.exitCode,
    results: r.results.map((s) => ({
      job: s.job,
      ...(s.namespace === undefined ? {} : { namespace: s.namespace }),
      outcome: s.outcome,
      exitCode: s.exitCode,
      seconds: Math.round(s.seconds * 1000) / 1000,
      message: s.message,
      ...(s.version === undefined ? {} : { version: s.version }),
      ...(s.deploymentId === undefined ? {} : { deploymentId: s.deploymentId }),
      ...(s.error === undefined ? {} : { error: { subject: s.error.message, context: Object.fromEntries(s.error.context) } }),
      diagnosis: s.diagnosis,
    })),
  };
}

/** A summary table of results for people. */
export function formatResults(r: DeployResult): string {
  if (r.results.length === 0) return `nothing to deploy in ${r.environment}\n`;
  // The message can echo a server's answer (a deployment's description, an error body): one escaped line per job.
  const rows = r.results.map((s) =>
    [s.job, s.exitCode === 0 ? s.outcome : `${s.outcome} (exit ${s.exitCode})`, `${s.seconds.toFixed(1)} s`, s.message].map(escapeText),
  );
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) =>
    row
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c))
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\nexit ${r.exitCode}\n`;
}
