/**
 * External services (`kind: external` spec files) and service configuration:
 * what Nomad does not run but Consul must know (a database on its own host, the
 * registry, Vault), merged with an environment's `external.<name>` overrides,
 * and the semantic checks the schema cannot express. Pure, like the rest of
 * the spec layer; `src/consul/services.ts` and `src/consul/config.ts` apply it.
 */
import type { InputProblem, SourcePosition } from '../errors.js';
import { childPath, parseYaml, type ParsedYaml, type SourceMap } from './check.js';
import { parseDuration } from './duration.js';
import type { LoadedEnvironment } from './overlay.js';
import type { ExternalCheckSpec, ExternalSpec } from './types.js';

/** A loaded, structurally valid external service file. */
export interface LoadedExternal {
  readonly file: string;
  readonly spec: ExternalSpec;
  readonly positions: SourceMap;
}

/** An external service as it applies in one environment. */
export interface ResolvedExternal {
  readonly spec: ExternalSpec;
  readonly file: string;
  readonly environment: string;
  /** Where the value at a merged path was set (service file or environment file). */
  origin(path: string): { readonly at: SourcePosition; readonly subject: string };
}

/**
 * The top-level `kind` of a YAML text without validating it (`external` sends
 * the file to the external schema); undefined when absent or unreadable.
 */
export function specKindOf(text: string | ParsedYaml): string | undefined {
  const root = (typeof text === 'string' ? parseYaml('', text) : text).contents;
  if (root?.kind !== 'map') return undefined;
  const v = root.pairs.find((p) => p.key?.kind === 'scalar' && p.key.value === 'kind')?.value;
  return v?.kind === 'scalar' && typeof v.value === 'string' ? v.value : undefined;
}

/** A check's name when the spec gives none. */
export function externalCheckName(service: string, c: Pick<ExternalCheckSpec, 'name' | 'type'>): string {
  return c.name ?? `${service}-${c.type}`;
}

/** Names of meta keys hashiship writes itself (ownership marks). */
export const RESERVED_META = /^hashiship_/;

/** Names whose values are secrets, in any case: `DB_PASSWORD`, `db.password`, `api-token`. */
export const SECRET_KEY = /(?:^|[_.\-/])(?:password|passwd|secret|token|private[_-]?key|api[_-]?key|access[_-]?key|credentials?)$/i;
/** Secrets found anywhere in a text; a templated part (`{{ … }}`, `${…}`) is not a secret. */
const SECRET_VALUES: readonly [RegExp, string][] = [
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, 'a private key'],
  [/(?<![A-Za-z0-9_.-])(?:hvs|hvb|hvr)\.[A-Za-z0-9_-]{20,}|(?<![A-Za-z0-9_.-])s\.[A-Za-z0-9]{24}(?![A-Za-z0-9_-])/, 'a Vault token'],
  [/(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/, 'an AWS access key'],
  [/(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{36,}/, 'a GitHub token'],
  [/(?<![A-Za-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^/\s:@{}$]+:(?![^/\s@]*(?:\{\{|\$\{))[^/\s@]+@/i, 'a URL with a password'],
  [/(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, 'a JWT'],
];

/** What secret a text holds (a private key, a Vault token, …), or undefined. */
export function secretIn(text: string): string | undefined {
  for (const [re, what] of SECRET_VALUES) if (re.test(text)) return what;
  return undefined;
}

/**
 * Why a named plain value (configuration, a variable, meta) looks like a secret,
 * or undefined: a secret-like name with a value, or a value that holds a secret.
 * Configuration lands in Consul KV, readable by anyone with key read; variables
 * and meta are stored in the job: secrets go to Vault.
 */
export function secretLooking(key: string, value: string): string | undefined {
  if (value !== '' && SECRET_KEY.test(key)) return `\`${key}\` looks like a secret`;
  const what = secretIn(value);
  return what === undefined ? undefined : `the value of \`${key}\` looks like ${what}`;
}

/** Problems of a `config` map: secret-looking entries, at their own line. */
export function checkConfig(
  config: Readonly<Record<string, string>> | undefined,
  path: string,
  origin: (path: string) => { readonly at: SourcePosition; readonly subject: string },
  suffix = '',
): InputProblem[] {
  const out: InputProblem[] = [];
  for (const [k, v] of Object.entries(config ?? {})) {
    const why = secretLooking(k, v);
    const o = origin(childPath(path, k));
    if (k.split('/').some((seg) => seg === '.' || seg === '..')) {
      out.push({
        at: o.at,
        subject: o.subject,
        message: `key \`${k}\` must not contain . or .. segments: it becomes the Consul KV key config/<service>/${k}${suffix}`,
      });
    }
    if (why !== undefined) {
      out.push({
        at: o.at,
        subject: o.subject,
        message: `${why}; configuration is stored in Consul KV in clear text: keep secrets in Vault (task \`secrets\`)${suffix}`,
      });
    }
  }
  return out;
}

/** Semantic checks of one external service (on its own or merged). */
export function checkExternal(r: ResolvedExternal, inEnvironment: boolean): InputProblem[] {
  const out: InputProblem[] = [];
  const add = (path: string, message: string): void => {
    const o = r.origin(path);
    out.push({ at: o.at, subject: o.subject, message });
  };
  const s = r.spec;
  if (!inEnvironment) {
    for (const k of Object.keys(s.meta ?? {})) {
      if (RESERVED_META.test(k)) add(childPath('meta', k), `\`${k}\`: meta keys starting with hashiship_ are reserved for ownership marks`);
    }
    const names = new Map<string, number>();
    (s.checks ?? []).forEach((c, i) => {
      const p = childPath('checks', i);
      const name = externalCheckName(s.name, c);
      const prev = names.get(name);
      if (prev !== undefined)
        add(c.name === undefined ? p : childPath(p, 'name'), `check name \`${name}\` is already used by checks[${prev}]; give each check its own \`name\``);
      else names.set(name, i);
      const only = (field: keyof ExternalCheckSpec, types: readonly string[]): void => {
        if (c[field] !== undefined && !types.includes(c.type)) add(childPath(p, field), `\`${field}\` applies to ${types.join(', ')} checks, not ${c.type}`);
      };
      only('path', ['http']);
      only('method', ['http']);
      only('protocol', ['http']);
      only('tls_skip_verify', ['http', 'grpc']);
      only('grpc_service', ['grpc']);
      only('grpc_use_tls', ['grpc']);
      only('port', ['http', 'tcp', 'grpc']);
      only('interval', ['http', 'tcp', 'grpc']);
      only('timeout', ['http', 'tcp', 'grpc']);
      only('ttl', ['ttl']);
      if (c.type === 'ttl' && c.ttl === undefined) add(p, 'a ttl check needs `ttl` (how long a reported status stays valid, e.g. 30s)');
      // parseDuration answers nanoseconds.
      const SECOND = 1e9;
      const interval = parseDuration(c.interval ?? '10s') ?? 0;
      const timeout = parseDuration(c.timeout ?? '2s') ?? 0;
      if (c.type !== 'ttl') {
        if (interval < SECOND) add(childPath(p, 'interval'), `\`${c.interval}\` is too short: at least 1s`);
        if (timeout < SECOND) add(childPath(p, 'timeout'), `\`${c.timeout}\` is too short: at least 1s`);
        else if (timeout >= interval && interval >= SECOND)
          add(
            childPath(p, c.timeout === undefined ? 'interval' : 'timeout'),
            `timeout ${c.timeout ?? '2s'} must be shorter than interval ${c.interval ?? '10s'}`,
          );
      }
      if (c.ttl !== undefined && (parseDuration(c.ttl) ?? 0) < SECOND) add(childPath(p, 'ttl'), `\`${c.ttl}\` is too short: at least 1s`);
      const dereg = c.deregister_critical_service_after;
      if (dereg !== undefined && (parseDuration(dereg) ?? 0) < 60 * SECOND) {
        add(childPath(p, 'deregister_critical_service_after'), `\`${dereg}\` is too short: Consul's reaper runs every 30 s, use at least 1m`);
      }
    });
  }
  const suffix = inEnvironment ? ` (environment ${r.environment})` : '';
  out.push(...checkConfig(s.config, 'config', r.origin, suffix).filter((p) => !inEnvironment || p.at?.file !== r.file));
  // Meta and tags are public in the Consul catalog.
  for (const [k, v] of Object.entries(s.meta ?? {})) {
    const why = secretLooking(k, v);
    const o = r.origin(childPath('meta', k));
    if (why !== undefined && (!inEnvironment || o.at.file !== r.file))
      out.push({ at: o.at, subject: o.subject, message: `${why}; service meta is public in the Consul catalog: keep secrets in Vault${suffix}` });
  }
  (s.tags ?? []).forEach((tag, i) => {
    const what = secretIn(tag);
    const o = r.origin(childPath('tags', i));
    if (what !== undefined && (!inEnvironment || o.at.file !== r.file))
      out.push({ at: o.at, subject: o.subject, message: `the tag looks like ${what}; tags are public in the Consul catalog: keep secrets in Vault${suffix}` });
  });
  return out;
}

/** The external service on its own. */
export function standaloneExternal(x: LoadedExternal): ResolvedExternal {
  return {
    spec: x.spec,
    file: x.file,
    environment: '',
    origin: (path) => ({ at: x.positions.at(path), subject: path === '' ? '(document)' : path }),
  };
}

/**
 * Merge an external service with an environment's `external.<name>` overrides.
 * @returns undefined when the environment disables it (`enabled: false`).
 */
export function resolveExternal(x: LoadedExternal, envFile: LoadedEnvironment): ResolvedExternal | undefined {
  const ext = envFile.env.external;
  const o = ext !== undefined && Object.hasOwn(ext, x.spec.name) ? ext[x.spec.name] : undefined;
  if (o?.enabled === false) return undefined;
  const base = childPath('external', x.spec.name);
  const fromEnv = new Map<string, string>();
  const spec: { -readonly [K in keyof ExternalSpec]: ExternalSpec[K] } = { ...x.spec };
  if (o !== undefined) {
    if (o.address !== undefined) {
      spec.address = o.address;
      fromEnv.set('address', childPath(base, 'address'));
    }
    if (o.port !== undefined) {
      spec.port = o.port;
      fromEnv.set('port', childPath(base, 'port'));
    }
    if (o.tags !== undefined) {
      spec.tags = [...new Set([...(spec.tags ?? []), ...o.tags])];
      fromEnv.set('tags', childPath(base, 'tags'));
    }
    if (o.meta !== undefined) {
      spec.meta = { ...spec.meta, ...o.meta };
      for (const k of Object.keys(o.meta)) fromEnv.set(childPath('meta', k), childPath(childPath(base, 'meta'), k));
    }
    if (o.config !== undefined) {
      spec.config = { ...spec.config, ...o.config };
      for (const k of Object.keys(o.config)) fromEnv.set(childPath('config', k), childPath(childPath(base, 'config'), k));
    }
  }
  return {
    spec,
    file: x.file,
    environment: envFile.env.name,
    origin: (path) => {
      const envPath = fromEnv.get(path);
      if (envPath !== undefined) return { at: envFile.positions.at(envPath), subject: envPath };
      return { at: x.positions.at(path), subject: path === '' ? '(document)' : path };
    },
  };
}

/** Problems of an environment's `external` map: names that are not external services. */
export function checkExternalOverrides(envFile: LoadedEnvironment, externals: readonly string[], jobs: readonly string[]): InputProblem[] {
  const out: InputProblem[] = [];
  for (const name of Object.keys(envFile.env.external ?? {})) {
    if (externals.includes(name)) continue;
    const path = childPath('external', name);
    out.push({
      at: envFile.positions.at(path),
      subject: path,
      message: jobs.includes(name)
        ? `\`${name}\` is a Nomad job, not an external service; override it under \`services.${name}\``
        : `no external service named \`${name}\` in the set`,
    });
  }
  for (const name of Object.keys(envFile.env.services ?? {})) {
    if (!externals.includes(name)) continue;
    const path = childPath('services', name);
    out.push({ at: envFile.positions.at(path), subject: path, message: `\`${name}\` is an external service; override it under \`external.${name}\`` });
  }
  return out;
}
