/**
 * Environment overlays: a service spec merged with one environment file.
 * Precedence, highest first: `services.<name>` in the environment, the
 * environment's top-level values, the service spec, hashiship's defaults
 * (applied by the renderer). Every merged value remembers where it came from,
 * so a problem found after merging points at the line that set the value.
 */
import type { InputProblem, SourcePosition } from '../errors.js';
import { childPath, parentPath, type SourceMap } from './check.js';
import { suggest } from './suggest.js';
import type { EnvironmentSpec, GroupSpec, ResourcesSpec, ServiceSpec, TaskSpec, UpdateSpec } from './types.js';

/** Where a merged value came from. */
export interface Origin {
  readonly at: SourcePosition;
  /** The dotted path in the file that set it. */
  readonly subject: string;
  /** True when an environment file set it. */
  readonly fromEnvironment: boolean;
  /** True when the value (or its parent) had a structural problem already reported. */
  readonly invalid: boolean;
}

/** A loaded, structurally valid service file. */
export interface LoadedService {
  readonly file: string;
  readonly spec: ServiceSpec;
  readonly positions: SourceMap;
}

/** A loaded, structurally valid environment file. */
export interface LoadedEnvironment {
  readonly file: string;
  readonly env: EnvironmentSpec;
  readonly positions: SourceMap;
}

/** A service spec as it applies in one environment (or on its own). */
export interface ResolvedService {
  /** The merged spec. */
  readonly spec: ServiceSpec;
  /** The service file. */
  readonly file: string;
  /** The environment, when one was applied. */
  readonly environment?: EnvironmentSpec;
  readonly environmentFile?: string;
  /** Vault role for tasks with secrets (service override, then environment default). */
  readonly vaultRole?: string;
  /** Where the value at a merged path came from. */
  origin(path: string): Origin;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

const UPDATE_KEYS = [
  'max_parallel',
  'canary',
  'health_check',
  'min_healthy_time',
  'healthy_deadline',
  'progress_deadline',
  'auto_revert',
  'auto_promote',
  'stagger',
] as const;

/** Whether a job type has an update block (service and system jobs do). */
export function hasUpdate(spec: Pick<ServiceSpec, 'type'>): boolean {
  return spec.type === undefined || spec.type === 'service' || spec.type === 'system';
}

/**
 * A deep copy of a checked spec (plain objects, arrays, strings, numbers,
 * booleans, null — what the YAML check produces), several times faster than
 * `structuredClone`, which is a hot spot when 1,000 specs are merged.
 */
function clonePlain<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(clonePlain) as T;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const c = clonePlain((v as Record<string, unknown>)[k]);
    // A `__proto__` key (the `nomad:` escape hatch takes any key) stays an own property, as structuredClone keeps it.
    if (k === '__proto__') Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
    else out[k] = c;
  }
  return out as T;
}

/** The service on its own, every value from its file. */
export function standalone(svc: LoadedService): ResolvedService {
  return {
    spec: svc.spec,
    file: svc.file,
    origin: (path) => ({
      at: svc.positions.at(path),
      subject: path === '' ? '(document)' : path,
      fromEnvironment: false,
      invalid: svc.positions.isInvalid(path),
    }),
  };
}

/**
 * Merge a service with an environment.
 * @returns the merged service and the problems of the overlay itself (overrides
 * naming groups or tasks the service does not have).
 */
export function resolve(svc: LoadedService, envFile: LoadedEnvironment): { resolved: ResolvedService; problems: InputProblem[] } {
  const env = envFile.env;
  const spec = clonePlain(svc.spec) as Mutable<ServiceSpec>;
  const overrides = new Map<string, Origin>();
  const problems: InputProblem[] = [];
  const mark = (mergedPath: string, envPath: string): void => {
    overrides.set(mergedPath, {
      at: envFile.positions.at(envPath),
      subject: envPath,
      fromEnvironment: true,
      invalid: envFile.positions.isInvalid(envPath),
    });
  };

  // Top-level environment values.
  if (env.region !== undefined) {
    spec.region = env.region;
    mark('region', 'region');
  }
  if (env.namespace !== undefined) {
    spec.namespace = env.namespace;
    mark('namespace', 'namespace');
  }
  if (env.datacenters !== undefined) {
    spec.datacenters = [...env.datacenters];
    mark('datacenters', 'datacenters');
  }
  const meta: Record<string, string> = { ...(spec.meta ?? {}) };
  for (const [k, v] of Object.entries(env.meta ?? {})) {
    meta[k] = v;
    mark(childPath('meta', k), childPath('meta', k));
  }

  const groups = spec.groups as Mutable<GroupSpec>[];
  if (env.update !== undefined && hasUpdate(spec)) {
    groups.forEach((g, gi) => {
      const u: Record<string, unknown> = { ...(g.update ?? {}) };
      for (const key of UPDATE_KEYS) {
        const v = env.update?.[key];
        if (v === undefined) continue;
        u[key] = v;
        mark(childPath(childPath(childPath('groups', gi), 'update'), key), childPath('update', key));
      }
      g.update = u as Mutable<UpdateSpec>;
    });
    // The job-level block shows the same values: each field it sets that the environment sets too takes the
    // environment's value (every group already has it). Not auto_promote: the environment's concerns only groups
    // with canaries (below), and a group without one inherits the job's.
    const job = spec.update as Mutable<UpdateSpec> | undefined;
    if (job !== undefined) {
      const u: Record<string, unknown> = { ...job };
      for (const key of UPDATE_KEYS) {
        const v = env.update[key];
        if (v === undefined || key === 'auto_promote' || u[key] === undefined) continue;
        u[key] = v;
        mark(childPath('update', key), childPath('update', key));
      }
      spec.update = u as Mutable<UpdateSpec>;
    }
  }

  const svcPath = childPath('services', spec.name);
  // Own keys only: a service named `constructor` must not find Object's constructor.
  const o = env.services !== undefined && Object.hasOwn(env.services, spec.name) ? env.services[spec.name] : undefined;
  let vaultRole = env.vault_role;
  if (o !== undefined) {
    if (o.namespace !== undefined) {
      spec.namespace = o.namespace;
      mark('namespace', childPath(svcPath, 'namespace'));
    }
    if (o.datacenters !== undefined) {
      spec.datacenters = [...o.datacenters];
      mark('datacenters', childPath(svcPath, 'datacenters'));
    }
    if (o.priority !== undefined) {
      spec.priority = o.priority;
      mark('priority', childPath(svcPath, 'priority'));
    }
    if (o.vault_role !== undefined) vaultRole = o.vault_role;
    for (const [k, v] of Object.entries(o.meta ?? {})) {
      meta[k] = v;
      mark(childPath('meta', k), childPath(childPath(svcPath, 'meta'), k));
    }
    if (o.config !== undefined) {
      spec.config = { ...(spec.config ?? {}), ...o.config };
      for (const k of Object.keys(o.config)) mark(childPath('config', k), childPath(childPath(svcPath, 'config'), k));
    }
    if (o.periodic !== undefined && spec.periodic !== undefined) {
      const p = { ...spec.periodic };
      if (o.periodic.cron !== undefined) {
        // The environment's cron replaces the whole schedule (`crons` included).
        p.cron = o.periodic.cron;
        delete p.crons;
        mark('periodic.cron', childPath(childPath(svcPath, 'periodic'), 'cron'));
      }
      if (o.periodic.enabled !== undefined) {
        p.enabled = o.periodic.enabled;
        mark('periodic.enabled', childPath(childPath(svcPath, 'periodic'), 'enabled'));
      }
      spec.periodic = p;
    } else if (o.periodic !== undefined) {
      problems.push({
        at: envFile.positions.at(childPath(svcPath, 'periodic')),
        subject: childPath(svcPath, 'periodic'),
        message: `service \`${spec.name}\` is not periodic (${svc.file})`,
      });
    }

    for (const [gname, go] of Object.entries(o.groups ?? {})) {
      const gPath = childPath(childPath(svcPath, 'groups'), gname);
      const gi = groups.findIndex((g) => g.name === gname);
      if (gi < 0) {
        const hint = suggest(
          gname,
          groups.map((g) => g.name),
        );
        problems.push({
          at: envFile.positions.at(gPath),
          subject: gPath,
          message: `service \`${spec.name}\` has no group \`${gname}\`${hint === undefined ? '' : `; did you mean \`${hint}\`?`}`,
        });
        continue;
      }
      const g = groups[gi]!;
      const mg = childPath('groups', gi);
      if (go.count !== undefined) {
        g.count = go.count;
        mark(childPath(mg, 'count'), childPath(gPath, 'count'));
      }
      if (go.update !== undefined) {
        const u: Record<string, unknown> = { ...(g.update ?? {}) };
        for (const key of UPDATE_KEYS) {
          const v = go.update[key];
          if (v === undefined) continue;
          u[key] = v;
          mark(childPath(childPath(mg, 'update'), key), childPath(childPath(gPath, 'update'), key));
        }
        g.update = u as Mutable<UpdateSpec>;
      }
      if (go.scaling !== undefined) {
        if (g.scaling === undefined) {
          problems.push({
            at: envFile.positions.at(childPath(gPath, 'scaling')),
            subject: childPath(gPath, 'scaling'),
            message: `group \`${gname}\` of \`${spec.name}\` has no scaling block to override (${svc.file})`,
          });
        } else {
          const s = { ...g.scaling };
          for (const key of ['min', 'max', 'enabled'] as const) {
            const v = go.scaling[key];
            if (v === undefined) continue;
            (s as Record<string, unknown>)[key] = v;
            mark(childPath(childPath(mg, 'scaling'), key), childPath(childPath(gPath, 'scaling'), key));
          }
          g.scaling = s;
        }
      }
      if (go.constraints !== undefined) {
        const start = g.constraints?.length ?? 0;
        g.constraints = [...(g.constraints ?? []), ...go.constraints];
        go.constraints.forEach((_, k) => mark(childPath(childPath(mg, 'constraints'), start + k), childPath(childPath(gPath, 'constraints'), k)));
      }
      const tasks = g.tasks as Mutable<TaskSpec>[];
      for (const [tname, to] of Object.entries(go.tasks ?? {})) {
        const tPath = childPath(childPath(gPath, 'tasks'), tname);
        const ti = tasks.findIndex((t) => t.name === tname);
        if (ti < 0) {
          const hint = suggest(
            tname,
            tasks.map((t) => t.name),
          );
          problems.push({
            at: envFile.positions.at(tPath),
            subject: tPath,
            message: `group \`${gname}\` of \`${spec.name}\` has no task \`${tname}\`${hint === undefined ? '' : `; did you mean \`${hint}\`?`}`,
          });
          continue;
        }
        const t = tasks[ti]!;
        const mt = childPath(childPath(mg, 'tasks'), ti);
        if (to.resources !== undefined) {
          const r: ResourcesSpec & Record<string, unknown> = { ...(t.resources ?? {}) };
          for (const [k, v] of Object.entries(to.resources)) {
            if (v === undefined) continue;
            r[k] = v;
            mark(childPath(childPath(mt, 'resources'), k), childPath(childPath(tPath, 'resources'), k));
          }
          t.resources = r;
        }
        if (to.env !== undefined) {
          const e: Record<string, string> = { ...(t.env ?? {}) };
          for (const [k, v] of Object.entries(to.env)) {
            e[k] = v;
            mark(childPath(childPath(mt, 'env'), k), childPath(childPath(tPath, 'env'), k));
          }
          t.env = e;
        }
        if (to.image !== undefined) {
          if (t.image === undefined) {
            problems.push({
              at: envFile.positions.at(childPath(tPath, 'image')),
              subject: childPath(tPath, 'image'),
              message: `task \`${tname}\` of \`${spec.name}\` has no image to override (${svc.file})`,
            });
          } else {
            const img: { repository: string; tag?: string; digest?: string } = { repository: t.image.repository };
            const tag = to.image.tag ?? t.image.tag;
            // A tag set here replaces the spec's pinned digest; a digest set here wins over any tag.
            const digest = to.image.digest ?? (to.image.tag !== undefined ? undefined : t.image.digest);
            if (tag !== undefined) img.tag = tag;
            if (digest !== undefined) img.digest = digest;
            t.image = img;
            if (to.image.tag !== undefined) mark(childPath(childPath(mt, 'image'), 'tag'), childPath(childPath(tPath, 'image'), 'tag'));
            if (to.image.digest !== undefined) mark(childPath(childPath(mt, 'image'), 'digest'), childPath(childPath(tPath, 'image'), 'digest'));
          }
        }
      }
    }
  }
  if (Object.keys(meta).length > 0) spec.meta = meta;

  // The environment-wide auto_promote only concerns groups that have canaries.
  if (env.update?.auto_promote !== undefined) {
    groups.forEach((g, gi) => {
      const path = childPath(childPath(childPath('groups', gi), 'update'), 'auto_promote');
      // A group's canaries may come from the job-level update (a group inherits each field it does not set).
      if ((g.update?.canary ?? spec.update?.canary ?? 0) > 0 || overrides.get(path)?.subject !== 'update.auto_promote') return;
      const original = svc.spec.groups[gi]?.update?.auto_promote;
      const u: Record<string, unknown> = { ...(g.update ?? {}) };
      if (original === undefined) delete u['auto_promote'];
      else u['auto_promote'] = original;
      g.update = u as Mutable<UpdateSpec>;
      overrides.delete(path);
    });
  }

  const origin = (path: string): Origin => {
    for (let p = path; ;) {
      const hit = overrides.get(p);
      if (hit !== undefined) return hit;
      if (p === '') break;
      p = parentPath(p);
    }
    return {
      at: svc.positions.at(path),
      subject: path === '' ? '(document)' : path,
      fromEnvironment: false,
      invalid: svc.positions.isInvalid(path),
    };
  };
  return {
    resolved: {
      spec: spec as ServiceSpec,
      file: svc.file,
      environment: env,
      environmentFile: envFile.file,
      ...(vaultRole === undefined ? {} : { vaultRole }),
      origin,
    },
    problems,
  };
}
