/**
 * The root client of one registry host (Docker Registry HTTP API v2), built on
 * the shared HTTP door `src/http.ts`. It pings `/v2/` once to learn whether and
 * how the registry wants authentication, then sends every request with the
 * right `Authorization` for its scopes (see `auth.ts`), retries once after a
 * 401 when the body can be resent, and turns registry error documents
 * (`{"errors":[{"code","message"}]}`) into {@link ServerError}s
 * (`registry 127.0.0.1:5001: blobs.upload: 400 DIGEST_INVALID …`).
 */
import type { Readable } from 'node:stream';
import { ServerError } from '../errors.js';
import { HttpApi, bodySnippet, type HttpRequest, type HttpResponse } from '../http.js';
import { RegistryAuth, namedRegistryFor, type RegistryAccess } from './auth.js';
import { dockerHub } from './ref.js';

/** Every status: the registry client decides itself what is an error. */
export const everyStatus: readonly number[] = Array.from({ length: 500 }, (_, i) => i + 100);

export interface RegistryRequest extends Omit<HttpRequest, 'accept'> {
  /** Token scopes the request needs, e.g. `repository:team/app:pull`. */
  readonly scopes: readonly string[];
  /** Statuses that are answers, not errors (e.g. 404 for "absent"). */
  readonly accept?: readonly number[];
  /** False when the body is a stream that cannot be sent twice. @default true */
  readonly resendable?: boolean;
}

/** A client for one registry host; share it between calls to reuse tokens and connections. */
export class RegistryClient {
  /** `host[:port]` as references spell it. */
  readonly host: string;
  /** `registry <host>`, the server name in messages. */
  readonly server: string;
  readonly baseURL: string;
  readonly auth: RegistryAuth;
  readonly #api: HttpApi;
  #pinged: Promise<void> | undefined;

  constructor(host: string, access: RegistryAccess = {}) {
    this.host = host;
    this.server = `registry ${host}`;
    this.baseURL = registryBaseURL(host, access);
    this.auth = new RegistryAuth(host, access);
    this.#api = new HttpApi({ server: this.server, baseURL: this.baseURL, timeoutMs: access.timeoutMs ?? 60_000 });
  }

  /**
   * `GET /v2/` once: learns the authentication scheme from its 401 challenge.
   * @throws {ServerError} when the registry cannot be reached or is no v2 registry.
   */
  ping(): Promise<void> {
    this.#pinged ??= (async () => {
      const res = await this.#api.request<Buffer>('ping', { path: '/v2/', responseType: 'arraybuffer', accept: everyStatus });
      if (res.status === 401) {
        if (!this.auth.learn(res.headers['www-authenticate'])) {
          throw this.error('ping', res, 'asks for an authentication scheme other than Basic or Bearer');
        }
        return;
      }
      if (res.status !== 200) throw this.error('ping', res);
    })();
    this.#pinged.catch(() => {
      this.#pinged = undefined;
    });
    return this.#pinged;
  }

  /**
   * Send one request with authorization for its scopes.
   * @throws {ServerError} when the registry cannot be reached or answers a status not accepted.
   */
  async request<T = unknown>(operation: string, req: RegistryRequest): Promise<HttpResponse<T>> {
    await this.ping();
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.auth.header(req.scopes);
      const headers = { ...req.headers, ...(authorization === undefined ? {} : { Authorization: authorization }) };
      const res = await this.#api.request<T>(operation, { ...req, headers, accept: everyStatus });
      if (res.status >= 200 && res.status < 300) return res;
      if ((req.accept ?? []).includes(res.status)) return res;
      if (res.status === 401 && attempt === 0 && req.resendable !== false) {
        await drain(res.data);
        this.auth.forget(req.scopes);
        if (this.auth.learn(res.headers['www-authenticate'])) continue;
      }
      const creds = res.status === 401 || res.status === 403 ? await this.auth.credentials().catch(() => undefined) : undefined;
      const hint: [string, string][] =
        res.status === 401 || res.status === 403
          ? [
              [
                'Credentials',
                creds === undefined
                  ? `none found (set HASHISHIP_REGISTRY_<NAME>=${this.baseURL} with _USERNAME/_PASSWORD or _VAULT_PATH, or a docker config.json auths entry)`
                  : `from ${creds.source}`,
              ],
            ]
          : [];
      throw this.error(operation, { ...res, data: await readSome(res.data) }, undefined, hint);
    }
  }

  /**
   * The headers that authorize a request for `scopes` (empty for an anonymous
   * registry), for requests sent outside {@link request} (the blob pipe).
   */
  async authorization(scopes: readonly string[]): Promise<Record<string, string>> {
    await this.ping();
    const h = await this.auth.header(scopes);
    return h === undefined ? {} : { Authorization: h };
  }

  /** A {@link ServerError} for a registry answer, with its error codes. */
  error(operation: string, res: HttpResponse<unknown>, reason?: string, context: readonly (readonly [string, string])[] = []): ServerError {
    return new ServerError(this.server, operation, this.baseURL, reason ?? `${res.status} ${describeErrors(res.data)}`.trim(), {
      status: res.status,
      context,
    });
  }
}

/**
 * The base URL of a registry host: the URL of a `HASHISHIP_REGISTRY_<NAME>` pointing
 * at it; plain http for loopback hosts (`127.0.0.1`, `localhost`, `[::1]`), which is
 * how the dev stack's registries listen; https otherwise.
 */
export function registryBaseURL(host: string, access: RegistryAccess = {}): string {
  const named = namedRegistryFor(host, access);
  if (named !== undefined) return new URL(named.url).origin;
  if (host === dockerHub.name) return `https://${dockerHub.apiHost}`;
  const name = host.replace(/:\d+$/, '');
  const loopback = name === 'localhost' || /^127\./.test(name) || name === '[::1]';
  return `${loopback ? 'http' : 'https'}://${host}`;
}

/** Registry error documents: `CODE: message` joined, else a short body. */
export function describeErrors(data: unknown): string {
  let doc: unknown = data;
  if (Buffer.isBuffer(data)) doc = data.toString('utf8');
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch {
      return bodySnippet(doc);
    }
  }
  const errors = (doc as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(errors)) {
    return errors.map((e: { code?: unknown; message?: unknown }) => [e.code, e.message].filter((x) => typeof x === 'string' && x !== '').join(': ')).join('; ');
  }
  return doc === undefined || doc === '' ? '' : bodySnippet(doc);
}

function isStream(x: unknown): x is Readable {
  return typeof x === 'object' && x !== null && typeof (x as Readable).pipe === 'function' && typeof (x as Readable).on === 'function';
}

/** Read at most a few KB of a streamed error body, then let the connection go. */
export async function readSome(data: unknown, max = 4096): Promise<unknown> {
  if (!isStream(data)) return data;
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of data) {
      const b = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
      chunks.push(b);
      n += b.length;
      if (n >= max) break;
    }
  } catch {
    /* the body is only for the message */
  }
  data.destroy();
  return Buffer.concat(chunks);
}

/** Discard a response body. */
export async function drain(data: unknown): Promise<void> {
  if (isStream(data)) await readSome(data, 1 << 20);
}

/**
 * An area of the root registry client (`registries.manifests`, `registries.blobs`):
 * its methods take references and send each request to the host the reference names.
 */
export abstract class RegistryArea {
  /** @param hostClient the shared client of a registry host (the root client's). */
  constructor(protected readonly hostClient: (host: string) => RegistryClient) {}
}
