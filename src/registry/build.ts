/**
 * Build and push images through the registry API (there is no Docker engine on
 * these machines): real tar.gz layers from files (a minimal ustar writer and
 * node's zlib), an image config with the layers' diff IDs, one manifest per
 * platform, and an OCI index (or Docker manifest list) when there are several.
 * Equal inputs give equal digests: entries are sorted, times are the epoch.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { randomFill } from 'node:crypto';
import { createGunzip, createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { InputError } from '../errors.js';
import { silent } from '../log.js';
import { digestOf, headBlob, putBlob, startUpload, uploadChunked } from './blobs.js';
import type { RegistryCallOptions } from './registries.js';
import { MediaType, putManifest, sha256, type Platform } from './manifests.js';
import { formatImageRef, toImageRef, type ImageRef } from './ref.js';

/** A file in a layer: its contents, or contents and mode. */
export type LayerFile = string | Buffer | { readonly contents: string | Buffer; readonly mode?: number };

/**
 * A layer: files to pack (`{ files: { 'app/server.js': '…' } }`), a ready tar.gz
 * as bytes, or a tar.gz file on disk (`{ path }`, streamed in chunks, never read whole).
 */
export type LayerInput = { readonly files: Readonly<Record<string, LayerFile>> } | Buffer | { readonly path: string };

/** The runtime part of an image config (`config` in the image JSON). */
export interface ImageRuntimeConfig {
  readonly Env?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly Entrypoint?: readonly string[];
  readonly WorkingDir?: string;
  readonly User?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>;
}

export interface PlatformImage extends Platform {
  readonly layers: readonly LayerInput[];
  readonly config?: ImageRuntimeConfig;
}

export interface PushImageOptions extends RegistryCallOptions {
  /** One entry per platform; several make an index. */
  readonly platforms: readonly PlatformImage[];
  /** OCI media types, or Docker v2 schema 2 and manifest list. @default "oci" */
  readonly format?: 'oci' | 'docker';
  /** Push an index even for one platform. @default false (one platform → one manifest) */
  readonly index?: boolean;
  /** Chunk size for layers read from files (`{ path }`). @default 8 MiB */
  readonly chunkSize?: number;
}

export interface PushResult {
  /** Digest of the top manifest (the index when there is one). */
  readonly digest: string;
  readonly mediaType: string;
  /** `registry/repository@digest`. */
  readonly reference: string;
  /** Per platform: its manifest digest and layer digests. */
  readonly platforms: readonly { readonly platform: Platform; readonly digest: string; readonly layers: readonly string[]; readonly config: string }[];
  /** Blob bytes uploaded (blobs already present are not sent again). */
  readonly bytes: number;
}

// --- tar -------------------------------------------------------------------

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** A 512-byte ustar header. */
function tarHeader(name: string, size: number, mode: number, type: '0' | '5'): Buffer {
  const h = Buffer.alloc(512);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 1 - (name.endsWith('/') ? 1 : 0));
    prefix = cut > 0 ? name.slice(0, cut) : '';
    base = cut > 0 ? name.slice(cut + 1) : name;
    if (Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155 || prefix === '') {
      throw new InputError([
        { subject: `layer file ${JSON.stringify(name)}`, message: 'path too long for a ustar header (name ≤ 100 bytes, directory ≤ 155)' },
      ]);
    }
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii'); // uid
  h.write(octal(0, 8), 116, 8, 'ascii'); // gid
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(0, 12), 136, 12, 'ascii'); // mtime: the epoch, for reproducible digests
  h.write('        ', 148, 8, 'ascii'); // checksum placeholder: spaces
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

function cleanPath(p: string): string {
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  if (parts.length === 0 || parts.includes('..')) {
    throw new InputError([{ subject: `layer file ${JSON.stringify(p)}`, message: 'expected a relative path without ".." components' }]);
  }
  return parts.join('/');
}

/**
 * A tar archive (ustar) of `files`: parent directories first (mode 0755), files
 * with mode 0644 unless given, sorted by path, owned by root, mtime 0.
 * @throws {InputError} for an absolute or `..` path, or one too long for ustar.
 */
export function tarFiles(files: Readonly<Record<string, LayerFile>>): Buffer {
  const entries = Object.entries(files).map(([p, f]) => {
    const contents = typeof f === 'string' || Buffer.isBuffer(f) ? f : f.contents;
    const mode = typeof f === 'object' && !Buffer.isBuffer(f) && f.mode !== undefined ? f.mode : 0o644;
    return { path: cleanPath(p), data: Buffer.isBuffer(contents) ? contents : Buffer.from(contents, 'utf8'), mode };
  });
  const dirs = new Set<string>();
  for (const e of entries) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`${parts.slice(0, i).join('/')}/`);
  }
  const out: Buffer[] = [];
  const all = [...[...dirs].map((d) => ({ path: d, data: undefined, mode: 0o755 })), ...entries].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
  );
  for (const e of all) {
    if (e.data === undefined) out.push(tarHeader(e.path, 0, e.mode, '5'));
    else out.push(tarHeader(e.path, e.data.length, e.mode, '0'), e.data, padding(e.data.length));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

/**
 * Write a tar.gz layer holding one file of `size` random (incompressible) bytes,
 * streamed to disk, for tests and benchmarks of large images. gzip level 0 keeps
 * it fast: random bytes do not compress anyway.
 */
export async function writeRandomLayer(path: string, size: number, name = 'data.bin'): Promise<void> {
  const fill = promisify(randomFill);
  const chunk = 1 << 20;
  async function* tar(): AsyncGenerator<Buffer> {
    yield tarHeader(name, size, 0o644, '0');
    let left = size;
    while (left > 0) {
      const b = Buffer.allocUnsafe(Math.min(chunk, left));
      await fill(b);
      left -= b.length;
      yield b;
    }
    yield padding(size);
    yield Buffer.alloc(1024);
  }
  await pipeline(Readable.from(tar()), createGzip({ level: 0 }), createWriteStream(path));
}

// --- push ------------------------------------------------------------------

interface PreparedLayer {
  readonly digest: string;
  readonly size: number;
  readonly diffId: string;
  readonly body: Buffer | { readonly path: string };
}

async function prepareLayer(l: LayerInput): Promise<PreparedLayer> {
  if (Buffer.isBuffer(l)) {
    let tar: Buffer;
    try {
      tar = gunzipSync(l);
    } catch (err) {
      throw new InputError([{ subject: 'layer', message: `not gzip data (${(err as Error).message})` }]);
    }
    return { digest: sha256(l), size: l.length, diffId: sha256(tar), body: l };
  }
  if ('path' in l) {
    const [gz, tar] = await Promise.all([digestOf(createReadStream(l.path)), digestOf(createReadStream(l.path).pipe(createGunzip()))]);
    return { digest: gz.digest, size: gz.size, diffId: tar.digest, body: { path: l.path } };
  }
  const tar = tarFiles(l.files);
  const gz = gzipSync(tar);
  return { digest: sha256(gz), size: gz.length, diffId: sha256(tar), body: gz };
}

/**
 * Build an image and push it: layers and config blobs (those missing only),
 * each platform's manifest by digest, then the index (several platforms) or the
 * manifest under the reference's tag.
 *
 * @param ref where to push, e.g. `127.0.0.1:5001/team/app:42` (no tag: pushed by digest only)
 * @throws {InputError} for a bad reference, no platforms, or a bad layer (exit 1).
 * @throws {ServerError} when the registry refuses or cannot be reached (exit 2).
 */
export async function pushImage(ref: ImageRef | string, opts: PushImageOptions): Promise<PushResult> {
  const r = toImageRef(ref, 'image');
  if (r.digest !== undefined)
    throw new InputError([{ subject: `image ${JSON.stringify(formatImageRef(r))}`, message: 'push to a tag (the digest is computed)' }]);
  if (opts.platforms.length === 0) throw new InputError([{ subject: 'platforms', message: 'expected at least one platform' }]);
  const log = opts.log ?? silent;
  const client = opts.clients.host(r.registry);
  const name = `${r.registry}/${r.repository}`;
  const oci = (opts.format ?? 'oci') === 'oci';
  const types = oci
    ? { manifest: MediaType.ociManifest, config: MediaType.ociConfig, layer: MediaType.ociLayer, index: MediaType.ociIndex }
    : { manifest: MediaType.dockerManifest, config: MediaType.dockerConfig, layer: MediaType.dockerLayer, index: MediaType.dockerManifestList };
  let bytes = 0;

  const upload = async (digest: string, size: number, body: Buffer | { readonly path: string }) => {
    if ((await headBlob(client, r.repository, digest)) === size) {
      log({ kind: 'registry.blob', repository: name, digest, size, action: 'skipped' });
      return;
    }
    const start = await startUpload(client, r.repository);
    if (start.mounted) return;
    if (Buffer.isBuffer(body)) await putBlob(client, r.repository, start.session, digest, body, size);
    else await uploadChunked(client, r.repository, start.session, digest, createReadStream(body.path), opts.chunkSize);
    bytes += size;
    log({ kind: 'registry.blob', repository: name, digest, size, action: 'pushed' });
  };

  const single = opts.platforms.length === 1 && opts.index !== true;
  const platforms: { platform: Platform; digest: string; layers: string[]; config: string; bytes: Buffer }[] = [];
  for (const p of opts.platforms) {
    const layers: PreparedLayer[] = [];
    for (const l of p.layers) layers.push(await prepareLayer(l));
    const platform: Platform = { architecture: p.architecture, os: p.os, ...(p.variant === undefined ? {} : { variant: p.variant }) };
    const config = Buffer.from(
      JSON.stringify({
        architecture: p.architecture,
        os: p.os,
        ...(p.variant === undefined ? {} : { variant: p.variant }),
        created: '1970-01-01T00:00:00Z',
        config: p.config ?? {},
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      }),
    );
    const configDigest = sha256(config);
    for (const l of layers) await upload(l.digest, l.size, l.body);
    await upload(configDigest, config.length, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: types.manifest,
        config: { mediaType: types.config, digest: configDigest, size: config.length },
        layers: layers.map((l) => ({ mediaType: types.layer, digest: l.digest, size: l.size })),
      }),
    );
    const digest = sha256(manifest);
    if (!single) {
      await putManifest(client, r.repository, digest, { mediaType: types.manifest, bytes: manifest });
      log({ kind: 'registry.manifest', repository: name, reference: digest, digest, action: 'pushed' });
    }
    platforms.push({ platform, digest, layers: layers.map((l) => l.digest), config: configDigest, bytes: manifest });
  }

  const top = single
    ? { mediaType: types.manifest, bytes: platforms[0]!.bytes }
    : {
        mediaType: types.index,
        bytes: Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: types.index,
            manifests: platforms.map((p) => ({ mediaType: types.manifest, digest: p.digest, size: p.bytes.length, platform: p.platform })),
          }),
        ),
      };
  const digest = sha256(top.bytes);
  await putManifest(client, r.repository, r.tag ?? digest, top);
  log({ kind: 'registry.manifest', repository: name, reference: r.tag ?? digest, digest, action: 'pushed' });
  return {
    digest,
    mediaType: top.mediaType,
    reference: `${name}@${digest}`,
    platforms: platforms.map(({ platform, digest: d, layers, config }) => ({ platform, digest: d, layers, config })),
    bytes,
  };
}
