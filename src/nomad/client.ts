/**
 * The Nomad HTTP client, built from {@link NomadConfig} and nothing else.
 *
 * The namespace is a parameter of each request, not of the process: a request
 * names the namespace of the job it acts on (`namespace`), or goes to the
 * client's own — for the root client `NOMAD_NAMESPACE`, which is only the
 * default for jobs that name none. {@link NomadClient.in} gives a client on the
 * same connection whose requests go to another namespace.
 */
import type { NomadConfig } from '../config/index.js';
import { HttpApi, type HttpRequest, type HttpResponse } from '../http.js';

/** A request to Nomad: an HTTP request and the namespace it is about. */
export interface NomadRequest extends HttpRequest {
  /** The namespace of the objects the request acts on (`*`: every namespace, for lists). @default the client's namespace */
  readonly namespace?: string;
}

export class NomadClient {
  readonly api: HttpApi;
  /** Where requests that name no namespace go: the job's for a scoped client, else NOMAD_NAMESPACE; undefined: Nomad's `default`. */
  readonly namespace: string | undefined;

  constructor(
    readonly config: NomadConfig,
    scope?: { readonly api: HttpApi; readonly namespace: string },
  ) {
    this.namespace = scope?.namespace ?? config.namespace;
    this.api =
      scope?.api ??
      new HttpApi({
        server: 'nomad',
        baseURL: config.address,
        headers: config.token === undefined ? {} : { 'X-Nomad-Token': config.token },
        params: config.region === undefined ? {} : { region: config.region },
        tls: config.tls,
        ...(config.httpAuth === undefined ? {} : { auth: config.httpAuth }),
        ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
      });
  }

  /**
   * The same client (connection, token, region) acting in `namespace`; the
   * root client itself when `namespace` is undefined or already its own.
   */
  in(namespace: string | undefined): NomadClient {
    if (namespace === undefined || namespace === this.namespace) return this;
    if (namespace === '') throw new TypeError('nomad: a namespace name is required');
    return new NomadClient(this.config, { api: this.api, namespace });
  }

  request<T>(operation: string, req: NomadRequest): Promise<HttpResponse<T>> {
    const { namespace, ...rest } = req;
    const ns = namespace ?? this.namespace;
    return this.api.request<T>(operation, ns === undefined ? rest : { ...rest, params: { namespace: ns, ...rest.params } });
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
