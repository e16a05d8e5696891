/**
 * Image references as Docker spells them: `[registry/]repository[:tag][@digest]`,
 * e.g. `127.0.0.1:5001/team/sample:42` or `…/sample@sha256:<64 hex>`. Parsing is
 * strict (distribution's reference grammar) and every problem is an
 * {@link InputError} (exit 1) naming the reference and what was expected.
 */
import { InputError } from '../errors.js';

/** A parsed image reference. */
export interface ImageRef {
  /** `host[:port]`; `docker.io` when the reference names none. */
  readonly registry: string;
  /** Repository path inside the registry, e.g. `team/sample` (`library/x` on Docker Hub). */
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<64 hex>`. */
  readonly digest?: string;
}

/** Docker Hub's name in references, and the host its API is served from. */
export const dockerHub = { name: 'docker.io', apiHost: 'registry-1.docker.io' } as const;

const component = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const hostPattern = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/;
/** The only digest algorithm we can verify. */
export const sha256Digest = /^sha256:[a-f0-9]{64}$/;

/** True when `s` is a `sha256:<64 lowercase hex>` digest. */
export function isDigest(s: string): boolean {
  return sha256Digest.test(s);
}

/**
 * Parse an image reference.
 * @param subject what to call the input in an error (a flag or argument name). @default "image reference"
 * @throws {InputError} when the reference does not follow the grammar (exit 1).
 */
export function parseImageRef(input: string, subject = 'image reference'): ImageRef {
  const fail = (message: string): never => {
    throw new InputError([{ subject: `${subject} ${JSON.stringify(input)}`, message }]);
  };
  if (input.trim() !== input || input === '') fail('expected [registry/]repository[:tag][@sha256:<64 hex>]');
  if (input.includes('://')) fail('a reference has no scheme (expected e.g. 127.0.0.1:5001/team/app:1)');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) fail(`digest ${JSON.stringify(digest)}: expected sha256: followed by 64 lowercase hex digits`);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) fail(`tag ${JSON.stringify(tag)}: expected up to 128 of [A-Za-z0-9_.-], not starting with . or -`);
  }
  const parts = rest.split('/');
  let registry: string = dockerHub.name;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    registry = first;
    parts.shift();
    if (!hostPattern.test(registry)) fail(`registry ${JSON.stringify(registry)}: expected host[:port]`);
  }
  if (parts.length === 0 || parts.some((p) => p === '')) fail('empty repository path component');
  for (const p of parts) {
    if (!component.test(p)) fail(`repository component ${JSON.stringify(p)}: expected lowercase letters and digits separated by ".", "_", "__" or "-"`);
  }
  if (registry === dockerHub.name && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (repository.length > 255) fail('repository longer than 255 characters');
  return {
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** Format a reference back: `registry/repository[:tag][@digest]`. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** Accept either a parsed reference or a string to parse. */
export function toImageRef(ref: ImageRef | string, subject?: string): ImageRef {
  return typeof ref === 'string' ? parseImageRef(ref, subject) : ref;
}

/** The reference a manifest request uses: the digest when there is one, else the tag, else `latest`. */
export function manifestReference(ref: ImageRef): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/**
 * A reference that names a blob: `registry/repository@sha256:…` (a tag, if any, is
 * ignored).
 * @throws {InputError} when it names no digest, or does not follow the grammar (exit 1).
 */
export function blobRef(ref: ImageRef | string): ImageRef & { readonly digest: string } {
  const r = toImageRef(ref, 'blob reference');
  if (r.digest === undefined) {
    throw new InputError([{ subject: `blob reference ${JSON.stringify(formatImageRef(r))}`, message: 'expected registry/repository@sha256:<64 hex>' }]);
  }
  return { registry: r.registry, repository: r.repository, digest: r.digest };
}
