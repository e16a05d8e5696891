/**
 * Vault KV secrets, version 1 and 2, by their logical path (`secret/billing/stripe`,
 * as `vault kv get` takes it). The mount and its version come from
 * `sys/internal/ui/mounts/<path>` (any token may ask), or are given. Reads return
 * the key/value map; writes exist for bootstrap runbooks only (`hashiship secrets
 * put`) — deploys never write secrets. Values are never logged or put in an error.
 */
import { GateError, InputError, ServerError } from '../errors.js';
import type { VaultClient } from './client.js';

/** A KV mount and where a logical path lands in it. */
export interface KvLocation {
  /** Mount path without the trailing slash, e.g. `secret`. */
  readonly mount: string;
  readonly version: 1 | 2;
  /** The path below the mount, e.g. `billing/stripe`. */
  readonly key: string;
  /** The API path to read and write: `secret/data/billing/stripe` (v2) or `kv/billing/stripe` (v1). */
  readonly dataPath: string;
  /** The v2 metadata path (`secret/metadata/billing/stripe`); absent for v1. */
  readonly metadataPath?: string;
}

/** Options of the KV requests. */
export interface KvOptions {
  /** Skip detection: the mount path and its version. */
  readonly mount?: { readonly path: string; readonly version: 1 | 2 };
}

/** A secret as read: its keys and values, and the v2 version. */
export interface KvSecret {
  readonly location: KvLocation;
  readonly data: Readonly<Record<string, unknown>>;
  /** KV v2 version number. */
  readonly version?: number;
}

function clean(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/** The location of `path` in a mount of known version (pure). A v2 path may carry its `data/` segment. */
export function kvLocation(path: string, mount: string, version: 1 | 2): KvLocation {
  const p = clean(path);
  const m = clean(mount);
  if (p !== m && !p.startsWith(`${m}/`)) throw new InputError([{ subject: path, message: `not under the mount ${m}/` }]);
  let key = p.slice(m.length + 1);
  if (version === 2 && /^(data|metadata)\//.test(key)) key = key.slice(key.indexOf('/') + 1);
  if (key === '') throw new InputError([{ subject: path, message: 'names a mount, not a secret' }]);
  return version === 2
    ? { mount: m, version, key, dataPath: `${m}/data/${key}`, metadataPath: `${m}/metadata/${key}` }
    : { mount: m, version, key, dataPath: `${m}/${key}` };
}

/** Options of {@link VaultKv.write}. */
export interface KvWriteOptions extends KvOptions {
  /** KV v2 check-and-set: the current version (0: only if absent). A mismatch is exit 6. */
  readonly cas?: number;
}

/** KV secrets of one Vault (`vault.kv`), by logical path. */
export class VaultKv {
  constructor(readonly client: VaultClient) {}

  /**
   * Find the KV mount of a logical path and its version.
   * @throws {InputError} when the path is not on a KV mount; {@link ServerError} / GateError as {@link vaultCall}.
   */
  async locate(path: string, opts: KvOptions = {}): Promise<KvLocation> {
    if (opts.mount !== undefined) return kvLocation(path, opts.mount.path, opts.mount.version);
    const p = clean(path);
    let res: { data?: { path?: string; type?: string; options?: { version?: string } | null } };
    try {
      res = (await this.client.call('mounts.lookup', `sys/internal/ui/mounts/${p}`, (api) => api.read(`sys/internal/ui/mounts/${p}`))) as typeof res;
    } catch (err) {
      // Vault answers 403 for a path under no mount, as for one the token may not see.
      if (err instanceof GateError || (err instanceof ServerError && err.status === 400)) {
        throw new GateError(`vault: no KV mount at ${p} that this token may use (no secrets engine mounted there, or no policy grants it)`, {
          context: [
            ['Path', p],
            ['Suggestion', 'check the mount (vault secrets list) and the token policies, or pass the mount with --mount'],
          ],
        });
      }
      throw err;
    }
    const d = res.data ?? {};
    if (d.type !== 'kv' && d.type !== 'generic') {
      throw new InputError([{ subject: path, message: `the mount ${d.path ?? '?'} is a ${d.type ?? 'unknown'} engine, not KV` }]);
    }
    return kvLocation(p, d.path ?? '', d.options?.version === '2' ? 2 : 1);
  }

  /**
   * Read a KV secret; undefined when it does not exist (or its latest v2 version is deleted).
   * @throws GateError (exit 6) when the token may not read it; {@link ServerError} (exit 2) otherwise.
   */
  async read(path: string, opts: KvOptions = {}): Promise<KvSecret | undefined> {
    const location = await this.locate(path, opts);
    let res: { data?: Record<string, unknown> | null } | undefined;
    try {
      res = (await this.client.call('kv.read', location.dataPath, (api) => api.read(location.dataPath))) as typeof res;
    } catch (err) {
      if (err instanceof ServerError && err.status === 404) return undefined;
      throw err;
    }
    if (location.version === 1) return res?.data === null || res?.data === undefined ? undefined : { location, data: res.data };
    const data = res?.data?.['data'] as Record<string, unknown> | null | undefined;
    const meta = res?.data?.['metadata'] as { version?: number } | undefined;
    if (data === null || data === undefined) return undefined;
    return { location, data, ...(meta?.version === undefined ? {} : { version: meta.version }) };
  }

  /**
   * Write (replace) a KV secret. For bootstrap runbooks; deploys never write secrets.
   * @returns the new v2 version (undefined for v1).
   * @throws {InputError} for an empty secret or `cas` on a v1 mount; GateError (exit 6)
   *   when denied or when the check-and-set version does not match; {@link ServerError} otherwise.
   */
  async write(path: string, data: Readonly<Record<string, unknown>>, opts: KvWriteOptions = {}): Promise<{ location: KvLocation; version?: number }> {
    if (Object.keys(data).length === 0) throw new InputError([{ subject: path, message: 'nothing to write: the secret has no keys' }]);
    const location = await this.locate(path, opts);
    if (location.version === 1) {
      if (opts.cas !== undefined) throw new InputError([{ subject: '--cas', message: `${location.mount}/ is a KV version 1 mount: no check-and-set` }]);
      await this.client.call('kv.write', location.dataPath, (api) => api.write(location.dataPath, data));
      return { location };
    }
    const body = { data, ...(opts.cas === undefined ? {} : { options: { cas: opts.cas } }) };
    let res: { data?: { version?: number } };
    try {
      res = (await this.client.call('kv.write', location.dataPath, (api) => api.write(location.dataPath, body))) as typeof res;
    } catch (err) {
      if (opts.cas !== undefined && err instanceof ServerError && err.status === 400 && /check-and-set/i.test(err.message)) {
        throw new GateError(`vault: kv.write: ${location.dataPath} changed: its version is not ${opts.cas} (check-and-set); nothing was written`, {
          context: [['Path', location.dataPath]],
        });
      }
      throw err;
    }
    return { location, ...(res.data?.version === undefined ? {} : { version: res.data.version }) };
  }

  /**
   * Delete a KV secret: every version and its metadata on v2. Absent is fine.
   * @throws GateError when denied; {@link ServerError} otherwise.
   */
  async delete(path: string, opts: KvOptions = {}): Promise<void> {
    const location = await this.locate(path, opts);
    const target = location.metadataPath ?? location.dataPath;
    await this.client.call('kv.delete', target, (api) => api.delete(target));
  }
}
