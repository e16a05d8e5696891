/**
 * Service configuration in Consul KV: the `config:` maps of an environment's
 * specs (jobs and external services) written to `config/<service>/<key>` with
 * check-and-set. Every write names the ModifyIndex it read (0: "must not exist"),
 * so a change made by someone else between hashiship's read and its write is
 * refused (exit 6), never overwritten.
 *
 * Ownership: keys hashiship writes carry {@link CONFIG_FLAGS} in their KV flags;
 * a sync deletes (with check-and-set) only flagged keys the spec no longer lists
 * under a service's prefix, and leaves other keys there alone.
 */
import type { ConsulConfig } from '../config/index.js';
import { silent, type Logger } from '../log.js';
import { consulCall, createConsul, type ConsulApi } from './client.js';
import { eachLimited } from './services.js';
import { kvDeleteCas, kvPutCas } from './kv.js';

/** The KV prefix under which service configuration lives. */
export const CONFIG_PREFIX = 'config';

/** KV flags marking a key written by hashiship ("hshp"). */
export const CONFIG_FLAGS = 0x68736870;

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

/** Plan a config sync (pure): `live` holds every key under the services' prefixes. */
export function planConfig(wanted: readonly ServiceConfig[], live: readonly LiveKey[]): { changes: ConfigChange[]; unchanged: string[] } {
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
  for (const s of wanted) {
    const prefix = `${CONFIG_PREFIX}/${s.service}/`;
    for (const l of live) {
      if (!l.key.startsWith(prefix) || want.has(l.key) || l.flags !== CONFIG_FLAGS) continue;
      changes.push({ action: 'remove', key: l.key, service: s.service, cas: l.modifyIndex, from: l.value });
    }
  }
  changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { changes, unchanged: unchanged.sort() };
}

/** Options of {@link syncConfig}. */
export interface ConfigSyncOptions {
  /** Compute and report the changes, write nothing. @default false */
  readonly dryRun?: boolean;
  /** Writes in flight at once. @default 16 */
  readonly concurrency?: number;
  readonly consul?: ConsulApi;
  readonly log?: Logger;
  /**
   * Called between the read and each write, for tests that change a key in
   * between (the write must then be refused).
   */
  readonly beforeWrite?: (change: ConfigChange) => Promise<void>;
}

/**
 * Every key under `config/<service>/` for these services.
 * @throws {ServerError} when Consul cannot be reached or refuses (ACL).
 */
export async function readConfig(config: ConsulConfig, services: readonly string[], consul: ConsulApi = createConsul(config)): Promise<LiveKey[]> {
  const out: LiveKey[] = [];
  await eachLimited(services, 16, async (service) => {
    const prefix = `${CONFIG_PREFIX}/${service}/`;
    const items = (await consulCall(config, `kv.get ${prefix} (recurse)`, () => consul.kv.get({ key: prefix, recurse: true }))) as unknown;
    if (!Array.isArray(items)) return;
    for (const i of items as { Key: string; Value?: string | null; ModifyIndex: number; Flags?: number }[]) {
      out.push({ key: i.Key, value: i.Value ?? '', modifyIndex: i.ModifyIndex, flags: i.Flags ?? 0 });
    }
  });
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

/**
 * Make `config/<service>/…` match the specs, each write a check-and-set on the
 * index read.
 * @throws {GateError} (exit 6) when a key changed between the read and the write.
 * @throws {ServerError} (exit 2) when Consul cannot be reached or refuses.
 */
export async function syncConfig(config: ConsulConfig, wanted: readonly ServiceConfig[], opts: ConfigSyncOptions = {}): Promise<ConfigSyncResult> {
  const consul = opts.consul ?? createConsul(config);
  const log = opts.log ?? silent;
  const live = await readConfig(config, wanted.map((w) => w.service), consul);
  const { changes, unchanged } = planConfig(wanted, live);
  const dryRun = opts.dryRun === true;
  if (!dryRun) {
    await eachLimited(changes, opts.concurrency ?? 16, async (c) => {
      if (opts.beforeWrite !== undefined) await opts.beforeWrite(c);
      if (c.action === 'remove') await kvDeleteCas(config, c.key, c.cas, { consul, log });
      else await kvPutCas(config, c.key, c.to ?? '', c.cas, { consul, log, flags: CONFIG_FLAGS });
    });
  }
  return { changes, unchanged, dryRun };
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
  lines.push(`${r.dryRun ? 'would make' : 'made'} ${n} change${n === 1 ? '' : 's'} to configuration in ${environment}, ${r.unchanged.length} key${r.unchanged.length === 1 ? '' : 's'} unchanged`);
  return lines;
}
