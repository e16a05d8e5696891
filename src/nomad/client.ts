/**
 * The Nomad HTTP client, built from {@link NomadConfig} and nothing else.
 */
import type { NomadConfig } from '../config/index.js';
import { HttpApi, type HttpRequest, type HttpResponse } from '../http.js';

export class NomadClient {
  readonly api: HttpApi;

  constructor(readonly config: NomadConfig) {
    this.api = new HttpApi({
      server: 'nomad',
      baseURL: config.address,
      headers: config.token === undefined ? {} : { 'X-Nomad-Token': config.token },
      params: {
        ...(config.region === undefined ? {} : { region: config.region }),
        ...(config.namespace === undefined ? {} : { namespace: config.namespace }),
      },
      tls: config.tls,
      ...(config.httpAuth === undefined ? {} : { auth: config.httpAuth }),
      ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    });
  }

  request<T>(operation: string, req: HttpRequest): Promise<HttpResponse<T>> {
    return this.api.request<T>(operation, req);
  }

  /** `GET /v1/agent/self`. */
  async agentSelf(): Promise<Record<string, unknown>> {
    return (await this.request<Record<string, unknown>>('agent.self', { path: '/v1/agent/self' })).data;
  }

  /** `GET /v1/status/leader`: the leader's RPC address, or "" while there is none. */
  async leader(): Promise<string> {
    return (await this.request<string>('status.leader', { path: '/v1/status/leader' })).data;
  }
}
