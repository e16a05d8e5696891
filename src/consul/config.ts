/**
 * Service configuration in Consul KV: the `config:` maps of an environment's
 * specs (jobs and external services) written to `config/<service>/<key>` with
 * check-and-set. Every write names the ModifyIndex it read (0: "must not exist"),
 * so a change made by someone else between hashiship's read and its write is
 * refused (exit 6), never overwritten.
 *
 * Ownership: keys hashiship writes carry {@link configFlags} of their environment in
 * their KV flags (the marker {@link CONFIG_FLAGS} and a tag of the environment name).
 * A sync deletes (with check-and-set) only flagged keys the spec no longer lists under
 * a listed service's prefix, and the keys it flagged for this environment under the
 * prefix of a service the specs no longer list at all; other keys stay.
 */
import { ServerError } from '../errors.js';
import { silent, type Logger } from '../log.js';
import type { ConsulKv } from './kv.js';
import { eachLimited } from './services.js';

/** The KV prefix under which service configuration lives. */
export const CONFIG_PREFIX = 'config';

/** KV flags marking a key written by hashiship ("hshp"). */
export const CONFIG_FLAGS = 0x68736870;

const EnvTagSpan = 0x10000;

/** FNV-1a of a string, 16 bits: the environment tag in a key's flags. */
function envTag(environment: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(environment, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return (h ^ (h >>> 16)) & 0xffff;
}

/** The KV flags hashiship writes on an environment's keys: the marker, then the environment's tag. */
export function configFlags(environment: string): number {
  return CONFIG_FLAGS * EnvTagSpan + envTag(environment);
}

/** Whether a key's flags say hashiship wrote it (for any environment, or before tags existed). */
export function writtenByHashiship(flags: number): boolean {
  return flags === CONFIG_FLAGS || Math.floor(flags / EnvTagSpan) === CONFIG_FLAGS;
}

/** The KV key of one configuration entry. */
export function configKey(service: string, key: string): string {
  return `${CONFIG_PREFIX}/${service}/${key}`;
}

/** One service's configuration as the environment's specs declare it. */
export interface ServiceConfig {
  readonly service: string;
  readonly config: Readonly<Record<string, string>>;
}

/** A key as read before the sync. */
export interface LiveKey {
  readonly key: string;
  readonly value: string;
  readonly modifyIndex: number;
  readonly flags: number;
}

/** One change of a config sync. */
export interface ConfigChange {
  readonly action: 'add' | 'update' | 'remove';
  readonly key: string;
  readonly service: string;
  /** The index the check-and-set names (0 for add). */
  readonly cas: number;
  readonly from?: string;
  readonly to?: string;
}

/** What a config sync found and (unless dry-run) did. */
export interface ConfigSyncResult {
  readonly changes: readonly ConfigChange[];
  readonly unchanged: readonly string[];
  readonly dryRun: boolean;
}

/**
 * Plan a config sync (pure): `live` holds every key under the services' prefixes, and
 * may hold other keys under `config/` (those of services no longer listed).
 */
export function planConfig(wanted: readonly ServiceConfig[], live: readonly LiveKey[], environment?: string): { changes: ConfigChange[]; unchanged: string[] } {
  const byKey = new Map(live.map((k) => [k.key, k]));
  const changes: ConfigChange[] = [];
  const unchanged: string[] = [];
  const want = new Set<string>();
  for (const s of wanted) {
    for (const [k, v] of Object.entries(s.config)) {
      const key = configKey(s.service, k);
      want.add(key);
      const l = byKey.get(key);
      if (l === undefined) changes.push({ action: 'add', key, service: s.service, cas: 0, to: v });
      else if (l.value !== v) changes.push({ action: 'update', key, service: s.service, cas: l.modifyIndex, from: l.value, to: v });
      else unchanged.push(key);
    }
  }
  const listed = new Set(wanted.map((s) => s.service));
  const mine = environment === undefined ? undefined : configFlags(environment);
  for (const l of live) {
    const service = l.key.slice(CONFIG_PREFIX.length + 1).split('/')[0] ?? '';
    if (!l.key.startsWith(`${CONFIG_PREFIX}/`) || service === '' || want.has(l.key) || !writtenByHashiship(l.flags)) continue;
    // A listed service's prefix is ours to tidy; another service's only for keys this environment wrote.
    if (listed.has(service) || (mine !== undefined && l.flags === mine)) {
      changes.push({ action: 'remove', key: l.key, service, cas: l.modifyIndex, from: l.value });
    }
  }
  changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { changes, unchanged: unchanged.sort() };
}

/** Options of {@link syncConfig}. */
export interface ConfigSyncOptions {
  /**
   * The environment synced: keys are flagged with it, and its keys under the prefix of
   * a service no longer in `wanted` are removed (needs read on `config/`; without it
   * only listed services are tidied).
   */
  readonly environment?: string;
  /** Compute and report the changes, write nothing. @default false */
  readonly dryRun?: boolean;
  /** Writes in flight at once. @default 16 */
  readonly concurrency?: number;
  readonly log?: Logger;
  /**
   * Called between the read and each write, for tests that change a key in
   * between (the write must then be refused).
   */
  readonly beforeWrite?: (change: ConfigChange) => Promise<void>;
}

/** Service configuration in Consul KV (`consul.serviceConfig`): `config/<service>/<key>`. */
export class ConsulServiceConfig {
  constructor(readonly kv: ConsulKv) {}

  /**
   * Every key under `config/<service>/` for these services.
   * @throws {ServerError} when Consul cannot be reached or refuses (ACL).
   */
  async read(services: readonly string[]): Promise<LiveKey[]> {
    const out: LiveKey[] = [];
    await eachLimited(services, 16, async (service) => {
      for (const e of await this.kv.list(`${CONFIG_PREFIX}/${service}/`)) out.push(liveKey(e));
    });
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  /**
   * Every key under `config/` the token may read (Consul leaves out the others); none
   * when it may read none there.
   * @throws {ServerError} when Consul cannot be reached.
   */
  async #readAll(): Promise<LiveKey[]> {
    try {
      return (await this.kv.list(`${CONFIG_PREFIX}/`)).map(liveKey);
    } catch (err) {
      if (err instanceof ServerError && err.status === 403) return [];
      throw err;
    }
  }

  /**
   * Make `config/<service>/…` match the specs, each write a check-and-set on the
   * index read.
   * @throws {GateError} (exit 6) when a key changed between the read and the write.
   * @throws {ServerError} (exit 2) when Consul cannot be reached or refuses.
   */
  async sync(wanted: readonly ServiceConfig[], opts: ConfigSyncOptions = {}): Promise<ConfigSyncResult> {
    const log = opts.log ?? silent;
    const live = await this.read(wanted.map((w) => w.service));
    if (opts.environment !== undefined) {
      const seen = new Set(live.map((k) => k.key));
      for (const k of await this.#readAll()) if (!seen.has(k.key)) live.push(k);
    }
    const { changes, unchanged } = planConfig(wanted, live, opts.environment);
    const flags = opts.environment === undefined ? CONFIG_FLAGS : configFlags(opts.environment);
    const dryRun = opts.dryRun === true;
    if (!dryRun) {
      await eachLimited(changes, opts.concurrency ?? 16, async (c) => {
        if (opts.beforeWrite !== undefined) await opts.beforeWrite(c);
        if (c.action === 'remove') await this.kv.deleteCas(c.key, c.cas, { log });
        else await this.kv.putCas(c.key, c.to ?? '', c.cas, { log, flags });
      });
    }
    return { changes, unchanged, dryRun };
  }
}

function liveKey(e: { readonly key: string; readonly value: string; readonly modifyIndex: number; readonly flags?: number }): LiveKey {
  return { key: e.key, value: e.value, modifyIndex: e.modifyIndex, flags: e.flags ?? 0 };
}

/** Plain lines for a config sync: `+ config/web/max_connections = 200`, then a count. */
export function describeConfigSync(r: ConfigSyncResult, environment: string): string[] {
  const lines = r.changes.map((c) =>
    c.action === 'add'
      ? `+ add ${c.key} = ${JSON.stringify(c.to)}`
      : c.action === 'update'
        ? `~ update ${c.key}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)} (cas ${c.cas})`
        : `- remove ${c.key} (was ${JSON.stringify(c.from)}, cas ${c.cas})`,
  );
  const n = r.changes.length;
  lines.push(
    `${r.dryRun ? 'would make' : 'made'} ${n} change${n === 1 ? '' : 's'} to configuration in ${environment}, ${r.unchanged.length} key${r.unchanged.length === 1 ? '' : 's'} unchanged`,
  );
  return lines;
}
