/**
 * Copy an image by digest from one registry/repository to another.
 *
 * Order of work, so that a failure at any point leaves the destination tag as it
 * was: resolve the source digest → check the destination tag (same digest: done;
 * another digest: refused unless forced) → copy each blob the destination lacks
 * (HEAD first; mounted when both repositories live in one registry; otherwise
 * streamed from source to destination, its sha256 verified on the way) → push
 * child manifests by digest → push the top manifest under the tag → read the tag
 * back and compare digests.
 */
import { pipeline } from 'node:stream/promises';
import { GateError, InputError, ServerError } from '../errors.js';
import { silent } from '../log.js';
import { repositoryScope } from './auth.js';
import { DigestVerifier, getBlob, headBlob, putBlob, startUpload, type UploadSession } from './blobs.js';
import type { RegistryClient } from './client.js';
import { blobsOf, getManifest, headManifest, putManifest, type Descriptor, type RawManifest } from './manifests.js';
import { canPipe, pipeBlob } from './pipe.js';
import type { RegistryCallOptions } from './registries.js';
import { formatImageRef, manifestReference, toImageRef, type ImageRef } from './ref.js';
import { mapLimit } from '../concurrency.js';

export interface CopyOptions extends RegistryCallOptions {
  /**
   * Overwrite a destination tag that points to another digest. Without it such a
   * copy is refused with a {@link GateError} (exit 6) before anything is written.
   * @default false
   */
  readonly force?: boolean;
  /** Blobs transferred at the same time. @default 4 */
  readonly concurrency?: number;
  /**
   * Between two plain-http registries, pipe blobs through raw sockets (`pipe.ts`,
   * a third of the CPU); false sends them through axios like every other request.
   * @default true
   */
  readonly socketPipe?: boolean;
  /** Interval of `heartbeat` events while blobs are copied. @default 30000 */
  readonly heartbeatMs?: number;
}

export interface CopyResult {
  /** The image's digest, equal in source and destination. */
  readonly digest: string;
  readonly mediaType: string;
  readonly source: string;
  /** `registry/repository@digest` of the copy. */
  readonly destination: string;
  readonly blobs: {
    /** Streamed from source to destination. */
    readonly copied: number;
    /** Mounted from the source repository (same registry): no bytes sent. */
    readonly mounted: number;
    /** Already present at the destination. */
    readonly skipped: number;
  };
  /** Blob bytes sent to the destination. */
  readonly bytes: number;
  /** Manifests written (children and the top one) and those already there. */
  readonly manifests: { readonly pushed: number; readonly skipped: number };
  /** The destination tag and what happened to it; undefined when `to` names no tag. */
  readonly tagged:
    | {
        readonly tag: string;
        /** `created`: new tag; `unchanged`: it already pointed at the digest; `overwritten`: forced over another digest. */
        readonly action: 'created' | 'unchanged' | 'overwritten';
        /** The digest it pointed at before, when overwritten. */
        readonly previous?: string;
      }
    | undefined;
}

/** HEADs and mounts in flight at once: metadata requests, no blob bytes. */
const metadataConcurrency = 16;

/**
 * Resolve a reference to its manifest digest (a tag through the registry; a
 * reference with a digest is checked to exist).
 * @throws {ServerError} when the image does not exist (status 404) or the registry fails.
 */
export async function resolveDigest(ref: ImageRef | string, opts: RegistryCallOptions): Promise<string> {
  const r = toImageRef(ref);
  const client = opts.clients.host(r.registry);
  const head = await headManifest(client, r.repository, manifestReference(r));
  if (head === undefined) throw notFound(client, r);
  return head.digest;
}

function notFound(client: RegistryClient, r: ImageRef): ServerError {
  return new ServerError(client.server, 'manifests.get', client.baseURL, `image ${formatImageRef(r)} not found`, { status: 404 });
}

/** The manifests of an image, children before their index, and its unique blobs. */
async function collect(client: RegistryClient, repository: string, root: RawManifest): Promise<{ manifests: RawManifest[]; blobs: Descriptor[] }> {
  const manifests: RawManifest[] = [];
  const blobs = new Map<string, Descriptor>();
  const visit = async (m: RawManifest, depth: number): Promise<void> => {
    if (m.manifest.kind === 'image') {
      for (const b of blobsOf(m.manifest)) if (!blobs.has(b.digest)) blobs.set(b.digest, b);
    } else {
      if (depth > 4) throw client.error('manifests.get', { status: 200, data: '', headers: {} }, `${repository}@${m.digest}: indexes nested deeper than 4`);
      const children = await mapLimit(m.manifest.manifests, 8, async (d) => {
        const child = await getManifest(client, repository, d.digest);
        if (child === undefined) {
          throw new ServerError(
            client.server,
            'manifests.get',
            client.baseURL,
            `${repository}@${m.digest} lists ${d.digest}, which the registry does not have`,
            { status: 404 },
          );
        }
        return child;
      });
      for (const c of children) await visit(c, depth + 1);
    }
    manifests.push(m);
  };
  await visit(root, 0);
  return { manifests, blobs: [...blobs.values()] };
}

/**
 * Copy an image by digest. Only blobs the destination lacks are sent; each is
 * streamed and its sha256 verified while streaming. Child manifests are pushed by
 * digest before the index, the tag last, and the destination digest is read back.
 *
 * A destination tag that already points at the source digest is success with
 * nothing written (immutable-tag registries); one pointing at another digest is
 * refused unless `force`.
 *
 * @param from source, e.g. `127.0.0.1:5001/team/app:42` or `…@sha256:…`
 * @param to destination, e.g. `127.0.0.1:5002/team/app:42`; with a digest it must be the source's
 * @throws {InputError} for a bad reference, or a destination digest other than the source's (exit 1).
 * @throws {GateError} when the destination tag points at another digest and `force` is not set (exit 6).
 * @throws {ServerError} when a registry fails, the source image is missing, or a blob is corrupt (exit 2).
 */
export async function copyImage(from: ImageRef | string, to: ImageRef | string, opts: CopyOptions): Promise<CopyResult> {
  const started = Date.now();
  const src = toImageRef(from, 'source');
  const dst = toImageRef(to, 'destination');
  const log = opts.log ?? silent;
  const s = opts.clients.host(src.registry);
  const d = opts.clients.host(dst.registry);
  const dstName = `${dst.registry}/${dst.repository}`;

  const root = await getManifest(s, src.repository, manifestReference(src));
  if (root === undefined) throw notFound(s, src);
  if (dst.digest !== undefined && dst.digest !== root.digest) {
    throw new InputError([
      { subject: `destination ${JSON.stringify(formatImageRef(dst))}`, message: `names digest ${dst.digest} but the source is ${root.digest}` },
    ]);
  }
  const result = (partial: Omit<CopyResult, 'digest' | 'mediaType' | 'source' | 'destination'>): CopyResult => {
    const r: CopyResult = {
      digest: root.digest,
      mediaType: root.mediaType,
      source: formatImageRef(src),
      destination: `${dstName}@${root.digest}`,
      ...partial,
    };
    log({
      kind: 'registry.copy',
      source: r.source,
      destination: formatImageRef({ ...dst, digest: root.digest }),
      digest: r.digest,
      bytes: r.bytes,
      seconds: (Date.now() - started) / 1000,
    });
    return r;
  };

  // The tag rule first: a refusal writes nothing.
  let previous: string | undefined;
  if (dst.tag !== undefined) {
    const existing = await headManifest(d, dst.repository, dst.tag);
    if (existing !== undefined && existing.digest === root.digest) {
      return result({
        blobs: { copied: 0, mounted: 0, skipped: 0 },
        bytes: 0,
        manifests: { pushed: 0, skipped: 0 },
        tagged: { tag: dst.tag, action: 'unchanged' },
      });
    }
    if (existing !== undefined && opts.force !== true) {
      throw new GateError(`registry: ${dstName}:${dst.tag} already points at another image`, {
        context: [
          ['Destination', `${dstName}:${dst.tag}`],
          ['Existing digest', existing.digest],
          ['Source digest', `${root.digest} (${formatImageRef(src)})`],
          ['Suggestion', 'tags are not moved silently: use a new tag, or --force (force: true) to overwrite'],
        ],
      });
    }
    previous = existing?.digest;
  }

  const { manifests, blobs } = await collect(s, src.repository, root);
  const sameRegistry = s === d;
  const counts = { copied: 0, mounted: 0, skipped: 0 };
  let bytes = 0;
  // Largest first: the transfers in flight finish closer together.
  const bySize = [...blobs].sort((x, y) => y.size - x.size);
  const total = blobs.reduce((n, b) => n + b.size, 0);
  // A line at least every 30 s while blobs move (CI kills a job silent for 10 minutes).
  const beat = setInterval(() => {
    const done = counts.copied + counts.mounted + counts.skipped;
    log({
      kind: 'heartbeat',
      waitingFor: `copy to ${dstName}: ${done} of ${blobs.length} blobs, ${bytes} of ${total} bytes`,
      seconds: (Date.now() - started) / 1000,
    });
  }, opts.heartbeatMs ?? 30_000);
  beat.unref();
  try {
    // Metadata first, many at a time: what the destination has, then what mounts.
    const have = await mapLimit(bySize, metadataConcurrency, (b) => headBlob(d, dst.repository, b.digest));
    const missing: Descriptor[] = [];
    bySize.forEach((b, i) => {
      if (have[i] === b.size) {
        counts.skipped++;
        log({ kind: 'registry.blob', repository: dstName, digest: b.digest, size: b.size, action: 'skipped' });
      } else missing.push(b);
    });
    const sessions = new Map<string, Promise<UploadSession>>();
    if (sameRegistry && src.repository !== dst.repository) {
      await mapLimit(missing, metadataConcurrency, async (b) => {
        const m = await startUpload(d, dst.repository, { digest: b.digest, from: src.repository });
        if (m.mounted) {
          counts.mounted++;
          log({ kind: 'registry.blob', repository: dstName, digest: b.digest, size: b.size, action: 'mounted' });
        } else sessions.set(b.digest, Promise.resolve(m.session));
      });
    }
    const transfers = sameRegistry && src.repository !== dst.repository ? missing.filter((b) => sessions.has(b.digest)) : missing;
    await mapLimit(transfers, opts.concurrency ?? 4, async (b) => {
      // A new session is opened while the source GET starts (the socket pipe waits for it).
      let session = sessions.get(b.digest);
      if (session === undefined) {
        session = startUpload(d, dst.repository).then((m) => {
          if (m.mounted) throw new Error('unreachable: a plain upload start cannot mount');
          return m.session;
        });
        session.catch(() => {});
      }
      await transferBlob(s, src.repository, d, dst.repository, session, b, opts.socketPipe !== false);
      counts.copied++;
      bytes += b.size;
      log({ kind: 'registry.blob', repository: dstName, digest: b.digest, size: b.size, action: 'copied' });
    });
  } finally {
    clearInterval(beat);
  }

  // Children by digest (they must exist before an index that lists them), then the top one.
  const pushed = { pushed: 0, skipped: 0 };
  const pushManifest = async (m: RawManifest): Promise<void> => {
    const isRoot = m === root;
    const reference = isRoot ? (dst.tag ?? m.digest) : m.digest;
    if (!isRoot || dst.tag === undefined) {
      const have = await headManifest(d, dst.repository, m.digest);
      if (have !== undefined && have.digest === m.digest) {
        pushed.skipped++;
        log({ kind: 'registry.manifest', repository: dstName, reference, digest: m.digest, action: 'skipped' });
        return;
      }
    }
    await putManifest(d, dst.repository, reference, m);
    pushed.pushed++;
    log({ kind: 'registry.manifest', repository: dstName, reference, digest: m.digest, action: 'pushed' });
  };
  const children = manifests.filter((m) => m !== root);
  if (children.every((m) => m.manifest.kind === 'image')) await mapLimit(children, metadataConcurrency, pushManifest);
  else for (const m of children) await pushManifest(m); // nested indexes: in order, children first
  await pushManifest(root);

  // Read the destination back: it must be the very image that was copied.
  const check = await headManifest(d, dst.repository, dst.tag ?? root.digest);
  if (check?.digest !== root.digest) {
    throw new ServerError(
      d.server,
      'copy.verify',
      d.baseURL,
      `${dstName}:${dst.tag ?? root.digest} resolves to ${check?.digest ?? 'nothing'} after the copy, expected ${root.digest}`,
    );
  }
  return result({
    blobs: counts,
    bytes,
    manifests: pushed,
    tagged:
      dst.tag === undefined
        ? undefined
        : { tag: dst.tag, action: previous === undefined ? 'created' : 'overwritten', ...(previous === undefined ? {} : { previous }) },
  });
}

/**
 * Stream one blob from source to destination: through the socket pipe between two
 * plain-http registries, else through axios and a {@link DigestVerifier}.
 */
async function transferBlob(
  s: RegistryClient,
  srcRepo: string,
  d: RegistryClient,
  dstRepo: string,
  opening: Promise<UploadSession>,
  b: Descriptor,
  socketPipe: boolean,
): Promise<void> {
  if (socketPipe && canPipe(s.baseURL, d.baseURL)) {
    const dest = Promise.all([opening, d.authorization([repositoryScope(dstRepo, true)])]).then(([session, headers]) => {
      const url = new URL(session.location, d.baseURL);
      url.searchParams.set('digest', b.digest);
      return { url, headers, server: d.server };
    });
    dest.catch(() => {});
    let source = { url: new URL(`/v2/${srcRepo}/blobs/${b.digest}`, s.baseURL), headers: await s.authorization([repositoryScope(srcRepo)]), server: s.server };
    for (let hops = 0; hops < 4; hops++) {
      const piped = await pipeBlob({ source, dest, digest: b.digest, size: b.size, origin: `${s.host}/${srcRepo}` });
      if (piped === 'done') return;
      if (piped === 'fallback' || piped.redirect.protocol !== 'http:') break;
      // The registry's storage: its URL carries its own authorization, never the registry's.
      source = { url: piped.redirect, headers: {}, server: `${s.server} storage` };
    }
  }
  const session = await opening;
  const { stream } = await getBlob(s, srcRepo, b.digest);
  const verifier = new DigestVerifier(b.digest, b.size, `${s.host}/${srcRepo}`);
  const piping = pipeline(stream, verifier).catch(() => undefined);
  try {
    await putBlob(d, dstRepo, session, b.digest, verifier, b.size);
  } catch (err) {
    stream.destroy();
    verifier.destroy();
    throw verifier.failure ?? err;
  } finally {
    await piping;
  }
  if (verifier.failure !== undefined) throw verifier.failure;
}
