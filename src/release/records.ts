/**
 * Release records: the evidence a deployment leaves in Consul KV. The current
 * release of a service in an environment lives at
 * `hashiship/releases/<env>/<service>`; every release is also kept under
 * `hashiship/releases/<env>/<service>/history/<seq>` (zero-padded, never
 * rewritten), so a rollback finds the release before the current one. Writes use
 * check-and-set: the history entry must not exist yet (cas 0) and the current key
 * must still be at the index read, so two writers never lose a release.
 */
import type { Consul } from '../consul/index.js';
import { GateError } from '../errors.js';
import type { Logger } from '../log.js';

/** The KV prefix of every release record. */
export const ReleasesPrefix = 'hashiship/releases';

/** One image of a release, pinned by digest. */
export interface ReleaseImage {
  /** Repository as the spec names it (`team/sample`). */
  readonly repository: string;
  /** The registry it was deployed from (`127.0.0.1:5002`). */
  readonly registry: string;
  /** `sha256:…` of the manifest (or index) that ran. */
  readonly digest: string;
  /** The tag it was resolved from, when one was given. */
  readonly tag?: string;
}

/** What the health gate saw when the release was accepted. */
export interface HealthEvidence {
  readonly passing: number;
  readonly total: number;
  readonly at: string;
}

/** One smoke request and its answer. */
export interface SmokeEvidence {
  readonly name: string;
  readonly url: string;
  readonly status: number;
  readonly ok: boolean;
  readonly detail: string;
}

/** A release record (JSON in KV). */
export interface ReleaseRecord {
  readonly kind: 'hashiship.release';
  readonly version: 1;
  readonly service: string;
  readonly environment: string;
  /** Position in the history, from 1. */
  readonly seq: number;
  /** The images of the release; `digest` is the first one's. */
  readonly images: readonly ReleaseImage[];
  readonly digest: string;
  /** The Nomad job version that ran it. */
  readonly jobVersion: number;
  readonly build?: string;
  readonly commit?: string;
  /** ISO time the record was written (the end of the deployment). */
  readonly time: string;
  readonly health: HealthEvidence;
  readonly smoke: { readonly passed: boolean; readonly requests: readonly SmokeEvidence[] };
  /** How it got there. */
  readonly via: 'deploy' | 'promote' | 'rollback';
  /** For a promotion: the source environment's record. */
  readonly promotedFrom?: { readonly environment: string; readonly seq: number; readonly build?: string };
  /** For a rollback: the seq of the release it replaced. */
  readonly rolledBackFrom?: number;
}

/** The key of a service's current release. */
export function releaseKey(environment: string, service: string): string {
  return `${ReleasesPrefix}/${environment}/${service}`;
}

/** The key of one history entry (`…/history/000042`, so keys sort by seq). */
export function historyKey(environment: string, service: string, seq: number): string {
  return `${releaseKey(environment, service)}/history/${String(seq).padStart(6, '0')}`;
}

/** A record as read, with the ModifyIndex its replacement must name. */
export interface StoredRecord {
  readonly record: ReleaseRecord;
  readonly modifyIndex: number;
}

/**
 * Parse a record read from KV.
 * @throws {GateError} when the value is not a release record (someone wrote the key by hand).
 */
export function parseRecord(key: string, value: string): ReleaseRecord {
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    doc = undefined;
  }
  const r = doc as Partial<ReleaseRecord> | undefined;
  if (r?.kind !== 'hashiship.release' || r.version !== 1 || typeof r.digest !== 'string' || typeof r.seq !== 'number') {
    throw new GateError(`release record ${key} is not a hashiship release record`, {
      context: [
        ['Key', key],
        ['Suggestion', 'inspect it with `consul kv get`; hashiship writes these keys itself'],
      ],
    });
  }
  return r as ReleaseRecord;
}

/**
 * The current release of a service in an environment.
 * @returns undefined when the service has none there.
 * @throws {ServerError} when Consul cannot be reached; {@link GateError} for a malformed record.
 */
export async function readRelease(consul: Consul, environment: string, service: string): Promise<StoredRecord | undefined> {
  const key = releaseKey(environment, service);
  const e = await consul.kv.get(key);
  return e === undefined ? undefined : { record: parseRecord(key, e.value), modifyIndex: e.modifyIndex };
}

/**
 * Every release of a service in an environment, oldest first.
 * @throws {ServerError} when Consul cannot be reached.
 */
export async function releaseHistory(consul: Consul, environment: string, service: string): Promise<ReleaseRecord[]> {
  const prefix = `${releaseKey(environment, service)}/history/`;
  return (await consul.kv.list(prefix))
    .filter((i) => i.key.startsWith(prefix))
    .map((i) => parseRecord(i.key, i.value))
    .sort((a, b) => a.seq - b.seq);
}

/** The services that have a current release in an environment. */
export async function releasedServices(consul: Consul, environment: string): Promise<string[]> {
  const prefix = `${ReleasesPrefix}/${environment}/`;
  return (await consul.kv.keys(prefix, '/'))
    .map((k) => k.slice(prefix.length))
    .filter((k) => k !== '' && !k.endsWith('/'))
    .sort();
}

/** A record to write: everything but its place in the history. */
export type NewRecord = Omit<ReleaseRecord, 'kind' | 'version' | 'seq'>;

/**
 * Append a release: the history entry first (cas 0: that seq must be free), then
 * the current key with the index read (cas), so a concurrent writer loses with exit 6.
 * @param current the current record as read before the deployment (undefined: none).
 * @throws {GateError} (exit 6) when another release was written in between.
 * @throws {ServerError} when Consul cannot be reached.
 */
export async function writeRelease(consul: Consul, rec: NewRecord, opts: { readonly log?: Logger } = {}): Promise<ReleaseRecord> {
  const current = await readRelease(consul, rec.environment, rec.service);
  const seq = (current?.record.seq ?? 0) + 1;
  const record: ReleaseRecord = { kind: 'hashiship.release', version: 1, ...rec, seq } as ReleaseRecord;
  const text = JSON.stringify(record);
  await consul.kv.putCas(historyKey(rec.environment, rec.service, seq), text, 0, opts);
  await consul.kv.putCas(releaseKey(rec.environment, rec.service), text, current?.modifyIndex ?? 0, opts);
  return record;
}
