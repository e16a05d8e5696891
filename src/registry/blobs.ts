/**
 * Blobs: HEAD, streamed GET, uploads (monolithic PUT, chunked POST → PATCH… → PUT
 * `?digest=`) and cross-repository mounts within one registry. Bodies are streams:
 * a layer is never held in memory, and {@link DigestVerifier} hashes what passes
 * through, holding back the last chunk until the digest is confirmed, so a corrupt
 * blob never reaches a destination whole (and the registry, given `?digest=`,
 * refuses it anyway).
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { ServerError } from '../errors.js';
import { repositoryScope } from './auth.js';
import { HttpApi, bodySnippet } from '../http.js';
import { drain, everyStatus, readSome, RegistryArea, type RegistryClient } from './client.js';
import { blobRef, type ImageRef } from './ref.js';

/**
 * HEAD a blob.
 * @returns its size, or undefined when the repository does not hold it.
 */
export async function headBlob(client: RegistryClient, repository: string, digest: string): Promise<number | undefined> {
  const res = await client.request<unknown>('blobs.head', {
    method: 'HEAD',
    path: `/v2/${repository}/blobs/${digest}`,
    scopes: [repositoryScope(repository)],
    accept: [404],
  });
  if (res.status === 404) return undefined;
  return Number(res.headers['content-length'] ?? 0);
}

/** Statuses with which a registry sends a blob GET to its storage (S3, a CDN). */
const redirects: readonly number[] = [301, 302, 303, 307, 308];

/**
 * GET a blob as a stream (follow it with a {@link DigestVerifier}). A redirect to
 * the registry's storage is followed without the registry's Authorization header
 * (the storage URL carries its own signature).
 * @throws {ServerError} when absent (404 BLOB_UNKNOWN), unreachable, or the storage fails.
 */
export async function getBlob(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<{ readonly stream: Readable; readonly size: number | undefined }> {
  const res = await client.request<Readable>('blobs.get', {
    path: `/v2/${repository}/blobs/${digest}`,
    scopes: [repositoryScope(repository)],
    responseType: 'stream',
    accept: redirects,
  });
  if (!redirects.includes(res.status)) return { stream: res.data, size: contentLength(res.headers) };
  await drain(res.data);
  const target = res.headers['location'];
  if (target === undefined || target === '') throw client.error('blobs.get', res, `${res.status} without a Location header`);
  const url = new URL(target, client.baseURL);
  const storage = new HttpApi({ server: `${client.server} storage`, baseURL: url.origin, timeoutMs: 60_000 });
  const answer = await storage.request<Readable>('blobs.get', { path: `${url.pathname}${url.search}`, responseType: 'stream', accept: everyStatus });
  if (answer.status !== 200) {
    const body = await readSome(answer.data);
    throw new ServerError(storage.server, 'blobs.get', url.origin, `${answer.status} for ${digest}${body === undefined ? '' : `: ${bodySnippet(body)}`}`, {
      status: answer.status,
    });
  }
  return { stream: answer.data, size: contentLength(answer.headers) };
}

function contentLength(headers: Readonly<Record<string, string | undefined>>): number | undefined {
  const len = headers['content-length'];
  return len === undefined ? undefined : Number(len);
}

/** An upload session: where to send the next request. */
export interface UploadSession {
  readonly location: string;
}

/** The outcome of a start that asked for a mount. */
export type StartResult = { readonly mounted: true } | { readonly mounted: false; readonly session: UploadSession };

function location(client: RegistryClient, header: string | undefined, operation: string): string {
  if (header === undefined || header === '') {
    throw new ServerError(client.server, operation, client.baseURL, 'answered without a Location header');
  }
  if (!/^https?:\/\//i.test(header)) return header.startsWith('/') ? header : `/${header}`;
  const u = new URL(header);
  return u.origin === new URL(client.baseURL).origin ? `${u.pathname}${u.search}` : header;
}

/**
 * Start an upload (`POST /v2/<repo>/blobs/uploads/`); with `mount`, ask the
 * registry to mount the blob from another repository instead (201 = mounted,
 * 202 = it could not, upload into the session it opened).
 */
export async function startUpload(
  client: RegistryClient,
  repository: string,
  mount?: { readonly digest: string; readonly from: string },
): Promise<StartResult> {
  const scopes = [repositoryScope(repository, true), ...(mount === undefined ? [] : [repositoryScope(mount.from)])];
  const res = await client.request<unknown>(mount === undefined ? 'blobs.upload.start' : 'blobs.mount', {
    method: 'POST',
    path: `/v2/${repository}/blobs/uploads/`,
    params: mount === undefined ? {} : { mount: mount.digest, from: mount.from },
    headers: { 'Content-Length': '0' },
    scopes,
  });
  if (res.status === 201 && mount !== undefined) return { mounted: true };
  if (res.status !== 202) throw client.error('blobs.upload.start', res, `unexpected status ${res.status} (expected 202 Accepted)`);
  return { mounted: false, session: { location: location(client, res.headers['location'], 'blobs.upload.start') } };
}

/** A body to upload: bytes, or a stream with its length. */
export type BlobBody = Buffer | Readable;

/**
 * Finish an upload with the whole body in one PUT (`?digest=`).
 * @param size the body's length, sent as Content-Length.
 * @throws {ServerError} when refused (e.g. 400 DIGEST_INVALID for a body that does not match).
 */
export async function putBlob(client: RegistryClient, repository: string, session: UploadSession, digest: string, body: BlobBody, size: number): Promise<void> {
  await client.request<unknown>('blobs.upload', {
    method: 'PUT',
    path: session.location,
    params: { digest },
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
    data: body,
    scopes: [repositoryScope(repository, true)],
    resendable: Buffer.isBuffer(body),
    timeoutMs: 300_000,
  });
}

/**
 * Upload in chunks: each of at most `chunkSize` bytes is a PATCH with its
 * `Content-Range`, following the `Location` each answer gives; a final empty PUT
 * `?digest=` closes the upload. Only one chunk is in memory at a time.
 * @default chunkSize 8 MiB
 * @returns the bytes sent.
 */
export async function uploadChunked(
  client: RegistryClient,
  repository: string,
  session: UploadSession,
  digest: string,
  body: Readable,
  chunkSize = 8 << 20,
): Promise<number> {
  let loc = session.location;
  let offset = 0;
  const scopes = [repositoryScope(repository, true)];
  const send = async (chunk: Buffer) => {
    const res = await client.request<unknown>('blobs.upload.chunk', {
      method: 'PATCH',
      path: loc,
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(chunk.length),
        'Content-Range': `${offset}-${offset + chunk.length - 1}`,
      },
      data: chunk,
      scopes,
      timeoutMs: 300_000,
    });
    loc = location(client, res.headers['location'], 'blobs.upload.chunk');
    offset += chunk.length;
  };
  let parts: Buffer[] = [];
  let have = 0;
  for await (const c of body) {
    let b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    while (b.length > 0) {
      const take = Math.min(b.length, chunkSize - have);
      parts.push(b.subarray(0, take));
      have += take;
      b = b.subarray(take);
      if (have === chunkSize) {
        await send(Buffer.concat(parts, have));
        parts = [];
        have = 0;
      }
    }
  }
  if (have > 0) await send(Buffer.concat(parts, have));
  await client.request<unknown>('blobs.upload.finish', {
    method: 'PUT',
    path: loc,
    params: { digest },
    headers: { 'Content-Length': '0' },
    scopes,
  });
  return offset;
}

/**
 * The blobs area of the root registry client (`registries.blobs`): each method takes
 * a reference naming a blob (`registry/repository@sha256:…`) and sends the request to
 * the host it names, through that host's shared client (tokens, connection).
 */
export class RegistryBlobs extends RegistryArea {
  /**
   * HEAD a blob.
   * @returns its size, or undefined when the repository does not hold it.
   * @throws {InputError} for a reference without a digest (exit 1).
   */
  async head(ref: ImageRef | string): Promise<number | undefined> {
    const r = blobRef(ref);
    return headBlob(this.hostClient(r.registry), r.repository, r.digest);
  }

  /**
   * GET a blob as a stream (follow it with a {@link DigestVerifier}).
   * @throws {InputError} for a reference without a digest (exit 1).
   * @throws {ServerError} as {@link getBlob}.
   */
  async get(ref: ImageRef | string): Promise<{ readonly stream: Readable; readonly size: number | undefined }> {
    const r = blobRef(ref);
    return getBlob(this.hostClient(r.registry), r.repository, r.digest);
  }
}

/**
 * A pass-through stream that hashes what flows and fails, naming the blob, when the
 * content does not hash to `digest` or has another length than `size`. The last
 * chunk is released only once the digest is confirmed.
 */
export class DigestVerifier extends Transform {
  readonly digest: string;
  readonly size: number | undefined;
  /** Where the content came from, for the message. */
  readonly origin: string;
  /** Set when verification failed; the stream errors with it. */
  failure: ServerError | undefined;
  #hash: Hash = createHash('sha256');
  #held: Buffer | undefined;
  #bytes = 0;

  constructor(digest: string, size: number | undefined, origin: string) {
    super();
    this.digest = digest;
    this.size = size;
    this.origin = origin;
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.#bytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    const prev = this.#held;
    this.#held = chunk;
    if (this.size !== undefined && this.#bytes > this.size) {
      cb(this.#fail(`more than the ${this.size} bytes its descriptor declares`));
      return;
    }
    cb(null, prev);
  }

  override _flush(cb: TransformCallback): void {
    const got = `sha256:${this.#hash.digest('hex')}`;
    if (this.size !== undefined && this.#bytes !== this.size) {
      cb(this.#fail(`${this.#bytes} bytes, its descriptor declares ${this.size}`));
      return;
    }
    if (got !== this.digest) {
      cb(this.#fail(`content hashes to ${got}`));
      return;
    }
    cb(null, this.#held);
  }

  #fail(what: string): ServerError {
    this.failure = corruptBlob(this.origin, this.digest, what);
    return this.failure;
  }
}

/** The error for a blob whose content does not match its descriptor; `origin` is `host/repository`. */
export function corruptBlob(origin: string, digest: string, what: string): ServerError {
  const [server, ...rest] = origin.split('/');
  return new ServerError(`registry ${server}`, 'blobs.verify', origin, `blob ${digest} in ${rest.join('/')} is corrupt: ${what}`, {
    context: [['Blob', digest]],
  });
}

/** Hash a stream: its sha256 digest and length. */
export async function digestOf(stream: Readable): Promise<{ readonly digest: string; readonly size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of stream) {
    const b = c as Buffer;
    h.update(b);
    size += b.length;
  }
  return { digest: `sha256:${h.digest('hex')}`, size };
}
