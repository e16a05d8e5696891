/**
 * The one HTTP door for the APIs we speak directly (Nomad, Fabio, registries).
 * Every failure becomes a {@link ServerError} naming server, operation and address;
 * request headers (and so tokens) never reach a message.
 */
import http from 'node:http';
import https from 'node:https';
import type { AxiosInstance, AxiosResponse, CreateAxiosDefaults, ResponseType } from 'axios';
import { tlsAgentOptions, type BasicAuth, type TlsConfig, type TlsAgentOptions } from './config/index.js';
import { ServerError } from './errors.js';

const agents = new Map<string, http.Agent>();

/**
 * One keep-alive agent per process (per TLS setting for https), shared by every client:
 * an agent per client kept one idle connection open per client created, and servers
 * limit connections per address (Consul 200, Nomad 100), answering 429 past that.
 * Idle sockets of a keep-alive agent never hold the process open.
 */
export function sharedAgent(tls?: TlsAgentOptions): http.Agent {
  const key = tls === undefined ? 'http' : `https ${JSON.stringify(tls)}`;
  let agent = agents.get(key);
  if (agent === undefined) {
    agent = tls === undefined ? new http.Agent({ keepAlive: true }) : new https.Agent({ keepAlive: true, ...tls });
    agents.set(key, agent);
  }
  return agent;
}

export interface HttpApiOptions {
  /** Name used in messages: `nomad`, `fabio`, `registry qa`. */
  readonly server: string;
  readonly baseURL: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Query parameters sent with every request (region, namespace). */
  readonly params?: Readonly<Record<string, string>>;
  readonly tls?: TlsConfig;
  readonly auth?: BasicAuth;
  /** Per-request timeout unless a request sets its own. @default 30000 */
  readonly timeoutMs?: number;
}

export interface HttpRequest {
  readonly method?: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD' | 'PATCH';
  readonly path: string;
  readonly params?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly data?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly responseType?: ResponseType;
  /** Statuses that are answers, not errors (e.g. 404 for "absent"). */
  readonly accept?: readonly number[];
  readonly signal?: AbortSignal;
}

export interface HttpResponse<T> {
  readonly status: number;
  readonly data: T;
  readonly headers: Readonly<Record<string, string | undefined>>;
}

/** Shorten a response body for an error message. */
export function bodySnippet(data: unknown, max = 300): string {
  let s: string;
  if (typeof data === 'string') s = data;
  else if (Buffer.isBuffer(data)) s = data.toString('utf8');
  else {
    try {
      s = JSON.stringify(data) ?? '';
    } catch {
      s = String(data);
    }
  }
  s = s.trim().replace(/\s+/g, ' ');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export class HttpApi {
  readonly server: string;
  readonly baseURL: string;
  /** axios is loaded on the first request: commands that only render never pay its ~0.4 s of start-up. */
  readonly #axiosConfig: CreateAxiosDefaults;
  #axios: Promise<AxiosInstance> | undefined;
  readonly #params: Readonly<Record<string, string>>;

  constructor(opts: HttpApiOptions) {
    this.server = opts.server;
    this.baseURL = opts.baseURL.replace(/\/+$/, '');
    this.#params = opts.params ?? {};
    const secure = this.baseURL.startsWith('https:');
    this.#axiosConfig = {
      baseURL: this.baseURL,
      headers: { ...opts.headers },
      timeout: opts.timeoutMs ?? 30_000,
      validateStatus: () => true,
      maxRedirects: 0,
      proxy: false,
      ...(opts.auth === undefined ? {} : { auth: opts.auth }),
      httpAgent: sharedAgent(),
      ...(secure ? { httpsAgent: sharedAgent(tlsAgentOptions(opts.tls ?? { skipVerify: false })) } : {}),
    };
  }

  #client(): Promise<AxiosInstance> {
    this.#axios ??= import('axios').then((m) => m.default.create(this.#axiosConfig));
    return this.#axios;
  }

  /**
   * Send a request.
   * @throws {ServerError} when the server cannot be reached or answers a status not accepted.
   */
  async request<T = unknown>(operation: string, req: HttpRequest): Promise<HttpResponse<T>> {
    let res: AxiosResponse<T>;
    const params = Object.fromEntries(Object.entries({ ...this.#params, ...req.params }).filter(([, v]) => v !== undefined));
    try {
      const client = await this.#client();
      res = await client.request<T>({
        method: req.method ?? 'GET',
        url: req.path,
        params,
        data: req.data,
        ...(req.headers === undefined ? {} : { headers: req.headers }),
        ...(req.timeoutMs === undefined ? {} : { timeout: req.timeoutMs }),
        ...(req.responseType === undefined ? {} : { responseType: req.responseType }),
        ...(req.signal === undefined ? {} : { signal: req.signal }),
      });
    } catch (err) {
      throw this.unreachable(operation, err);
    }
    const ok = (res.status >= 200 && res.status < 300) || (req.accept ?? []).includes(res.status);
    if (!ok) {
      throw new ServerError(
        this.server,
        operation,
        this.baseURL,
        `${res.status} ${res.statusText}${res.data === undefined || res.data === '' ? '' : `: ${bodySnippet(res.data)}`}`,
        { status: res.status },
      );
    }
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(res.headers)) headers[k.toLowerCase()] = v === undefined || v === null ? undefined : String(v);
    return { status: res.status, data: res.data, headers };
  }

  /** Turn a transport failure into a ServerError without leaking request config. */
  unreachable(operation: string, err: unknown): ServerError {
    const e = err as { code?: string; message?: string };
    const reason =
      e.code === 'ECONNREFUSED'
        ? 'cannot connect (connection refused)'
        : e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT'
          ? 'timed out'
          : e.code === 'ERR_CANCELED'
            ? 'cancelled'
            : `cannot connect (${e.code ?? e.message ?? 'unknown error'})`;
    return new ServerError(this.server, operation, this.baseURL, reason);
  }
}
