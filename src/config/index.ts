/**
 * The one configuration resolver: defaults → environment → flags.
 *
 * It reads the standard variable sets exactly as the official Nomad, Consul and
 * Vault CLIs do, and nothing from `process.env` directly: the environment is a
 * parameter, so tests pass their own. Every problem is collected and raised as one
 * {@link InputError} (exit 1) naming the variable or flag.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError, type InputProblem } from '../errors.js';
import { readRegularFile } from './input-file.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** TLS settings shared by every client. File paths, not contents. */
export interface TlsConfig {
  /** PEM file with the CA certificate(s) to trust. */
  readonly caCert?: string;
  /** Directory of PEM files to trust. */
  readonly caPath?: string;
  /** PEM client certificate for mutual TLS. */
  readonly clientCert?: string;
  /** PEM key of the client certificate. */
  readonly clientKey?: string;
  /** Name to verify the server certificate against (SNI). */
  readonly serverName?: string;
  /** Skip server certificate verification. @default false */
  readonly skipVerify: boolean;
}

export interface BasicAuth {
  readonly username: string;
  readonly password: string;
}

export interface NomadConfig {
  /** Base URL. @default "http://127.0.0.1:4646" (NOMAD_ADDR) */
  readonly address: string;
  /** ACL token (NOMAD_TOKEN). */
  readonly token?: string;
  /** Region to send requests to (NOMAD_REGION). */
  readonly region?: string;
  /** Namespace (NOMAD_NAMESPACE). */
  readonly namespace?: string;
  /** HTTP basic auth (NOMAD_HTTP_AUTH, `user:password`). */
  readonly httpAuth?: BasicAuth;
  readonly tls: TlsConfig;
  /** Per-request timeout of calls that are not blocking queries (set by library callers). @default 30000 */
  readonly timeoutMs?: number;
}

export interface ConsulConfig {
  /** Base URL with scheme. @default "http://127.0.0.1:8500" (CONSUL_HTTP_ADDR, CONSUL_HTTP_SSL) */
  readonly address: string;
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** ACL token: CONSUL_HTTP_TOKEN_FILE's contents win over CONSUL_HTTP_TOKEN. */
  readonly token?: string;
  /** HTTP basic auth (CONSUL_HTTP_AUTH). */
  readonly httpAuth?: BasicAuth;
  /** Enterprise namespace (CONSUL_NAMESPACE). */
  readonly namespace?: string;
  readonly tls: TlsConfig;
  /**
   * Per-request timeout of calls that are not blocking queries (those set their own),
   * so that a hung Consul is a ServerError rather than a hang. @default 30000
   */
  readonly timeoutMs?: number;
}

export interface VaultConfig {
  /** Base URL. @default "https://127.0.0.1:8200" (VAULT_ADDR) */
  readonly address: string;
  /** Token: VAULT_TOKEN, else the contents of `~/.vault-token`. */
  readonly token?: string;
  /**
   * Where the token came from, for messages (never the token itself); `approle` and
   * `jwt` once src/vault/auth has logged in with {@link VaultConfig.auth}.
   */
  readonly tokenSource: 'flag' | 'VAULT_TOKEN' | '~/.vault-token' | 'approle' | 'jwt' | 'none';
  /**
   * A login method to obtain the token with (src/vault/auth): AppRole
   * (VAULT_ROLE_ID[_FILE], VAULT_SECRET_ID[_FILE], VAULT_APPROLE_MOUNT) or JWT
   * (VAULT_JWT[_FILE], VAULT_JWT_ROLE, VAULT_JWT_MOUNT). Absent when a token is given
   * (flag or VAULT_TOKEN win), or when neither method is configured.
   */
  readonly auth?: VaultAuthConfig;
  /** Enterprise namespace (VAULT_NAMESPACE). */
  readonly namespace?: string;
  readonly tls: TlsConfig;
  /** Per-request timeout, so that a hung Vault is a ServerError rather than a hang. @default 30000 */
  readonly timeoutMs?: number;
}

/** How to log in to Vault when no token is given. Values are secrets: never print them. */
export type VaultAuthConfig =
  | {
      readonly method: 'approle';
      /** Auth mount path. @default "approle" (VAULT_APPROLE_MOUNT) */
      readonly mount: string;
      readonly roleId: string;
      /** Absent for a role created with `bind_secret_id=false`. */
      readonly secretId?: string;
    }
  | {
      readonly method: 'jwt';
      /** Auth mount path. @default "jwt" (VAULT_JWT_MOUNT) */
      readonly mount: string;
      /** Role on the mount (VAULT_JWT_ROLE); absent: the mount's default_role. */
      readonly role?: string;
      readonly jwt: string;
    };

export interface RegistryConfig {
  /** e.g. `http://127.0.0.1:5001`. */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** Vault KV path holding `username` and `password` (`_VAULT_PATH`), read when the registry asks. */
  readonly vaultPath?: string;
}

/** Fabio's addresses (routes, canary weights, smoke requests). */
export interface FabioConfig {
  /** UI/API address. @default "http://127.0.0.1:9998" (HASHISHIP_FABIO_ADDR, --fabio) */
  readonly api: string;
  /** Proxy address for smoke requests. @default "http://127.0.0.1:9999" (HASHISHIP_FABIO_PROXY, --fabio-proxy) */
  readonly proxy: string;
}

export interface HashishipConfig {
  readonly nomad: NomadConfig;
  readonly consul: ConsulConfig;
  readonly vault: VaultConfig;
  readonly fabio: FabioConfig;
  /** Named registries from `HASHISHIP_REGISTRY_<NAME>` (+ `_USERNAME`, `_PASSWORD`, `_VAULT_PATH`). */
  readonly registries: Readonly<Record<string, RegistryConfig>>;
  /** Cache for built binaries. @default "~/.cache/hashiship" (HASHISHIP_CACHE) */
  readonly cacheDir: string;
  /** `debug`: commands also print debug events. @default "info" (HASHISHIP_LOG) */
  readonly logLevel: 'info' | 'debug';
}

/** Command-line flags; each wins over its variable. */
export interface ConfigFlags {
  readonly nomadAddr?: string;
  readonly nomadToken?: string;
  readonly nomadRegion?: string;
  readonly nomadNamespace?: string;
  readonly consulAddr?: string;
  readonly consulToken?: string;
  readonly vaultAddr?: string;
  readonly vaultToken?: string;
  readonly vaultNamespace?: string;
  readonly fabioAddr?: string;
  readonly fabioProxy?: string;
}

export interface ResolveOptions {
  /** The environment to read. Pass `process.env` from the CLI only. */
  readonly env: Env;
  readonly flags?: ConfigFlags;
  /** Home directory for `~/.vault-token` and the cache. @default os.homedir() */
  readonly home?: string;
}

export const defaults = {
  nomadAddr: 'http://127.0.0.1:4646',
  consulAddr: '127.0.0.1:8500',
  vaultAddr: 'https://127.0.0.1:8200',
  fabioAddr: 'http://127.0.0.1:9998',
  fabioProxy: 'http://127.0.0.1:9999',
} as const;

/** The most bytes read from a token or credential file (a token is well under 1 KiB; /dev/zero is endless). */
export const SecretFileBytes = 64 * 1024;

/**
 * Printable ASCII without spaces: what a token, role ID or JWT is made of. Anything
 * else (a control character, a line break inside, a space) would go into an HTTP
 * header or reach the server mangled.
 */
const TOKEN_TEXT = /^[\x21-\x7e]+$/;

/** Go's strconv.ParseBool, which every HashiCorp CLI uses for boolean variables. */
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

class Reader {
  readonly problems: InputProblem[] = [];
  constructor(readonly env: Env) {}

  /** A variable's value; the empty string counts as unset, as in the official CLIs. */
  str(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.str(name);
    if (v === undefined) return fallback;
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    this.fail(name, v, 'not a boolean (expected true or false, 1 or 0)');
    return fallback;
  }

  fail(name: string, value: string | undefined, message: string): void {
    this.problems.push({ subject: value === undefined ? name : `${name}=${JSON.stringify(value)}`, message });
  }

  /**
   * A secret given directly (a variable or flag): checked, never echoed.
   * @returns the value, or undefined (and a problem) when it holds a character a token cannot.
   */
  secret(name: string, value: string | undefined): string | undefined {
    if (value === undefined || TOKEN_TEXT.test(value)) return value;
    // `NAME (value not shown): …`: `NAME: holds` would read as a secret's value to the output redactor.
    this.problems.push({ subject: `${name} (value not shown)`, message: `holds ${unsafeIn(value)}; a token is printable ASCII without spaces` });
    return undefined;
  }

  /**
   * The trimmed contents of a secret file (the path is not a secret): only a regular
   * file is read (a FIFO would block, /dev/zero never ends), at most
   * {@link SecretFileBytes} bytes. `name` is the variable naming it (or `~/.vault-token`).
   * @returns undefined (and a problem) when it cannot be used; `missing` when it does not exist.
   */
  secretFile(name: string, path: string, opts: { readonly subject?: string } = {}): string | undefined | 'missing' {
    const subject = opts.subject ?? `${name}=${JSON.stringify(path)}`;
    const r = readRegularFile(path, SecretFileBytes);
    const fail = (message: string): undefined => void this.problems.push({ subject, message });
    switch (r.kind) {
      case 'error': {
        const code = (r.error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return 'missing';
        return fail(code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `cannot be read (${code ?? String(r.error)})`);
      }
      case 'not-a-file':
        return fail(`${r.what === 'a directory' || r.what === 'a FIFO' ? `is ${r.what}` : 'is not a regular file'}; give a file holding the token`);
      case 'too-big':
        return fail(`is ${r.size} bytes; a token file holds at most ${SecretFileBytes} bytes`);
      case 'grew':
        return fail(`holds more than it did when it was opened; a token file holds one token`);
      case 'read': {
        const v = r.bytes.toString('utf8').trim();
        if (v !== '' && !TOKEN_TEXT.test(v)) return fail(`the token in it (not shown) holds ${unsafeIn(v)}; a token is printable ASCII without spaces`);
        return v;
      }
    }
  }

  /** A file path that must be readable (a regular file, or a directory when `dir`). */
  path(name: string, dir = false): string | undefined {
    const p = this.str(name);
    if (p === undefined) return undefined;
    try {
      const st = statSync(p);
      if (dir ? !st.isDirectory() : !st.isFile()) {
        this.fail(name, p, dir ? 'not a directory' : 'not a regular file');
      }
    } catch {
      this.fail(name, p, 'no such file or directory');
    }
    return p;
  }

  /**
   * A value that goes into a request line or header (a namespace, a region, a server
   * name, `user:password`): a control character would split or break it.
   * @returns the value, or undefined (and a problem) when it holds one.
   */
  headerSafe(name: string, value: string | undefined, secret = false): string | undefined {
    // eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
    if (value === undefined || !/[\u0000-\u001f\u007f-\u009f]/.test(value)) return value;
    if (secret) this.problems.push({ subject: `${name} (value not shown)`, message: `holds ${unsafeIn(value)}; it is sent in a request header` });
    else this.fail(name, value, 'holds a control character; it is sent in a request header');
    return undefined;
  }

  url(name: string, value: string): string {
    // The URL parser drops tabs and line breaks silently (`http://x\n` is `http://x`); the value would be used as given.
    // eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
    if (/[\s\u0000-\u001f\u007f-\u009f]/.test(value)) {
      this.fail(name, value, 'not a URL: it holds a space or a control character');
      return value;
    }
    let u: URL;
    try {
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new Error('no scheme');
      u = new URL(value);
    } catch {
      this.fail(name, value, 'not a URL (expected http://host:port or https://host:port)');
      return value;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      this.fail(name, value, `not a URL: scheme ${JSON.stringify(u.protocol.slice(0, -1))} (expected http or https)`);
    } else if (u.hostname === '' || /[^0-9]/.test(u.port)) {
      this.fail(name, value, 'not a URL (expected http://host:port or https://host:port)');
    }
    return value.replace(/\/+$/, '');
  }

  auth(name: string): BasicAuth | undefined {
    const v = this.headerSafe(name, this.str(name), true);
    if (v === undefined) return undefined;
    const i = v.indexOf(':');
    return i < 0 ? { username: v, password: '' } : { username: v.slice(0, i), password: v.slice(i + 1) };
  }

  tls(prefix: 'NOMAD' | 'CONSUL' | 'VAULT', skipVerify: boolean): TlsConfig {
    return pick({
      caCert: this.path(`${prefix}_CACERT`),
      caPath: this.path(`${prefix}_CAPATH`, true),
      clientCert: this.path(`${prefix}_CLIENT_CERT`),
      clientKey: this.path(`${prefix}_CLIENT_KEY`),
      serverName: this.headerSafe(`${prefix}_TLS_SERVER_NAME`, this.str(`${prefix}_TLS_SERVER_NAME`)),
      skipVerify,
    }) as TlsConfig;
  }
}

/** Where a secret holds its first character that a token cannot, without showing the secret. */
function unsafeIn(v: string): string {
  const i = [...v].findIndex((c) => !TOKEN_TEXT.test(c));
  const c = [...v][i]!;
  const cp = c.codePointAt(0)!;
  const what = c === ' ' ? 'a space' : cp < 0x20 || cp === 0x7f ? 'a control character' : 'a character that is not ASCII';
  return `${what} (U+${cp.toString(16).toUpperCase().padStart(4, '0')}) at character ${i + 1}`;
}

function pick<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Nomad's namespace names (`^[a-zA-Z0-9-]{1,128}$`), or `*` (every namespace, for reads). */
function nomadNamespace(r: Reader, name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '*' || /^[a-zA-Z0-9-]{1,128}$/.test(value)) return value;
  r.fail(name, value, 'not a Nomad namespace (letters, digits and dashes, at most 128, or *)');
  return undefined;
}

function resolveNomad(r: Reader, flags: ConfigFlags): NomadConfig {
  const addrSource = flags.nomadAddr !== undefined ? '--nomad-addr' : 'NOMAD_ADDR';
  const address = r.url(addrSource, flags.nomadAddr ?? r.str('NOMAD_ADDR') ?? defaults.nomadAddr);
  return pick({
    address,
    token: flags.nomadToken !== undefined ? r.secret('--nomad-token', flags.nomadToken) : r.secret('NOMAD_TOKEN', r.str('NOMAD_TOKEN')),
    region: flags.nomadRegion !== undefined ? r.headerSafe('--nomad-region', flags.nomadRegion) : r.headerSafe('NOMAD_REGION', r.str('NOMAD_REGION')),
    namespace: nomadNamespace(
      r,
      flags.nomadNamespace !== undefined ? '--nomad-namespace' : 'NOMAD_NAMESPACE',
      flags.nomadNamespace ?? r.str('NOMAD_NAMESPACE'),
    ),
    httpAuth: r.auth('NOMAD_HTTP_AUTH'),
    tls: r.tls('NOMAD', r.bool('NOMAD_SKIP_VERIFY', false)),
  }) as NomadConfig;
}

function resolveConsul(r: Reader, flags: ConfigFlags): ConsulConfig {
  const name = flags.consulAddr !== undefined ? '--consul-addr' : 'CONSUL_HTTP_ADDR';
  const raw = flags.consulAddr ?? r.str('CONSUL_HTTP_ADDR') ?? defaults.consulAddr;
  const ssl = r.bool('CONSUL_HTTP_SSL', false);
  // Consul's api: an address with a scheme keeps it; without one, CONSUL_HTTP_SSL picks https.
  let scheme: 'http' | 'https' = ssl ? 'https' : 'http';
  let rest = raw;
  const m = /^([a-z]+):\/\/(.*)$/i.exec(raw);
  if (m !== null) {
    const s = m[1]!.toLowerCase();
    if (s === 'http' || s === 'https') scheme = s;
    else r.fail(name, raw, `unsupported scheme ${JSON.stringify(s)} (expected http or https)`);
    rest = m[2]!;
  }
  rest = rest.replace(/\/+$/, '');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
  const hp = /[\s\u0000-\u001f\u007f-\u009f]/.test(rest) ? null : /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+)(?::(\d{1,5}))?$/.exec(rest);
  let host = '127.0.0.1';
  let port = 8500;
  if (hp === null) {
    r.fail(name, raw, 'not an address (expected host:port or http(s)://host:port)');
  } else {
    host = hp[1]!;
    port = hp[2] === undefined ? (scheme === 'https' ? 443 : 80) : Number(hp[2]);
    if (port < 1 || port > 65535) r.fail(name, raw, 'port out of range 1-65535');
  }
  // CONSUL_HTTP_TOKEN_FILE wins over CONSUL_HTTP_TOKEN, as in Consul's api package.
  let token = r.secret('--consul-token', flags.consulToken);
  if (flags.consulToken === undefined) {
    const file = r.str('CONSUL_HTTP_TOKEN_FILE');
    if (file !== undefined) {
      const t = r.secretFile('CONSUL_HTTP_TOKEN_FILE', file);
      if (t === 'missing') r.fail('CONSUL_HTTP_TOKEN_FILE', file, 'no such file or directory');
      else token = t;
    } else {
      token = r.secret('CONSUL_HTTP_TOKEN', r.str('CONSUL_HTTP_TOKEN'));
    }
  }
  return pick({
    address: `${scheme}://${host}:${port}`,
    scheme,
    host,
    port,
    token,
    httpAuth: r.auth('CONSUL_HTTP_AUTH'),
    namespace: r.headerSafe('CONSUL_NAMESPACE', r.str('CONSUL_NAMESPACE')),
    tls: r.tls('CONSUL', !r.bool('CONSUL_HTTP_SSL_VERIFY', true)),
  }) as ConsulConfig;
}

function resolveVault(r: Reader, flags: ConfigFlags, home: string): VaultConfig {
  const addrSource = flags.vaultAddr !== undefined ? '--vault-addr' : 'VAULT_ADDR';
  const address = r.url(addrSource, flags.vaultAddr ?? r.str('VAULT_ADDR') ?? defaults.vaultAddr);
  let token: string | undefined;
  let tokenSource: VaultConfig['tokenSource'] = 'none';
  if (flags.vaultToken !== undefined) {
    token = r.secret('--vault-token', flags.vaultToken);
    tokenSource = 'flag';
  } else if (r.str('VAULT_TOKEN') !== undefined) {
    token = r.secret('VAULT_TOKEN', r.str('VAULT_TOKEN'));
    tokenSource = 'VAULT_TOKEN';
  } else {
    // No token helper file: no token. One that cannot be read as a file (a FIFO, a device) is a problem.
    const path = join(home, '.vault-token');
    const t = r.secretFile('~/.vault-token', path, { subject: `~/.vault-token (${JSON.stringify(path)})` });
    if (t !== undefined && t !== 'missing' && t !== '') {
      token = t;
      tokenSource = '~/.vault-token';
    }
  }
  // A login method wins over ~/.vault-token (a CI runner's stale file), never over a given token.
  const auth = tokenSource === 'flag' || tokenSource === 'VAULT_TOKEN' ? undefined : resolveVaultAuth(r);
  if (auth !== undefined) {
    token = undefined;
    tokenSource = 'none';
  }
  return pick({
    address,
    token,
    tokenSource,
    auth,
    namespace:
      flags.vaultNamespace !== undefined ? r.headerSafe('--vault-namespace', flags.vaultNamespace) : r.headerSafe('VAULT_NAMESPACE', r.str('VAULT_NAMESPACE')),
    tls: r.tls('VAULT', r.bool('VAULT_SKIP_VERIFY', false)),
  }) as VaultConfig;
}

/** A secret from `NAME` or the file named by `NAME_FILE` (the file wins, trimmed); both set is a problem. */
function secretOf(r: Reader, name: string): string | undefined {
  if (r.str(`${name}_FILE`) !== undefined && r.str(name) !== undefined) return undefined; // reported by secretPairs()
  const file = r.str(`${name}_FILE`);
  if (file === undefined) return r.secret(name, r.str(name));
  const v = r.secretFile(`${name}_FILE`, file);
  if (v === 'missing') r.fail(`${name}_FILE`, file, 'no such file or directory');
  else if (v === '') r.fail(`${name}_FILE`, file, 'the file is empty');
  return v === 'missing' || v === '' ? undefined : v;
}

/** Variables given as a value or as a file (`NAME_FILE`); both at once is a problem. */
const SECRET_PAIRS = ['VAULT_ROLE_ID', 'VAULT_SECRET_ID', 'VAULT_JWT'] as const;

/** Report every pair set twice, whichever login (if any) will use it. */
function secretPairs(r: Reader): void {
  for (const name of SECRET_PAIRS) {
    if (r.str(name) !== undefined && r.str(`${name}_FILE`) !== undefined) r.fail(`${name}_FILE`, undefined, `set both ${name} and ${name}_FILE; keep one`);
  }
}

function resolveFabio(r: Reader, flags: ConfigFlags): FabioConfig {
  const api =
    flags.fabioAddr !== undefined ? r.url('--fabio', flags.fabioAddr) : r.url('HASHISHIP_FABIO_ADDR', r.str('HASHISHIP_FABIO_ADDR') ?? defaults.fabioAddr);
  const proxy =
    flags.fabioProxy !== undefined
      ? r.url('--fabio-proxy', flags.fabioProxy)
      : r.url('HASHISHIP_FABIO_PROXY', r.str('HASHISHIP_FABIO_PROXY') ?? defaults.fabioProxy);
  return { api, proxy };
}

/**
 * HASHISHIP_LOG alone, for commands that resolve nothing else.
 * @throws {InputError} when it is neither debug nor info.
 */
export function logLevelOf(env: Env): 'info' | 'debug' {
  const r = new Reader(env);
  const level = resolveLogLevel(r);
  if (r.problems.length > 0) throw new InputError(r.problems);
  return level;
}

function resolveLogLevel(r: Reader): 'info' | 'debug' {
  const v = r.str('HASHISHIP_LOG');
  if (v === undefined || v === 'info' || v === 'debug') return v ?? 'info';
  r.fail('HASHISHIP_LOG', v, 'expected debug or info');
  return 'info';
}

/** AppRole when a role ID is given, else JWT when a JWT is given, else none. */
function resolveVaultAuth(r: Reader): VaultAuthConfig | undefined {
  const mountOf = (name: string, fallback: string): string => {
    const m = (r.str(name) ?? fallback).replace(/^\/+|\/+$/g, '');
    if (!/^[A-Za-z0-9_.\/-]+$/.test(m)) r.fail(name, m, 'not an auth mount path (letters, digits, _ . - /)');
    return m;
  };
  const roleId = secretOf(r, 'VAULT_ROLE_ID');
  const secretId = secretOf(r, 'VAULT_SECRET_ID');
  if (roleId !== undefined) {
    return pick({ method: 'approle' as const, mount: mountOf('VAULT_APPROLE_MOUNT', 'approle'), roleId, secretId }) as VaultAuthConfig;
  }
  // Named by the missing variable: `VAULT_SECRET_ID: set …` reads as a secret's value to the output redactor (`VAULT_SECRET_ID: <redacted>`).
  if (secretId !== undefined) r.fail('VAULT_ROLE_ID', undefined, 'not set (nor VAULT_ROLE_ID_FILE), but VAULT_SECRET_ID is; AppRole needs both');
  const jwt = secretOf(r, 'VAULT_JWT');
  if (jwt !== undefined)
    return pick({ method: 'jwt' as const, mount: mountOf('VAULT_JWT_MOUNT', 'jwt'), role: r.str('VAULT_JWT_ROLE'), jwt }) as VaultAuthConfig;
  if (r.str('VAULT_JWT_ROLE') !== undefined) r.fail('VAULT_JWT_ROLE', undefined, 'set without VAULT_JWT (or VAULT_JWT_FILE)');
  return undefined;
}

function resolveRegistries(r: Reader): Record<string, RegistryConfig> {
  const out: Record<string, RegistryConfig> = {};
  for (const key of Object.keys(r.env).sort()) {
    const m = /^HASHISHIP_REGISTRY_([A-Z0-9]+)$/.exec(key);
    if (m === null) continue;
    const url = r.str(key);
    if (url === undefined) continue;
    const name = m[1]!.toLowerCase();
    out[name] = pick({
      url: r.url(key, url),
      username: r.headerSafe(`${key}_USERNAME`, r.str(`${key}_USERNAME`)),
      password: r.headerSafe(`${key}_PASSWORD`, r.str(`${key}_PASSWORD`), true),
      vaultPath: r.str(`${key}_VAULT_PATH`),
    }) as RegistryConfig;
  }
  return out;
}

/**
 * Resolve the whole configuration.
 * @throws {InputError} naming every bad variable or flag (exit 1).
 */
export function resolveConfig(opts: ResolveOptions): HashishipConfig {
  const r = new Reader(opts.env);
  const flags = opts.flags ?? {};
  const home = opts.home ?? homedir();
  secretPairs(r);
  const config: HashishipConfig = {
    nomad: resolveNomad(r, flags),
    consul: resolveConsul(r, flags),
    vault: resolveVault(r, flags, home),
    fabio: resolveFabio(r, flags),
    registries: resolveRegistries(r),
    cacheDir: r.str('HASHISHIP_CACHE') ?? join(home, '.cache', 'hashiship'),
    logLevel: resolveLogLevel(r),
  };
  if (r.problems.length > 0) throw new InputError(r.problems);
  return config;
}

/** PEM material and verification settings for a Node https agent. */
export interface TlsAgentOptions {
  ca?: string[];
  cert?: string;
  key?: string;
  servername?: string;
  rejectUnauthorized: boolean;
}

/**
 * Read the TLS files named by a config into options for `https.Agent`.
 * A CA path contributes every regular file in the directory, like Go's rootcerts.
 */
export function tlsAgentOptions(tls: TlsConfig): TlsAgentOptions {
  const ca: string[] = [];
  if (tls.caCert !== undefined) ca.push(readFileSync(tls.caCert, 'utf8'));
  if (tls.caPath !== undefined) {
    for (const f of readdirSync(tls.caPath).sort()) {
      const p = join(tls.caPath, f);
      if (statSync(p).isFile()) ca.push(readFileSync(p, 'utf8'));
    }
  }
  const o: TlsAgentOptions = { rejectUnauthorized: !tls.skipVerify };
  if (ca.length > 0) o.ca = ca;
  if (tls.clientCert !== undefined) o.cert = readFileSync(tls.clientCert, 'utf8');
  if (tls.clientKey !== undefined) o.key = readFileSync(tls.clientKey, 'utf8');
  if (tls.serverName !== undefined) o.servername = tls.serverName;
  return o;
}
