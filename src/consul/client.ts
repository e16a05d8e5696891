/**
 * The one door to the `consul` package: a client built from {@link ConsulConfig}
 * and nothing else (the package reads no variables, and we give it none to read).
 * {@link ConsulClient} is the connection every area (`kv`, `health`, `services`,
 * `serviceConfig`, `maintenance`; see ./index.ts) sends its requests through.
 */
import Consul from 'consul';
import { tlsAgentOptions, type ConsulConfig } from '../config/index.js';
import { ServerError } from '../errors.js';
import { sharedAgent } from '../http.js';

export type ConsulApi = InstanceType<typeof Consul>;

/** Timeout of a non-blocking Consul request unless the configuration sets one. */
export const DefaultTimeoutMs = 30_000;

/** Build a `consul` client: host, port, scheme, token, namespace, basic auth and TLS agent. */
export function createConsul(config: ConsulConfig): ConsulApi {
  const base = new URL(`${config.address}/v1`);
  if (config.httpAuth !== undefined) {
    base.username = encodeURIComponent(config.httpAuth.username);
    base.password = encodeURIComponent(config.httpAuth.password);
  }
  const agent = sharedAgent(config.scheme === 'https' ? tlsAgentOptions(config.tls) : undefined);
  const options = {
    baseUrl: base.toString(),
    agent,
    // Without a timeout a Consul that accepts but never answers (frozen, overloaded) hangs the caller forever.
    defaults: { timeout: config.timeoutMs ?? DefaultTimeoutMs, ...(config.token === undefined ? {} : { token: config.token }) },
    headers: config.namespace === undefined ? {} : { 'X-Consul-Namespace': config.namespace },
  };
  // The package's typings omit baseUrl and headers, which papi (its HTTP layer) accepts.
  return new Consul(options as ConstructorParameters<typeof Consul>[0]);
}

/**
 * Run one `consul` package call and turn its failure into a {@link ServerError}
 * (`consul: kv.get: 403 Forbidden: ACL not found`), never exposing the token.
 */
export async function consulCall<T>(config: ConsulConfig, operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as { code?: string; message?: string; response?: { statusCode?: number; body?: unknown } };
    const status = e.response?.statusCode;
    let reason: string;
    if (status !== undefined) {
      const body = typeof e.response?.body === 'string' ? e.response.body.trim() : '';
      reason = `${status}${body === '' ? '' : `: ${body.slice(0, 300)}`}`;
    } else if (e.code === 'ECONNREFUSED') reason = 'cannot connect (connection refused)';
    else reason = (e.message ?? String(err)).replace(/^consul: /, '');
    throw new ServerError('consul', operation, config.address, reason, status === undefined ? {} : { status });
  }
}

/**
 * A connection to one Consul: its configuration and the package client built from
 * it once. Every request of the areas goes through {@link ConsulClient.call}, which
 * names the operation in its errors (`consul: kv.get config/web/x: 403 …`).
 */
export class ConsulClient {
  readonly api: ConsulApi;

  /** Built by createClients (src/clients.ts); nothing else constructs one. */
  constructor(readonly config: ConsulConfig) {
    this.api = createConsul(config);
  }

  /**
   * Run one request of the package client; its failure becomes a {@link ServerError}.
   * @throws {ServerError} when Consul cannot be reached or answers an error.
   */
  call<T>(operation: string, fn: (api: ConsulApi) => Promise<T>): Promise<T> {
    return consulCall(this.config, operation, () => fn(this.api));
  }
}
