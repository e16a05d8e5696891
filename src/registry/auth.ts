/**
 * Registry authentication: anonymous, HTTP basic, and the bearer-token challenge
 * flow of the Docker Registry v2 token spec (`WWW-Authenticate: Bearer
 * realm=…,service=…,scope=…` → GET realm → retry with the token; one token cached
 * per set of scopes until it expires).
 *
 * Credentials for a registry host, first match wins (resolved only when the
 * registry asks for them, so an anonymous registry never touches Vault):
 * 1. `HASHISHIP_REGISTRY_<NAME>=<url>` with `_USERNAME` / `_PASSWORD` whose URL's
 *    `host:port` is the host (read by `src/config`);
 * 2. the same entry's `_VAULT_PATH`: a Vault KV secret (v1 or v2, by its logical
 *    path as `vault kv get` takes it, e.g. `secret/registry/production`) holding
 *    `username` and `password`; a missing secret or key is a GateError (exit 6);
 * 3. the `auths` entry for the host in Docker's `config.json`
 *    (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): `auth`
 *    (base64 `user:password`) or `username` / `password`.
 * Credentials and tokens never appear in a message, an event or an error.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Env, HashishipConfig } from '../config/index.js';
import { GateError, ServerError } from '../errors.js';
import { HttpApi } from '../http.js';
import type { Vault } from '../vault/index.js';

/** One parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  /** Lowercased: `bearer`, `basic`, … */
  readonly scheme: string;
  /** Auth parameters with lowercased names (`realm`, `service`, `scope`, `error`). */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parse a `WWW-Authenticate` header (RFC 7235: one or more challenges, each a
 * scheme then `name=value` or `name="quoted \" value"` parameters).
 * Unparseable trailing text is ignored; an empty header gives no challenge.
 */
export function parseChallenges(header: string): Challenge[] {
  const out: { scheme: string; params: Record<string, string> }[] = [];
  let i = 0;
  const n = header.length;
  const skip = (chars: string) => {
    while (i < n && chars.includes(header[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  while (i < n) {
    skip(' \t,');
    const word = token();
    if (word === '') break;
    skip(' \t');
    if (header[i] === '=' && out.length > 0) {
      // A parameter of the current challenge.
      i++;
      skip(' \t');
      let value: string;
      if (header[i] === '"') {
        i++;
        let v = '';
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          v += header[i];
          i++;
        }
        i++;
        value = v;
      } else {
        const start = i;
        while (i < n && header[i] !== ',' && header[i] !== ' ') i++;
        value = header.slice(start, i);
      }
      out[out.length - 1]!.params[word.toLowerCase()] = value;
    } else if (header[i] === '=') {
      break;
    } else {
      // A token68 after a scheme (`Negotiate abc==`) is not a parameter: skip it.
      out.push({ scheme: word.toLowerCase(), params: {} });
      const save = i;
      const t68 = token();
      let j = i;
      while (j < n && header[j] === '=') j++;
      while (j < n && (header[j] === ' ' || header[j] === '\t')) j++;
      if (t68 !== '' && (j >= n || header[j] === ',')) i = j;
      else i = save;
    }
  }
  return out;
}

/** Where credentials and Vault come from. Nothing is read from `process.env`. */
export interface RegistryAccess {
  /** Resolved configuration: named registries (credentials, Vault paths). */
  readonly config?: Pick<HashishipConfig, 'registries'>;
  /** The run's root Vault client (`createClients(config).vault`), for credentials at a `_VAULT_PATH`. */
  readonly vault?: Vault;
  /** For `DOCKER_CONFIG`. @default {} */
  readonly env?: Env;
  /** For `~/.docker/config.json`. @default os.homedir() */
  readonly home?: string;
  /** Per-request idle timeout in ms. @default 60000 */
  readonly timeoutMs?: number;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
  /** Where they came from, for messages (never the values). */
  readonly source: string;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** A named registry whose URL points at `host`, with its variable name. */
export function namedRegistryFor(
  host: string,
  access: RegistryAccess,
): { name: string; url: string; username?: string; password?: string; vaultPath?: string } | undefined {
  for (const [name, r] of Object.entries(access.config?.registries ?? {})) {
    if (hostOf(r.url) === host) return { name, ...r };
  }
  return undefined;
}

function dockerConfigAuth(host: string, access: RegistryAccess): Credentials | undefined {
  const dir = access.env?.['DOCKER_CONFIG'] || join(access.home ?? homedir(), '.docker');
  const file = join(dir, 'config.json');
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const auths = (doc as { auths?: unknown }).auths;
  if (typeof auths !== 'object' || auths === null) return undefined;
  for (const [key, value] of Object.entries(auths as Record<string, unknown>)) {
    const k = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    if (k !== host || typeof value !== 'object' || value === null) continue;
    const v = value as { auth?: unknown; username?: unknown; password?: unknown };
    if (typeof v.auth === 'string' && v.auth !== '') {
      const plain = Buffer.from(v.auth, 'base64').toString('utf8');
      const i = plain.indexOf(':');
      if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1), source: `${file} auths["${key}"]` };
    }
    if (typeof v.username === 'string' && typeof v.password === 'string') {
      return { username: v.username, password: v.password, source: `${file} auths["${key}"]` };
    }
  }
  return undefined;
}

async function vaultCredentials(path: string, access: RegistryAccess, variable: string): Promise<Credentials> {
  const { vault } = access;
  if (vault === undefined) {
    throw new GateError(`registry: ${variable} names ${path} but no Vault is configured`, { context: [['Variable', variable]] });
  }
  const secret = await vault.kv.read(path);
  const data = secret?.data;
  if (typeof data?.['username'] !== 'string' || typeof data['password'] !== 'string') {
    throw new GateError(
      `registry: ${secret === undefined ? `no Vault secret at ${path}` : `the Vault secret at ${path} has no string "username" and "password" keys`}`,
      {
        context: [
          ['Variable', variable],
          ['Suggestion', `vault kv put ${path} username=… password=…`],
        ],
      },
    );
  }
  return { username: data['username'], password: data['password'], source: `vault ${path}` };
}

/**
 * Credentials for a registry host, or undefined for anonymous access.
 * @throws {GateError} when a configured Vault secret is missing or lacks the keys (exit 6).
 * @throws {ServerError} when Vault cannot be reached (exit 2).
 */
export async function resolveCredentials(host: string, access: RegistryAccess): Promise<Credentials | undefined> {
  const named = namedRegistryFor(host, access);
  if (named !== undefined) {
    const variable = `HASHISHIP_REGISTRY_${named.name.toUpperCase()}`;
    if (named.username !== undefined) {
      return { username: named.username, password: named.password ?? '', source: `${variable}_USERNAME` };
    }
    if (named.vaultPath !== undefined) return vaultCredentials(named.vaultPath, access, `${variable}_VAULT_PATH`);
  }
  return dockerConfigAuth(host, access);
}

function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

interface CachedToken {
  readonly header: string;
  readonly expires: number;
}

/**
 * The authorization state of one registry host: the scheme it asked for, the
 * credentials (resolved once, lazily) and bearer tokens by scope.
 */
export class RegistryAuth {
  readonly #host: string;
  readonly #access: RegistryAccess;
  #challenge: Challenge | undefined;
  #credentials: Promise<Credentials | undefined> | undefined;
  readonly #tokens = new Map<string, Promise<CachedToken>>();
  readonly #now: () => number;

  constructor(host: string, access: RegistryAccess, now: () => number = Date.now) {
    this.#host = host;
    this.#access = access;
    this.#now = now;
  }

  /** What the registry asked for, once known. */
  get scheme(): string | undefined {
    return this.#challenge?.scheme;
  }

  credentials(): Promise<Credentials | undefined> {
    this.#credentials ??= resolveCredentials(this.#host, this.#access);
    return this.#credentials;
  }

  /** Remember the registry's challenge (from a 401 answer). Returns false when it is not one we speak. */
  learn(header: string | undefined): boolean {
    const all = parseChallenges(header ?? '');
    const c = all.find((x) => x.scheme === 'bearer') ?? all.find((x) => x.scheme === 'basic');
    if (c === undefined) return false;
    this.#challenge = c;
    return true;
  }

  /** Forget the cached token for these scopes (after a 401 with one). */
  forget(scopes: readonly string[]): void {
    this.#tokens.delete(scopeKey(scopes));
  }

  /**
   * The `Authorization` header for a request needing `scopes`, or undefined when
   * the registry has not asked for authentication.
   * @throws {ServerError} when the token server refuses or cannot be reached.
   */
  async header(scopes: readonly string[]): Promise<string | undefined> {
    const c = this.#challenge;
    if (c === undefined) return undefined;
    const creds = await this.credentials();
    if (c.scheme === 'basic') return creds === undefined ? undefined : basicHeader(creds);
    const key = scopeKey(scopes);
    const cached = this.#tokens.get(key);
    if (cached !== undefined) {
      const t = await cached.catch(() => undefined);
      if (t !== undefined && t.expires > this.#now()) return t.header;
      if (this.#tokens.get(key) === cached) this.#tokens.delete(key);
    }
    if (!this.#tokens.has(key)) {
      const p = this.#fetchToken(c, scopes, creds);
      this.#tokens.set(key, p);
      p.catch(() => this.#tokens.delete(key));
    }
    return (await this.#tokens.get(key)!).header;
  }

  async #fetchToken(c: Challenge, scopes: readonly string[], creds: Credentials | undefined): Promise<CachedToken> {
    const realm = c.params['realm'];
    if (realm === undefined || !/^https?:\/\//.test(realm)) {
      throw new ServerError(`registry ${this.#host}`, 'auth.token', this.#host, `bearer challenge without a usable realm (${JSON.stringify(realm ?? '')})`);
    }
    const url = new URL(realm);
    const api = new HttpApi({ server: `registry ${this.#host} token server`, baseURL: url.origin, timeoutMs: this.#access.timeoutMs ?? 60_000 });
    const q = new URLSearchParams(url.search);
    if (c.params['service'] !== undefined) q.set('service', c.params['service']);
    const wanted = new Set([...scopes, ...(c.params['scope'] ?? '').split(' ').filter((s) => s !== '')]);
    for (const s of [...wanted].sort()) q.append('scope', s);
    const started = this.#now();
    const res = await api.request<unknown>('auth.token', {
      path: `${url.pathname}?${q.toString()}`,
      responseType: 'json',
      headers: creds === undefined ? {} : { Authorization: basicHeader(creds) },
      accept: [401, 403],
    });
    if (res.status === 401 || res.status === 403) {
      throw new ServerError(
        `registry ${this.#host}`,
        'auth.token',
        url.origin,
        `token server refused ${creds === undefined ? 'anonymous access' : `the credentials from ${creds.source}`} (${res.status})`,
        {
          status: res.status,
          context: [['Scope', [...wanted].join(' ') || '(none)']],
        },
      );
    }
    const body = (typeof res.data === 'string' ? safeJson(res.data) : res.data) as
      { token?: unknown; access_token?: unknown; expires_in?: unknown } | undefined;
    const token = typeof body?.token === 'string' && body.token !== '' ? body.token : typeof body?.access_token === 'string' ? body.access_token : undefined;
    if (token === undefined || token === '') {
      throw new ServerError(`registry ${this.#host}`, 'auth.token', url.origin, 'token server answered without a token');
    }
    // The spec's default lifetime is 60 s; renew 10 s early.
    const life = typeof body?.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    return { header: `Bearer ${token}`, expires: started + Math.max(1, life - 10) * 1000 };
  }
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(' ');
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** `repository:<name>:pull` or `repository:<name>:pull,push`. */
export function repositoryScope(repository: string, push = false): string {
  return `repository:${repository}:${push ? 'pull,push' : 'pull'}`;
}
