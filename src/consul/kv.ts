/**
 * Consul KV with check-and-set: every write names the index it read (0 = "must
 * not exist yet"), so a concurrent change is refused with a {@link GateError}
 * (exit 6) instead of being overwritten.
 */
import { GateError } from '../errors.js';
import { silent, type Logger } from '../log.js';
import type { ConsulClient } from './client.js';

/** A key as read: its value and the ModifyIndex a CAS write must name. */
export interface KvEntry {
  readonly key: string;
  readonly value: string;
  readonly modifyIndex: number;
  /** The key's flags, when a writer set any (hashiship marks its config keys). */
  readonly flags?: number;
}

/** Options of the KV writes. */
export interface KvOptions {
  readonly log?: Logger;
  /** Flags stored with a written key (hashiship marks the keys it owns). @default 0 */
  readonly flags?: number;
}

function checkKey(key: string): void {
  if (key === '' || key.startsWith('/')) throw new Error(`consul: kv: invalid key ${JSON.stringify(key)} (empty or leading /)`);
}

/** The KV store of one Consul (`consul.kv`), every write a check-and-set. */
export class ConsulKv {
  constructor(readonly client: ConsulClient) {}

  /**
   * Read one key.
   * @returns the entry, or undefined when the key does not exist.
   * @throws {ServerError} when Consul cannot be reached or answers an error.
   */
  async get(key: string): Promise<KvEntry | undefined> {
    checkKey(key);
    const item = await this.client.call(`kv.get ${key}`, (api) => api.kv.get({ key }));
    if (item === null || item === undefined || Array.isArray(item)) return undefined;
    return { key: item.Key, value: item.Value ?? '', modifyIndex: item.ModifyIndex, ...(item.Flags ? { flags: item.Flags } : {}) };
  }

  /**
   * Every key under `prefix` (a recursive read); none when nothing is there.
   * @throws {ServerError} when Consul cannot be reached or answers an error (403 included).
   */
  async list(prefix: string): Promise<KvEntry[]> {
    const items = (await this.client.call(`kv.get ${prefix} (recurse)`, (api) => api.kv.get({ key: prefix, recurse: true }))) as unknown;
    if (!Array.isArray(items)) return [];
    return (items as { Key: string; Value?: string | null; ModifyIndex: number; Flags?: number }[]).map((i) => ({
      key: i.Key,
      value: i.Value ?? '',
      modifyIndex: i.ModifyIndex,
      ...(i.Flags ? { flags: i.Flags } : {}),
    }));
  }

  /**
   * The key names under `prefix` up to the next `separator` (`GET /v1/kv/<prefix>?keys`).
   * @throws {ServerError} when Consul cannot be reached or answers an error.
   */
  async keys(prefix: string, separator?: string): Promise<string[]> {
    const keys = (await this.client.call('kv.keys', (api) => api.kv.keys({ key: prefix, ...(separator === undefined ? {} : { separator }) }))) as unknown;
    return Array.isArray(keys) ? (keys as string[]) : [];
  }

  /**
   * Write `value` to `key` only if the key's ModifyIndex is still `cas`
   * (0: only if the key does not exist).
   * @returns the entry as written (with its new ModifyIndex).
   * @throws {GateError} (exit 6) when the key changed since it was read.
   * @throws {ServerError} when Consul cannot be reached or answers an error.
   */
  async putCas(key: string, value: string, cas: number, opts: KvOptions = {}): Promise<KvEntry> {
    checkKey(key);
    if (!Number.isInteger(cas) || cas < 0) throw new Error(`consul: kv.set: cas must be an integer ≥ 0, got ${cas}`);
    const ok = await this.client.call(`kv.set ${key}`, (api) => api.kv.set({ key, value, cas, ...(opts.flags === undefined ? {} : { flags: opts.flags }) }));
    if (ok !== true) throw conflict(key, cas, 'write', await this.get(key));
    const written = await this.get(key);
    const entry = written ?? { key, value, modifyIndex: 0 };
    (opts.log ?? silent)({ kind: 'consul.kv', key, action: 'write', index: entry.modifyIndex });
    return entry;
  }

  /**
   * Delete `key` only if its ModifyIndex is still `cas`.
   * @throws {GateError} (exit 6) when the key changed since it was read.
   * @throws {ServerError} when Consul cannot be reached or answers an error.
   */
  async deleteCas(key: string, cas: number, opts: KvOptions = {}): Promise<void> {
    checkKey(key);
    if (!Number.isInteger(cas) || cas <= 0) throw new Error(`consul: kv.del: cas must be the key's ModifyIndex (> 0), got ${cas}`);
    const ok = await this.client.call(`kv.del ${key}`, (api) => api.kv.del({ key, cas }));
    if (ok !== true) throw conflict(key, cas, 'delete', await this.get(key));
    (opts.log ?? silent)({ kind: 'consul.kv', key, action: 'delete', index: cas });
  }

  /**
   * Read-modify-write one key with check-and-set. `change` gets the current value
   * (undefined when absent) and returns the new value, `null` to delete the key,
   * or the same value to leave it alone. A lost race is not retried: it is exit 6.
   * @returns the entry after the change, or undefined when the key is absent.
   * @throws {GateError} (exit 6) when another writer changed the key in between.
   */
  async update(key: string, change: (current: string | undefined) => string | null, opts: KvOptions = {}): Promise<KvEntry | undefined> {
    const current = await this.get(key);
    const next = change(current?.value);
    if (next === null) {
      if (current !== undefined) await this.deleteCas(key, current.modifyIndex, opts);
      return undefined;
    }
    if (current !== undefined && next === current.value) return current;
    return this.putCas(key, next, current?.modifyIndex ?? 0, opts);
  }
}

function conflict(key: string, cas: number, action: string, now: KvEntry | undefined): GateError {
  return new GateError(`consul: kv: ${key} changed since it was read; ${action} refused (check-and-set)`, {
    context: [
      ['Key', key],
      ['Expected index', cas === 0 ? '0 (key absent)' : String(cas)],
      ['Current index', now === undefined ? 'key absent' : String(now.modifyIndex)],
      ['Suggestion', 'read the key again, review the other change, and retry'],
    ],
  });
}
