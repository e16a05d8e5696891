/**
 * Vault authentication in one place: a token (flag, VAULT_TOKEN, `~/.vault-token`),
 * an AppRole login (role ID + secret ID from the environment or files: what CI
 * uses) or a JWT login, all resolved by src/config into {@link VaultConfig}.
 *
 * {@link vaultLogin} takes the run's root Vault client (built once from the
 * configuration, `createClients(config).vault`) and returns a {@link VaultSession}:
 * one client whose token is kept alive while an operation runs — renewed
 * (`auth/token/renew-self`) at two thirds of its TTL, or, for a login token that
 * cannot be renewed further, replaced by a fresh login — until
 * {@link VaultSession.close}, which stops the timer and revokes a token the session
 * logged in for. {@link withVault} wraps an operation in one.
 *
 * Clients, one way: a given token is used on the root client itself; a login is sent
 * through the root client (which holds no token when a login method is configured),
 * and the session's client is derived from the root one with the token obtained
 * (`VaultClient.withToken`); a re-login replaces that token in place, and revoking an
 * old token sends it on the session's client. Nothing here builds a client from a
 * configuration.
 *
 * Tokens, secret IDs and JWTs are never logged or put in an error.
 */
import type { VaultAuthConfig, VaultConfig } from '../config/index.js';
import { GateError, ServerError } from '../errors.js';
import { silent, type Logger } from '../log.js';
import { authMethodOf, type VaultApi, type VaultClient } from './client.js';
import { vaultApi, type Vault } from './index.js';

/** How the session's token was obtained. */
export type VaultAuthMethod = 'token' | 'approle' | 'jwt';

/** A Vault client whose token stays valid until {@link close}. */
export interface VaultSession {
  readonly method: VaultAuthMethod;
  /** The node-vault client; its token is replaced in place after a re-login. */
  readonly vault: VaultApi;
  /** The root client (`client.kv.read(path)`) on that connection. */
  readonly client: Vault;
  /** The configuration with the token in use (changes after a re-login). */
  readonly config: VaultConfig;
  /** Seconds the token had left when last obtained or renewed; 0 for a token that never expires (root). */
  readonly ttl: number;
  /** Renewals (and re-logins) done so far. */
  readonly renewals: number;
  /** Stop renewing; revoke the token when the session logged in for it. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link vaultLogin}. */
export interface LoginOptions {
  /** Keep the token alive in the background. @default true */
  readonly renew?: boolean;
  /** Renew when this fraction of the TTL has passed. @default 2/3 */
  readonly renewAt?: number;
  readonly log?: Logger;
}

interface AuthBlock {
  readonly client_token?: string;
  readonly lease_duration?: number;
  readonly renewable?: boolean;
}

function loginPath(auth: VaultAuthConfig): string {
  return `auth/${auth.mount}/login`;
}

/** Log in with the configured method through `anonymous`, a client without a token; the answer's auth block. */
async function login(anonymous: VaultClient, auth: VaultAuthConfig): Promise<{ token: string; ttl: number; renewable: boolean }> {
  const { config } = anonymous;
  const path = loginPath(auth);
  const body =
    auth.method === 'approle'
      ? { role_id: auth.roleId, ...(auth.secretId === undefined ? {} : { secret_id: auth.secretId }) }
      : { jwt: auth.jwt, ...(auth.role === undefined ? {} : { role: auth.role }) };
  let res: { auth?: AuthBlock | null };
  try {
    res = (await anonymous.call('login', path, (api) => api.write(path, body))) as typeof res;
  } catch (err) {
    // Vault answers 400 "invalid role or secret ID" / "error validating token": the credentials, not the server.
    const status = err instanceof GateError ? 403 : err instanceof ServerError ? err.status : undefined;
    if (status === 400 || status === 403) {
      throw new ServerError('vault', 'login', config.address, `${auth.method === 'approle' ? 'AppRole' : 'JWT'} login at ${path} refused (${status})`, {
        context: [
          ['Path', path],
          [
            'Suggestion',
            auth.method === 'approle'
              ? 'check VAULT_ROLE_ID / VAULT_SECRET_ID (or their _FILE variants) and VAULT_APPROLE_MOUNT; a secret ID may be used up or expired'
              : 'check VAULT_JWT (or VAULT_JWT_FILE), VAULT_JWT_ROLE and VAULT_JWT_MOUNT; the JWT may be expired or its claims not bound to the role',
          ],
        ],
        status,
      });
    }
    throw err;
  }
  const a = res.auth;
  if (a === undefined || a === null || typeof a.client_token !== 'string') {
    throw new ServerError('vault', 'login', config.address, 'no token in the login answer', { context: [['Path', path]] });
  }
  return { token: a.client_token, ttl: a.lease_duration ?? 0, renewable: a.renewable === true };
}

/**
 * TTL and renewability of a given token (`auth/token/lookup-self`); a token whose
 * policies forbid the lookup (no `default` policy) is used as it is, unrenewed.
 */
async function lookupSelf(client: VaultClient, log: Logger): Promise<{ ttl: number; renewable: boolean }> {
  let res: { data?: { ttl?: number; renewable?: boolean } };
  try {
    res = (await client.call('token.lookup-self', 'auth/token/lookup-self', (api) => api.read('auth/token/lookup-self'))) as typeof res;
  } catch (err) {
    if (!(err instanceof GateError)) throw err;
    log({ kind: 'debug', message: `vault (${authMethodOf(client.config)}): the token may not look itself up; it is not renewed` });
    return { ttl: 0, renewable: false };
  }
  return { ttl: res.data?.ttl ?? 0, renewable: res.data?.renewable === true };
}

/**
 * Obtain a token with the method the root client's configuration names and keep it alive.
 * @param root the run's root Vault client (`createClients(config).vault`).
 * @throws {ServerError} (exit 2) when Vault cannot be reached or is sealed, when a
 *   given token is expired or revoked, or when a login is refused — naming the auth
 *   method and path, never the credentials.
 */
export async function vaultLogin(root: Vault, opts: LoginOptions = {}): Promise<VaultSession> {
  const log = opts.log ?? silent;
  const config0 = root.client.config;
  const auth = config0.auth;
  const method: VaultAuthMethod = auth?.method ?? 'token';
  // Login requests carry no token (the resolver drops a token when a login method is configured).
  const anonymous = auth !== undefined && config0.token !== undefined ? root.client.withToken(undefined, config0.tokenSource) : root.client;
  let client: VaultClient;
  let config: VaultConfig;
  let ttl: number;
  let renewable: boolean;
  if (auth !== undefined) {
    const l = await login(anonymous, auth);
    client = root.client.withToken(l.token, auth.method);
    config = client.config;
    ({ ttl, renewable } = l);
  } else {
    if (config0.token === undefined) {
      throw new ServerError('vault', 'login', config0.address, 'no Vault token', {
        context: [
          ['Suggestion', 'set VAULT_TOKEN (or log in so ~/.vault-token exists), VAULT_ROLE_ID + VAULT_SECRET_ID for AppRole, or VAULT_JWT + VAULT_JWT_ROLE'],
        ],
      });
    }
    client = root.client;
    config = config0;
    ({ ttl, renewable } = await lookupSelf(client, log));
  }
  const vault = client.api;
  log({ kind: 'debug', message: `vault (${authMethodOf(config)}): token ttl ${ttl} s${renewable ? ', renewable' : ''}` });

  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let renewals = 0;
  const fraction = Math.min(0.95, Math.max(0.1, opts.renewAt ?? 2 / 3));

  const schedule = (seconds: number): void => {
    if (closed || seconds <= 0 || opts.renew === false) return;
    timer = setTimeout(() => void refresh(), Math.max(200, seconds * 1000 * fraction));
    timer.unref();
  };

  const refresh = async (): Promise<void> => {
    if (closed) return;
    try {
      let next = 0;
      if (renewable) {
        const res = (await client.call('token.renew-self', 'auth/token/renew-self', (api) => api.write('auth/token/renew-self', {}))) as {
          auth?: AuthBlock;
        };
        next = res.auth?.lease_duration ?? 0;
        renewable = res.auth?.renewable === true;
      }
      // A login token that is not renewable, or whose renewal came back shorter than its
      // TTL (its max TTL caps it), is replaced by a fresh login.
      if (auth !== undefined && (!renewable || next < ttl)) {
        const l = await login(anonymous, auth);
        const old = config.token;
        config = { ...config, token: l.token };
        vault.token = l.token;
        next = l.ttl;
        renewable = l.renewable;
        if (old !== undefined) await revoke(vault, old);
      }
      if (closed) return;
      renewals++;
      ttl = next;
      log({ kind: 'debug', message: `vault (${authMethodOf(config)}): token renewed, ttl ${ttl} s` });
      schedule(ttl);
    } catch (err) {
      // The operation goes on; its next call fails with the typed expired-token error.
      log({ kind: 'debug', message: `vault (${authMethodOf(config)}): renewal failed: ${(err as Error).message}` });
    }
  };

  schedule(renewable || auth !== undefined ? ttl : 0);

  return {
    method,
    vault,
    client: client === root.client ? root : vaultApi(client),
    get config() {
      return config;
    },
    get ttl() {
      return ttl;
    },
    get renewals() {
      return renewals;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      if (auth !== undefined && config.token !== undefined) await revoke(vault, config.token);
    },
  };
}

/** Revoke a token the session obtained, sent on the session's client (best effort: it expires anyway). */
async function revoke(vault: VaultApi, token: string): Promise<void> {
  await vault.write('auth/token/revoke-self', {}, { headers: { 'X-Vault-Token': token } }).catch(() => undefined);
}

/**
 * Run `fn` with a logged-in, kept-alive session; close it afterwards (even on failure).
 * @throws what {@link vaultLogin} or `fn` throws.
 */
export async function withVault<T>(root: Vault, fn: (session: VaultSession) => Promise<T>, opts: LoginOptions = {}): Promise<T> {
  const session = await vaultLogin(root, opts);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
