/**
 * Manifests: GET, HEAD and PUT of Docker v2 schema 2 manifests, OCI image
 * manifests, OCI indexes and Docker manifest lists (multi-arch). A manifest is kept
 * as the exact bytes the registry served — its digest is the sha256 of those bytes,
 * so re-serialising would change it — beside a strictly validated typed view.
 */
import { createHash } from 'node:crypto';
import { InputError, type InputProblem } from '../errors.js';
import { repositoryScope } from './auth.js';
import { RegistryArea, type RegistryClient } from './client.js';
import { isDigest, manifestReference, toImageRef, type ImageRef } from './ref.js';

export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

const imageTypes: readonly string[] = [MediaType.dockerManifest, MediaType.ociManifest];
const indexTypes: readonly string[] = [MediaType.dockerManifestList, MediaType.ociIndex];

/** The `Accept` header of manifest requests: every type we parse. */
export const manifestAccept = [...indexTypes, ...imageTypes].join(', ');

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
}

/** A content descriptor: what a manifest points at. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A single-platform image: a config blob and its layers. */
export interface ImageManifest {
  readonly kind: 'image';
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  /** OCI referrers: the manifest this one is about. */
  readonly subject?: Descriptor;
}

/** A multi-platform index (OCI index or Docker manifest list). */
export interface IndexManifest {
  readonly kind: 'index';
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
}

export type Manifest = ImageManifest | IndexManifest;

/** A manifest with the exact bytes and digest it has in a registry. */
export interface RawManifest {
  readonly manifest: Manifest;
  readonly mediaType: string;
  readonly digest: string;
  readonly bytes: Buffer;
}

/** `sha256:<hex>` of some bytes. */
export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

class Problems {
  readonly list: InputProblem[] = [];
  add(path: string, message: string): void {
    this.list.push({ subject: path, message });
  }
  str(o: Record<string, unknown>, key: string, path: string, optional = false): string | undefined {
    const v = o[key];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v === '') {
      this.add(`${path}.${key}`, v === undefined ? 'missing' : 'expected a non-empty string');
      return undefined;
    }
    return v;
  }
}

function descriptor(x: unknown, path: string, p: Problems, withPlatform: boolean): Descriptor | undefined {
  if (!isObject(x)) {
    p.add(path, 'expected an object');
    return undefined;
  }
  const mediaType = p.str(x, 'mediaType', path);
  const digest = p.str(x, 'digest', path);
  if (digest !== undefined && !isDigest(digest)) p.add(`${path}.digest`, `expected sha256:<64 hex>, got ${JSON.stringify(digest)}`);
  const size = x['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) p.add(`${path}.size`, 'expected a non-negative integer');
  let platform: Platform | undefined;
  if (withPlatform && x['platform'] !== undefined) {
    const pl = x['platform'];
    if (!isObject(pl)) p.add(`${path}.platform`, 'expected an object');
    else {
      const architecture = p.str(pl, 'architecture', `${path}.platform`);
      const os = p.str(pl, 'os', `${path}.platform`);
      const variant = p.str(pl, 'variant', `${path}.platform`, true);
      if (architecture !== undefined && os !== undefined) platform = { architecture, os, ...(variant === undefined ? {} : { variant }) };
    }
  }
  const urls = x['urls'];
  if (urls !== undefined && (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string'))) p.add(`${path}.urls`, 'expected an array of strings');
  const annotations = x['annotations'];
  if (annotations !== undefined && (!isObject(annotations) || Object.values(annotations).some((v) => typeof v !== 'string'))) {
    p.add(`${path}.annotations`, 'expected an object of strings');
  }
  if (mediaType === undefined || digest === undefined || typeof size !== 'number') return undefined;
  return {
    mediaType,
    digest,
    size,
    ...(platform === undefined ? {} : { platform }),
    ...(Array.isArray(urls) ? { urls: urls as string[] } : {}),
    ...(isObject(annotations) ? { annotations: annotations as Record<string, string> } : {}),
  };
}

/**
 * Validate a manifest document. The media type comes from the document's
 * `mediaType`, else from the `Content-Type` it was served with.
 * @throws {InputError} listing every problem (`manifest.layers[2].digest: …`).
 */
export function parseManifest(bytes: Buffer, contentType?: string, subject = 'manifest'): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new InputError([{ subject, message: `not JSON (${(err as Error).message})` }]);
  }
  const p = new Problems();
  if (!isObject(doc)) throw new InputError([{ subject, message: 'expected a JSON object' }]);
  if (doc['schemaVersion'] !== 2) p.add(`${subject}.schemaVersion`, `expected 2, got ${JSON.stringify(doc['schemaVersion'])}`);
  const declared = doc['mediaType'];
  if (declared !== undefined && typeof declared !== 'string') p.add(`${subject}.mediaType`, 'expected a string');
  const served = contentType?.split(';')[0]?.trim();
  const mediaType =
    typeof declared === 'string'
      ? declared
      : served !== undefined && [...imageTypes, ...indexTypes].includes(served)
        ? served
        : Array.isArray(doc['manifests'])
          ? MediaType.ociIndex
          : MediaType.ociManifest;
  let manifest: Manifest | undefined;
  if (indexTypes.includes(mediaType)) {
    const list = doc['manifests'];
    if (!Array.isArray(list)) p.add(`${subject}.manifests`, 'expected an array');
    const manifests = (Array.isArray(list) ? list : []).map((m, i) => descriptor(m, `${subject}.manifests[${i}]`, p, true));
    manifest = { kind: 'index', mediaType, manifests: manifests.filter((m): m is Descriptor => m !== undefined) };
  } else if (imageTypes.includes(mediaType)) {
    const config = descriptor(doc['config'], `${subject}.config`, p, false);
    const list = doc['layers'];
    if (!Array.isArray(list)) p.add(`${subject}.layers`, 'expected an array');
    const layers = (Array.isArray(list) ? list : []).map((l, i) => descriptor(l, `${subject}.layers[${i}]`, p, false));
    const subj = doc['subject'] === undefined ? undefined : descriptor(doc['subject'], `${subject}.subject`, p, false);
    if (config !== undefined) {
      manifest = {
        kind: 'image',
        mediaType,
        config,
        layers: layers.filter((l): l is Descriptor => l !== undefined),
        ...(subj === undefined ? {} : { subject: subj }),
      };
    }
  } else {
    p.add(`${subject}.mediaType`, `unsupported ${JSON.stringify(mediaType)} (expected one of ${[...imageTypes, ...indexTypes].join(', ')})`);
  }
  if (p.list.length > 0 || manifest === undefined) {
    throw new InputError(p.list.length > 0 ? p.list : [{ subject, message: 'not a manifest' }]);
  }
  return manifest;
}

export interface ManifestHead {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
}

/**
 * GET a manifest by tag or digest, verifying its digest (against the reference when
 * it is a digest, else against `Docker-Content-Digest`).
 * @returns undefined when the registry does not know it (404).
 * @throws {ServerError} on any other failure, or when the bytes do not match the digest.
 */
export async function getManifest(client: RegistryClient, repository: string, reference: string): Promise<RawManifest | undefined> {
  const res = await client.request<Buffer>('manifests.get', {
    path: `/v2/${repository}/manifests/${reference}`,
    headers: { Accept: manifestAccept },
    responseType: 'arraybuffer',
    scopes: [repositoryScope(repository)],
    accept: [404],
  });
  if (res.status === 404) return undefined;
  const bytes = Buffer.isBuffer(res.data) ? res.data : Buffer.from(res.data as ArrayBuffer);
  const digest = sha256(bytes);
  const expected = isDigest(reference) ? reference : res.headers['docker-content-digest'];
  if (expected !== undefined && expected !== digest) {
    throw client.error('manifests.get', res, `${repository}:${reference}: served bytes hash to ${digest}, expected ${expected}`);
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(bytes, res.headers['content-type'], `${client.host}/${repository}@${digest}`);
  } catch (err) {
    throw client.error(
      'manifests.get',
      res,
      `${repository}:${reference}: invalid manifest: ${(err as Error).message}`,
      (err as InputError).problems?.map((p) => ['Problem', `${p.subject}: ${p.message}`] as const) ?? [],
    );
  }
  return { manifest, mediaType: manifest.mediaType, digest, bytes };
}

/**
 * HEAD a manifest: its digest, media type and size without the body.
 * @returns undefined when absent (404).
 */
export async function headManifest(client: RegistryClient, repository: string, reference: string): Promise<ManifestHead | undefined> {
  const res = await client.request<unknown>('manifests.head', {
    method: 'HEAD',
    path: `/v2/${repository}/manifests/${reference}`,
    headers: { Accept: manifestAccept },
    scopes: [repositoryScope(repository)],
    accept: [404],
  });
  if (res.status === 404) return undefined;
  const digest = res.headers['docker-content-digest'];
  if (digest === undefined || !isDigest(digest)) {
    // Without the header the digest needs the body.
    const full = await getManifest(client, repository, reference);
    return full === undefined ? undefined : { digest: full.digest, mediaType: full.mediaType, size: full.bytes.length };
  }
  return {
    digest,
    mediaType: (res.headers['content-type'] ?? '').split(';')[0]!.trim(),
    size: Number(res.headers['content-length'] ?? 0),
  };
}

/**
 * PUT a manifest under a tag or its digest, exactly as given.
 * @returns the digest the registry stored it under.
 * @throws {ServerError} when refused (e.g. `MANIFEST_BLOB_UNKNOWN`, an immutable tag),
 *   or when the registry reports a digest other than the bytes' own.
 */
export async function putManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  m: { readonly mediaType: string; readonly bytes: Buffer },
): Promise<string> {
  const res = await client.request<unknown>('manifests.put', {
    method: 'PUT',
    path: `/v2/${repository}/manifests/${reference}`,
    headers: { 'Content-Type': m.mediaType },
    data: m.bytes,
    scopes: [repositoryScope(repository, true)],
  });
  const digest = sha256(m.bytes);
  const stored = res.headers['docker-content-digest'];
  if (stored !== undefined && stored !== digest) {
    throw client.error('manifests.put', res, `${repository}:${reference}: registry stored ${stored}, the bytes hash to ${digest}`);
  }
  return digest;
}

/** Every blob an image manifest references: its config, then its layers. */
export function blobsOf(m: ImageManifest): readonly Descriptor[] {
  return [m.config, ...m.layers];
}

/**
 * The manifests area of the root registry client (`registries.manifests`): each
 * method takes an image reference and sends the request to the host it names,
 * through that host's shared client (tokens, connection).
 */
export class RegistryManifests extends RegistryArea {
  /**
   * GET the manifest `ref` names (by its digest, else its tag, else `latest`), verified
   * against its digest.
   * @returns undefined when the registry does not know it (404).
   * @throws {InputError} for a reference that does not follow the grammar (exit 1).
   * @throws {ServerError} on any other failure, or when the bytes do not match the digest.
   */
  async get(ref: ImageRef | string): Promise<RawManifest | undefined> {
    const r = toImageRef(ref);
    return getManifest(this.hostClient(r.registry), r.repository, manifestReference(r));
  }

  /**
   * HEAD the manifest `ref` names: its digest, media type and size.
   * @returns undefined when absent (404).
   * @throws {InputError} for a reference that does not follow the grammar (exit 1).
   * @throws {ServerError} when the registry fails.
   */
  async head(ref: ImageRef | string): Promise<ManifestHead | undefined> {
    const r = toImageRef(ref);
    return headManifest(this.hostClient(r.registry), r.repository, manifestReference(r));
  }

  /**
   * PUT a manifest, exactly as given, under the reference's tag, else its digest, else
   * the digest of the bytes.
   * @returns the digest the registry stored it under.
   * @throws {InputError} for a reference that does not follow the grammar (exit 1).
   * @throws {ServerError} as {@link putManifest}.
   */
  async put(ref: ImageRef | string, m: { readonly mediaType: string; readonly bytes: Buffer }): Promise<string> {
    const r = toImageRef(ref);
    return putManifest(this.hostClient(r.registry), r.repository, r.tag ?? r.digest ?? sha256(m.bytes), m);
  }
}
