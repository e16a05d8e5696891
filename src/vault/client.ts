/**
 * The one door to node-vault: a client built from {@link VaultConfig} only.
 * node-vault would otherwise read VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE and treat
 * any VAULT_SKIP_VERIFY (even "false") as "skip"; every one of those is set here
 * explicitly so its environment handling never applies.
 */
import nodeVault from 'node-vault';
import { tlsAgentOptions, type VaultConfig } from '../config/index.js';
import { ServerError } from '../errors.js';

export type VaultApi = nodeVault.client;

export function createVault(config: VaultConfig): VaultApi {
  const tls = config.address.startsWith('https:') ? tlsAgentOptions(config.tls) : { rejectUnauthorized: !config.tls.skipVerify };
  const options = {
    apiVersion: 'v1',
    endpoint: config.address,
    ...(config.token === undefined ? {} : { token: config.token }),
    ...(config.namespace === undefined ? {} : { namespace: config.namespace }),
    rpDefaults: { strictSSL: tls.rejectUnauthorized },
    requestOptions: {
      strictSSL: tls.rejectUnauthorized,
      ...('ca' in tls && tls.ca !== undefined ? { ca: tls.ca } : {}),
      ...('cert' in tls && tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...('key' in tls && tls.key !== undefined ? { key: tls.key } : {}),
      ...('servername' in tls && tls.servername !== undefined ? { agentOptions: { servername: tls.servername } } : {}),
    },
  };
  // rpDefaults is read by node-vault but missing from its typings.
  const client = nodeVault(options as nodeVault.VaultOptions);
  // node-vault falls back to process.env for these when the option is empty: undo that.
  client.endpoint = config.address;
  client.token = config.token as string;
  (client as { namespace?: string | undefined }).namespace = config.namespace;
  return client;
}

/**
 * Run one node-vault call; its failure becomes a {@link ServerError} naming the path,
 * never the token. `status` is kept so callers can map 403 to a gate (exit 6).
 */
export async function vaultCall<T>(config: VaultConfig, operation: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as { code?: string; message?: string; response?: { statusCode?: number } };
    const status = e.response?.statusCode;
    const reason =
      status !== undefined
        ? `${status}: ${e.message ?? ''}`.trim()
        : e.code === 'ECONNREFUSED'
          ? 'cannot connect (connection refused)'
          : `cannot connect (${e.code ?? e.message ?? 'unknown error'})`;
    throw new ServerError('vault', operation, config.address, reason, {
      context: [['Path', path]],
      ...(status === undefined ? {} : { status }),
    });
  }
}
