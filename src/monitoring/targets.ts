/**
 * Prometheus file-based discovery from Consul's catalog, for Prometheus builds
 * without Consul service discovery — Debian's `prometheus` package is one (it is
 * built with Consul SD disabled). hashiship reads the catalog and writes one
 * `file_sd` JSON file per scrape job, mapping services to targets exactly as the
 * `consul_sd_configs` relabelling of {@link prometheusConfig} does; Prometheus
 * re-reads the files when they change. Run it periodically (a systemd timer or a
 * Nomad periodic job) to follow the cluster.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Consul } from '../consul/index.js';
import { ports } from '../agents/layout.js';
import { prometheusJobs, type PrometheusOptions } from './prometheus.js';

/** One service instance from `/v1/catalog/service/<name>`, the fields used here. */
export interface CatalogEntry {
  readonly Node: string;
  readonly Address: string;
  readonly Datacenter?: string;
  readonly ServiceName: string;
  readonly ServiceAddress?: string;
  readonly ServicePort: number;
  readonly ServiceTags?: readonly string[] | null;
  readonly ServiceMeta?: Readonly<Record<string, string>> | null;
}

/** A Prometheus file_sd target group. */
export interface TargetGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export type PrometheusJob = (typeof prometheusJobs)[number];

/**
 * Map Consul's catalog (service name → instances) to target groups per job.
 * Pure: the same rules as the consul_sd relabelling.
 */
export function targetGroups(catalog: Readonly<Record<string, readonly CatalogEntry[]>>, o: PrometheusOptions = {}): Record<PrometheusJob, TargetGroup[]> {
  const https = o.tls !== undefined;
  const tag = o.serviceTag ?? 'metrics';
  const consulPort = https ? ports.consulHttps : (o.consulHttpPort ?? ports.consulHttp);
  const out: Record<PrometheusJob, TargetGroup[]> = { consul: [], 'nomad-servers': [], 'nomad-clients': [], vault: [], fabio: [], services: [] };
  const base = (e: CatalogEntry) => ({ node: e.Node, ...(e.Datacenter === undefined ? {} : { datacenter: e.Datacenter }) });
  const serviceAddr = (e: CatalogEntry) => `${e.ServiceAddress !== undefined && e.ServiceAddress !== '' ? e.ServiceAddress : e.Address}:${e.ServicePort}`;
  const agents = new Map<string, CatalogEntry>();
  for (const name of Object.keys(catalog).sort()) {
    for (const e of catalog[name] ?? []) {
      const tags = e.ServiceTags ?? [];
      agents.set(e.Node, agents.get(e.Node) ?? e);
      if (name === 'nomad' && tags.includes('http')) out['nomad-servers'].push({ targets: [serviceAddr(e)], labels: base(e) });
      if (name === 'nomad-client' && tags.includes('http')) out['nomad-clients'].push({ targets: [serviceAddr(e)], labels: base(e) });
      if (name === 'vault') out.vault.push({ targets: [serviceAddr(e)], labels: base(e) });
      if (name === 'fabio') out.fabio.push({ targets: [`${e.Address}:${o.fabioMetricsPort ?? ports.fabioMetrics}`], labels: base(e) });
      if (tags.includes(tag)) {
        const meta = e.ServiceMeta ?? {};
        out.services.push({
          targets: [serviceAddr(e)],
          labels: {
            service: name,
            ...base(e),
            ...(meta['metrics_path'] === undefined ? {} : { __metrics_path__: meta['metrics_path'] }),
            ...(meta['metrics_scheme'] === 'http' || meta['metrics_scheme'] === 'https' ? { __scheme__: meta['metrics_scheme'] } : {}),
          },
        });
      }
    }
  }
  // One Consul agent per node, whatever services it holds.
  for (const [node, e] of [...agents].sort(([a], [b]) => a.localeCompare(b))) {
    out.consul.push({ targets: [`${e.Address}:${consulPort}`], labels: { ...base(e), instance: node } });
  }
  return out;
}

/**
 * Read every service of Consul's catalog (`/v1/catalog/services`, then each
 * service's instances).
 * @throws {ServerError} when Consul cannot be reached or refuses.
 */
export async function readCatalog(consul: Consul, datacenter?: string): Promise<Record<string, CatalogEntry[]>> {
  const dc = datacenter === undefined ? {} : { dc: datacenter };
  const names = await consul.client.call('catalog.service.list', (api) => api.catalog.service.list(dc));
  const out: Record<string, CatalogEntry[]> = {};
  for (const name of Object.keys(names)) {
    const nodes: unknown = await consul.client.call('catalog.service.nodes', (api) => api.catalog.service.nodes({ service: name, ...dc }));
    out[name] = (Array.isArray(nodes) ? nodes : []).filter(isEntry);
  }
  return out;
}

function isEntry(v: unknown): v is CatalogEntry {
  const e = v as Partial<CatalogEntry> | null;
  return e !== null && typeof e === 'object' && typeof e.Node === 'string' && typeof e.Address === 'string' && typeof e.ServicePort === 'number';
}

/** Write `<dir>/<job>.json` for every job, each replaced atomically. Returns the paths. */
export async function writeTargetFiles(dir: string, groups: Readonly<Record<PrometheusJob, readonly TargetGroup[]>>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const job of prometheusJobs) {
    const path = join(dir, `${job}.json`);
    await writeFile(`${path}.tmp`, `${JSON.stringify(groups[job], null, 2)}\n`);
    await rename(`${path}.tmp`, path);
    written.push(path);
  }
  return written;
}
