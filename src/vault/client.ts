/**
 * The one door to node-vault: a client built from {@link VaultConfig} only.
 * node-vault would otherwise read VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE and treat
 * any VAULT_SKIP_VERIFY (even "false") as "skip"; every one of those is set here
 * explicitly so its environment handling never applies.
 */
import { createRequire } from 'node:module';
import type nodeVault from 'node-vault';
import { tlsAgentOptions, type VaultConfig } from '../config/index.js';
import { GateError, ServerError } from '../errors.js';

export type VaultApi = nodeVault.client;

/** node-vault (and axios under it) is loaded on the first client: commands that never reach Vault start faster. */
const load = createRequire(import.meta.url);

export function createVault(config: VaultConfig): VaultApi {
  const tls = config.address.startsWith('https:') ? tlsAgentOptions(config.tls) : { rejectUnauthorized: !config.tls.skipVerify };
  const options = {
    apiVersion: 'v1',
    // node-vault's own debug output (DEBUG=node-vault) prints request bodies: secret IDs, written values.
    debug: () => {},
    endpoint: config.address,
    ...(config.token === undefined ? {} : { token: config.token }),
    ...(config.namespace === undefined ? {} : { namespace: config.namespace }),
    // node-vault sets no timeout of its own: a Vault that accepts but never answers would hang the caller.
    rpDefaults: { strictSSL: tls.rejectUnauthorized, timeout: config.timeoutMs ?? 30_000 },
    requestOptions: {
      strictSSL: tls.rejectUnauthorized,
      ...('ca' in tls && tls.ca !== undefined ? { ca: tls.ca } : {}),
      ...('cert' in tls && tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...('key' in tls && tls.key !== undefined ? { key: tls.key } : {}),
      ...('servername' in tls && tls.servername !== undefined ? { agentOptions: { servername: tls.servername } } : {}),
    },
  };
  // rpDefaults is read by node-vault but missing from its typings.
  const client = (load('node-vault') as typeof nodeVault)(options as nodeVault.VaultOptions);
  // node-vault falls back to process.env for these when the option is empty: undo that.
  client.endpoint = config.address;
  client.token = config.token as string;
  (client as { namespace?: string | undefined }).namespace = config.namespace;
  return client;
}

/**
 * A connection to one Vault: its configuration and the node-vault client built from
 * it once. Every request of the areas goes through {@link VaultClient.call}, which
 * turns a failure into a typed error naming the path (never the token).
 */
export class VaultClient {
  readonly api: VaultApi;

  /** Built by createClients (src/clients.ts) or derived with {@link VaultClient.withToken}; nothing else constructs one. */
  constructor(readonly config: VaultConfig) {
    this.api = createVault(config);
  }

  /**
   * The one way to a Vault client with another token: a logged-in session
   * (src/vault/auth.ts) derives its client from the run's root client with the token
   * its login obtained (or none, for the login request itself). The same address,
   * TLS, namespace and timeout as this client; its own node-vault client, since
   * node-vault holds one token per client, so this client keeps its token.
   */
  withToken(token: string | undefined, tokenSource: VaultConfig['tokenSource']): VaultClient {
    const { token: _old, ...rest } = this.config;
    return new VaultClient({ ...rest, ...(token === undefined ? {} : { token }), tokenSource });
  }

  /**
   * Run one request of the node-vault client on `path`.
   * @throws {ServerError} / {@link GateError} as {@link vaultCall}.
   */
  call<T>(operation: string, path: string, fn: (api: VaultApi) => Promise<T>): Promise<T> {
    return vaultCall(this.config, operation, path, () => fn(this.api));
  }
}

/** How the token in use was obtained, for messages: never the token itself. */
export function authMethodOf(config: Pick<VaultConfig, 'tokenSource'>): string {
  switch (config.tokenSource) {
    case 'approle':
      return 'AppRole login';
    case 'jwt':
      return 'JWT login';
    case 'none':
      return 'no token (set VAULT_TOKEN, VAULT_ROLE_ID + VAULT_SECRET_ID, or VAULT_JWT)';
    case 'flag':
      return 'token from --vault-token';
    default:
      return `token from ${config.tokenSource}`;
  }
}

/**
 * Run one node-vault call; its failure becomes a typed error naming the path, never
 * the token:
 * - 403 on a token Vault no longer knows (expired, revoked): {@link ServerError}
 *   (exit 2, status 403) naming the auth method;
 * - 403 on a valid token: {@link GateError} (exit 6), the path is denied to it;
 * - 503 from a sealed Vault: {@link ServerError} (exit 2) saying so;
 * - anything else: {@link ServerError} with the status kept, so callers can map 404.
 */
export async function vaultCall<T>(config: VaultConfig, operation: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw vaultError(config, operation, path, err);
  }
}

/** The typed error of a failed Vault request (see {@link vaultCall}). */
export function vaultError(config: VaultConfig, operation: string, path: string, err: unknown): Error {
  const e = err as { code?: string; message?: string; response?: { statusCode?: number; body?: { errors?: unknown } } };
  const status = e.response?.statusCode;
  const errors = Array.isArray(e.response?.body?.errors) ? (e.response.body.errors as unknown[]).map(String).join('; ') : (e.message ?? '');
  const detail = errors
    .replace(/\d+ errors? occurred:\s*/g, '')
    .replace(/\s*\n\s*\*?\s*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const context: [string, string][] = [['Path', path]];
  if (status === 403 && /invalid token/i.test(detail)) {
    return new ServerError('vault', operation, config.address, `403: the Vault token is expired, revoked or unknown to this Vault (${authMethodOf(config)})`, {
      context: [
        ...context,
        [
          'Suggestion',
          config.auth === undefined
            ? 'log in again (vault login) or set a fresh VAULT_TOKEN'
            : `check the ${config.auth.method === 'approle' ? 'AppRole role and secret ID' : 'JWT and its role'}`,
        ],
      ],
      status,
    });
  }
  if (status === 403) {
    return new GateError(`vault: ${operation}: permission denied on ${path} (${authMethodOf(config)})`, {
      context: [...context, ['Vault', detail], ['Suggestion', `the token's policies do not grant this operation on ${path}`]],
    });
  }
  if (status === 503 && /sealed/i.test(detail)) {
    return new ServerError('vault', operation, config.address, '503: Vault is sealed', {
      context: [...context, ['Suggestion', 'unseal it (vault operator unseal) and retry']],
      status,
    });
  }
  const reason =
    status !== undefined
      ? `${status}: ${detail}`.trim()
      : e.code === 'ECONNREFUSED'
        ? 'cannot connect (connection refused)'
        : e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT'
          ? `timed out (${config.timeoutMs ?? 30_000} ms)`
          : `cannot connect (${e.code ?? e.message ?? 'unknown error'})`;
  return new ServerError('vault', operation, config.address, reason, { context, ...(status === undefined ? {} : { status }) });
}
