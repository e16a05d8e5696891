/**
 * A set of spec files checked together: structure, semantics on each service
 * alone and merged with each environment, and uniqueness across the set.
 * Pure: file contents are passed in (see files.ts for reading them).
 */
import { basename, dirname, extname } from 'node:path';
import { formatProblem, InputError, type InputProblem, type SourcePosition } from '../errors.js';
import { checkParsed, parseYaml } from './check.js';
import { resolve, standalone, type LoadedEnvironment, type LoadedService, type ResolvedService } from './overlay.js';
import { environmentSchema, externalSchema, serviceSchema } from './schema.js';
import {
  checkConfig,
  checkExternal,
  checkExternalOverrides,
  resolveExternal,
  specKindOf,
  standaloneExternal,
  type LoadedExternal,
  type ResolvedExternal,
} from './external.js';
import { checkResolved, serviceNameOf } from './semantic.js';
import { suggest } from './suggest.js';
import { routeTag } from './routes.js';
import type { EnvironmentSpec, ExternalSpec, ServiceSpec } from './types.js';

/** One input file. */
export interface SpecFile {
  /** The name shown in problems (as the user gave it). */
  readonly file: string;
  readonly text: string;
  readonly kind: 'service' | 'environment';
}

/** The checked set: what loaded, and every problem found. */
export interface SpecSet {
  readonly services: readonly LoadedService[];
  readonly environments: readonly LoadedEnvironment[];
  /** `kind: external` files: registered in Consul, never rendered as jobs. */
  readonly externals: readonly LoadedExternal[];
  /** Sorted by file, line and column; empty when the set is valid. */
  readonly problems: readonly InputProblem[];
  /** The services as they apply in each environment, merged once by loadSet (resolveEnvironment merges them when absent). */
  readonly resolved?: ReadonlyMap<string, readonly ResolvedService[]>;
}

/**
 * Which kind a path holds: files in a directory named `environments`, or named
 * `*.env.yaml`, are environments; every other YAML file is a service.
 */
export function kindOf(path: string): SpecFile['kind'] {
  return basename(dirname(path)) === 'environments' || /\.env\.ya?ml$/.test(path) ? 'environment' : 'service';
}

function stem(file: string): string {
  return basename(file, extname(file)).replace(/\.env$/, '');
}

/**
 * Windows device names (`con`, `prn`, `aux`, `nul`, `com0`–`com9`, `lpt0`–`lpt9`): on
 * Windows a file so named, whatever follows a dot (`con.yaml`, `nul.api.yaml`,
 * `aux.nomad.hcl`), is the device, so a spec folder holding one cannot be checked out
 * or edited there, and `render --out` could not write its job file.
 */
const WINDOWS_DEVICE = /^(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\.|$)/;

/** Why a spec's `name` cannot be its file's name, if it cannot: it must be, and must not be a Windows device name. */
function nameProblem(name: string, file: string, at: SourcePosition): InputProblem | undefined {
  if (name === '') return undefined;
  if (WINDOWS_DEVICE.test(name)) {
    const device = name.split('.')[0]!;
    const what = device === name ? 'is' : `starts with \`${device}\`, which is`;
    return {
      at,
      subject: 'name',
      message: `\`${name}\` ${what} a Windows device name (con, prn, aux, nul, com0-com9, lpt0-lpt9): its file could not be checked out on Windows; choose another name`,
    };
  }
  if (name !== stem(file)) return { at, subject: 'name', message: `\`${name}\` does not match the file name \`${basename(file)}\`` };
  return undefined;
}

function sortProblems(problems: readonly InputProblem[]): InputProblem[] {
  const seen = new Set<string>();
  const out: InputProblem[] = [];
  for (const p of problems) {
    const key = formatProblem(p);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out.sort((a, b) => {
    const fa = a.at?.file ?? '';
    const fb = b.at?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    const la = a.at?.line ?? 0;
    const lb = b.at?.line ?? 0;
    if (la !== lb) return la - lb;
    const ca = a.at?.col ?? 0;
    const cb = b.at?.col ?? 0;
    if (ca !== cb) return ca - cb;
    return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
  });
}

/** Names and routes must be unique across the set (in each environment). */
function uniqueness(resolved: readonly ResolvedService[], problems: InputProblem[], checkRoutes: boolean): void {
  const consul = new Map<string, string>();
  const routes = new Map<string, string>();
  for (const r of resolved) {
    const where = (path: string): string => `${r.origin(path).at.file} (${r.origin(path).subject})`;
    r.spec.groups.forEach((g, gi) => {
      // Group services, then task services (named with their task for ${TASK}).
      const registrations = [
        ...(g.services ?? []).map((s, si) => ({ s, sp: `groups[${gi}].services[${si}]`, task: undefined as string | undefined })),
        ...g.tasks.flatMap((t, ti) => (t.services ?? []).map((s, si) => ({ s, sp: `groups[${gi}].tasks[${ti}].services[${si}]`, task: t.name }))),
      ];
      registrations.forEach(({ s, sp, task }) => {
        const name = serviceNameOf(r.spec.name, s, g.name, task);
        const o = r.origin(s.name === undefined ? sp : `${sp}.name`);
        const prev = consul.get(name);
        if (prev !== undefined && !o.invalid) {
          problems.push({ at: o.at, subject: o.subject, message: `Consul service \`${name}\` is already registered by ${prev}` });
        } else consul.set(name, where(s.name === undefined ? sp : `${sp}.name`));
        if (checkRoutes)
          (s.routes ?? []).forEach((rt, ri) => {
            const rp = `${sp}.routes[${ri}]`;
            const tag = routeTag(rt, r.environment?.domain).split(' ')[0]!;
            const ro = r.origin(rp);
            const prevRoute = routes.get(tag);
            const env = r.environment === undefined ? '' : ` (environment ${r.environment.name})`;
            if (prevRoute !== undefined && !ro.invalid) {
              problems.push({ at: ro.at, subject: ro.subject, message: `route \`${tag.replace(/^urlprefix-/, '')}\` is already served by ${prevRoute}${env}` });
            } else routes.set(tag, where(rp));
          });
      });
    });
  }
}

/** An external service's name must not be a job's name or a Consul service a job registers. */
function externalUniqueness(services: readonly LoadedService[], externals: readonly LoadedExternal[], problems: InputProblem[]): void {
  const taken = new Map<string, string>();
  for (const s of services) {
    taken.set(s.spec.name, `${s.file} (job)`);
    for (const g of s.spec.groups) {
      for (const r of g.services ?? []) taken.set(serviceNameOf(s.spec.name, r, g.name), `${s.file} (Consul service of job \`${s.spec.name}\`)`);
      for (const t of g.tasks)
        for (const r of t.services ?? []) taken.set(serviceNameOf(s.spec.name, r, g.name, t.name), `${s.file} (Consul service of job \`${s.spec.name}\`)`);
    }
  }
  for (const x of externals) {
    const prev = taken.get(x.spec.name);
    if (prev !== undefined) problems.push({ at: x.positions.at('name'), subject: 'name', message: `\`${x.spec.name}\` is already defined in ${prev}` });
  }
}

/**
 * The external services of a valid set as they apply in one environment
 * (those the environment disables with `enabled: false` left out).
 * @throws {InputError} when the set has problems or the environment is not in it.
 */
export function resolveExternals(set: SpecSet, environment: string): ResolvedExternal[] {
  resolveEnvironment(set, environment);
  const env = set.environments.find((e) => e.env.name === environment)!;
  return set.externals.map((x) => resolveExternal(x, env)).filter((r): r is ResolvedExternal => r !== undefined);
}

/**
 * Check a set of files.
 * @returns the loaded services and environments and every problem, sorted.
 */
export function loadSet(files: readonly SpecFile[]): SpecSet {
  const problems: InputProblem[] = [];
  const services: LoadedService[] = [];
  const environments: LoadedEnvironment[] = [];
  const externals: LoadedExternal[] = [];
  // The first service (external service) of each name: a linear scan per file is quadratic over 1,000 specs.
  const serviceByName = new Map<string, LoadedService>();
  const externalByName = new Map<string, LoadedExternal>();

  for (const f of files) {
    const parsed = parseYaml(f.file, f.text);
    if (f.kind === 'service' && specKindOf(parsed) === 'external') {
      const c = checkParsed<ExternalSpec>(parsed, externalSchema);
      problems.push(...c.problems);
      if (c.value === undefined) continue;
      const named = nameProblem(c.value.name, f.file, c.positions.at('name'));
      if (named !== undefined) problems.push(named);
      const prev = c.value.name === '' ? undefined : externalByName.get(c.value.name);
      if (prev !== undefined) {
        problems.push({ at: c.positions.at('name'), subject: 'name', message: `service \`${c.value.name}\` is already defined in ${prev.file}` });
        continue;
      }
      const x: LoadedExternal = { file: f.file, spec: c.value, positions: c.positions };
      externals.push(x);
      if (!externalByName.has(x.spec.name)) externalByName.set(x.spec.name, x);
    } else if (f.kind === 'service') {
      const c = checkParsed<ServiceSpec>(parsed, serviceSchema);
      problems.push(...c.problems);
      if (c.value === undefined) continue;
      const svc: LoadedService = { file: f.file, spec: c.value, positions: c.positions };
      const named = nameProblem(c.value.name, f.file, c.positions.at('name'));
      if (named !== undefined) problems.push(named);
      const prev = svc.spec.name === '' ? undefined : serviceByName.get(svc.spec.name);
      if (prev !== undefined) {
        problems.push({ at: c.positions.at('name'), subject: 'name', message: `service \`${svc.spec.name}\` is already defined in ${prev.file}` });
        continue;
      }
      services.push(svc);
      if (!serviceByName.has(svc.spec.name)) serviceByName.set(svc.spec.name, svc);
    } else {
      const c = checkParsed<EnvironmentSpec>(parsed, environmentSchema);
      problems.push(...c.problems);
      if (c.value === undefined) continue;
      const named = nameProblem(c.value.name, f.file, c.positions.at('name'));
      if (named !== undefined) problems.push(named);
      const prev = environments.find((e) => e.env.name === c.value!.name);
      if (prev !== undefined) {
        problems.push({ at: c.positions.at('name'), subject: 'name', message: `environment \`${c.value.name}\` is already defined in ${prev.file}` });
        continue;
      }
      // A namespace declared twice would be planned and created twice.
      const declared = new Map<string, number>();
      (c.value.namespaces ?? []).forEach((n, i) => {
        if (n.name === '') return; // missing or invalid: already a problem
        const first = declared.get(n.name);
        const path = `namespaces[${i}].name`;
        if (first !== undefined)
          problems.push({ at: c.positions.at(path), subject: path, message: `namespace \`${n.name}\` is already declared by namespaces[${first}]` });
        else declared.set(n.name, i);
      });
      environments.push({ file: f.file, env: c.value, positions: c.positions });
    }
  }

  // Each service on its own.
  const alone = services.map(standalone);
  for (const r of alone) problems.push(...checkResolved(r), ...checkConfig(r.spec.config, 'config', r.origin));
  for (const x of externals) problems.push(...checkExternal(standaloneExternal(x), false));
  externalUniqueness(services, externals, problems);
  // Route hosts are only complete with an environment's domain: compare them there.
  uniqueness(alone, problems, environments.length === 0);

  // Each service in each environment.
  const names = services.map((s) => s.spec.name);
  const resolvedByEnv = new Map<string, readonly ResolvedService[]>();
  for (const e of environments) {
    problems.push(
      ...checkExternalOverrides(
        e,
        externals.map((x) => x.spec.name),
        names,
      ),
    );
    for (const name of Object.keys(e.env.services ?? {})) {
      if (names.includes(name) || externals.some((x) => x.spec.name === name)) continue;
      const hint = suggest(name, names);
      const path = `services.${name}`;
      problems.push({
        at: e.positions.at(path),
        subject: path,
        message: `no service named \`${name}\` in the set${hint === undefined ? '' : `; did you mean \`${hint}\`?`}`,
      });
    }
    const merged: ResolvedService[] = [];
    for (const s of services) {
      const { resolved, problems: overlay } = resolve(s, e);
      problems.push(...overlay, ...checkResolved(resolved));
      problems.push(...checkConfig(resolved.spec.config, 'config', resolved.origin, ` (environment ${e.env.name})`).filter((p) => p.at?.file === e.file));
      merged.push(resolved);
    }
    for (const x of externals) {
      const r = resolveExternal(x, e);
      if (r !== undefined) problems.push(...checkExternal(r, true));
    }
    uniqueness(merged, problems, true);
    if (!resolvedByEnv.has(e.env.name)) resolvedByEnv.set(e.env.name, merged);
  }
  return { services, environments, externals, problems: sortProblems(problems), resolved: resolvedByEnv };
}

/**
 * The services of a valid set as they apply in one environment.
 * @throws {InputError} when the set has problems or the environment is not in it.
 */
export function resolveEnvironment(set: SpecSet, environment: string): ResolvedService[] {
  if (set.problems.length > 0) throw new InputError(set.problems);
  const env = set.environments.find((e) => e.env.name === environment);
  if (env === undefined) {
    const names = set.environments.map((e) => e.env.name);
    const hint = suggest(environment, names);
    throw new InputError([
      {
        subject: '--env',
        message: `no environment \`${environment}\`${names.length === 0 ? ' (no environment files were loaded)' : ` (known: ${names.join(', ')})`}${hint === undefined ? '' : `; did you mean \`${hint}\`?`}`,
      },
    ]);
  }
  return [...(set.resolved?.get(environment) ?? set.services.map((s) => resolve(s, env).resolved))];
}
