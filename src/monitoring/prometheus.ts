/**
 * Prometheus configuration for a hashiship cluster. Every target comes from Consul
 * service discovery: Consul agents (one per node), Nomad servers and clients (the
 * `nomad` and `nomad-client` services Nomad registers), Vault (the `vault` service
 * its service registration creates), Fabio, and any service tagged `metrics`.
 * Credentials are referenced as files, never embedded.
 */
import { stringify } from 'yaml';
import { ports } from '../agents/layout.js';
import { InputError, type InputProblem } from '../errors.js';

export interface PrometheusOptions {
  /** The Consul agent Prometheus discovers through, `host:port`. @default "127.0.0.1:8500" */
  readonly consulAddress?: string;
  /** Scheme of `consulAddress`. @default "http" */
  readonly consulScheme?: 'http' | 'https';
  /** Consul datacenter to discover in. @default the agent's own */
  readonly datacenter?: string;
  /**
   * The agents serve HTTPS (hashiship's `tls` option): scrape Consul on its HTTPS
   * port and Nomad and Vault with https, trusting this CA.
   */
  readonly tls?: { readonly caFile: string; readonly certFile?: string; readonly keyFile?: string };
  /**
   * A file holding a Consul ACL token with `service:read`, `node:read` and
   * `agent:read` (hashiship's `acl` option); used for discovery and Consul's
   * metrics. Nomad and Vault metrics need no token.
   */
  readonly consulTokenFile?: string;
  /** @default "15s" (Consul keeps metrics for 60 s) */
  readonly scrapeInterval?: string;
  /** Consul services with this tag are scraped at their address. @default "metrics" */
  readonly serviceTag?: string;
  /** Consul's plain HTTP port, scraped when `tls` is unset. @default 8500 */
  readonly consulHttpPort?: number;
  /** Fabio's Prometheus listener. @default 9102 */
  readonly fabioMetricsPort?: number;
  /**
   * How Prometheus finds targets: `consul` (consul_sd_configs, for Prometheus
   * builds with Consul discovery) or `file` (file_sd_configs reading `<dir>/<job>.json`,
   * written from Consul's catalog by `hashiship agent-config prometheus-targets`;
   * for builds without it, such as Debian's). @default { kind: "consul" }
   */
  readonly discovery?: { readonly kind: 'consul' } | { readonly kind: 'file'; readonly dir: string };
}

/** The scrape jobs, in order. */
export const prometheusJobs = ['consul', 'nomad-servers', 'nomad-clients', 'vault', 'fabio', 'services'] as const;

type Yaml = Record<string, unknown>;

/**
 * Build `prometheus.yml`.
 * @throws {InputError} for malformed options.
 */
export function prometheusConfig(o: PrometheusOptions = {}): string {
  const problems: InputProblem[] = [];
  const consulAddress = o.consulAddress ?? `127.0.0.1:${ports.consulHttp}`;
  const interval = o.scrapeInterval ?? '15s';
  const tag = o.serviceTag ?? 'metrics';
  if (!/^[A-Za-z0-9.-]+:\d+$/.test(consulAddress)) problems.push({ subject: 'consulAddress', message: 'must be host:port' });
  if (!/^\d+[smh]$/.test(interval)) problems.push({ subject: 'scrapeInterval', message: 'must be a duration such as 15s' });
  if (!/^[A-Za-z0-9_-]+$/.test(tag)) problems.push({ subject: 'serviceTag', message: 'must be a plain tag' });
  const fileDir = o.discovery?.kind === 'file' ? o.discovery.dir : undefined;
  for (const [k, v] of Object.entries({
    caFile: o.tls?.caFile,
    certFile: o.tls?.certFile,
    keyFile: o.tls?.keyFile,
    consulTokenFile: o.consulTokenFile,
    'discovery.dir': fileDir,
  })) {
    if (v !== undefined && !v.startsWith('/')) problems.push({ subject: k, message: 'must be an absolute path' });
  }
  if (problems.length > 0) throw new InputError(problems);

  const https = o.tls !== undefined;
  const scheme = https ? 'https' : 'http';
  const tlsConfig: Yaml | undefined =
    o.tls === undefined
      ? undefined
      : {
          ca_file: o.tls.caFile,
          ...(o.tls.certFile === undefined ? {} : { cert_file: o.tls.certFile }),
          ...(o.tls.keyFile === undefined ? {} : { key_file: o.tls.keyFile }),
        };
  const consulAuth: Yaml | undefined = o.consulTokenFile === undefined ? undefined : { type: 'Bearer', credentials_file: o.consulTokenFile };

  const sd = (services: readonly string[], tags: readonly string[] = []): Yaml[] => [
    {
      server: consulAddress,
      scheme: o.consulScheme ?? 'http',
      ...(o.datacenter === undefined ? {} : { datacenter: o.datacenter }),
      ...(services.length > 0 ? { services } : {}),
      ...(tags.length > 0 ? { tags } : {}),
      ...(consulAuth === undefined ? {} : { authorization: consulAuth }),
      ...(tlsConfig === undefined || o.consulScheme !== 'https' ? {} : { tls_config: tlsConfig }),
    },
  ];
  // Name targets by Consul node, and keep the service for people reading graphs.
  const common = [
    { source_labels: ['__meta_consul_node'], target_label: 'node' },
    { source_labels: ['__meta_consul_dc'], target_label: 'datacenter' },
  ];
  const withTls = (job: Yaml): Yaml => ({ ...job, scheme, ...(tlsConfig === undefined ? {} : { tls_config: tlsConfig }) });

  const jobs: Yaml[] = [
    withTls({
      job_name: 'consul',
      metrics_path: '/v1/agent/metrics',
      params: { format: ['prometheus'] },
      ...(consulAuth === undefined ? {} : { authorization: consulAuth }),
      consul_sd_configs: sd([]),
      // Every service of a node maps to the same agent address; Prometheus keeps
      // one target per distinct label set, so each agent is scraped once.
      relabel_configs: [
        {
          source_labels: ['__meta_consul_address'],
          regex: '(.+)',
          replacement: `$1:${https ? ports.consulHttps : (o.consulHttpPort ?? ports.consulHttp)}`,
          target_label: '__address__',
        },
        ...common,
        { source_labels: ['__meta_consul_node'], target_label: 'instance' },
      ],
    }),
    withTls({
      job_name: 'nomad-servers',
      metrics_path: '/v1/metrics',
      params: { format: ['prometheus'] },
      consul_sd_configs: sd(['nomad'], ['http']),
      relabel_configs: [...common],
    }),
    withTls({
      job_name: 'nomad-clients',
      metrics_path: '/v1/metrics',
      params: { format: ['prometheus'] },
      consul_sd_configs: sd(['nomad-client'], ['http']),
      relabel_configs: [...common],
    }),
    withTls({
      job_name: 'vault',
      metrics_path: '/v1/sys/metrics',
      params: { format: ['prometheus'] },
      consul_sd_configs: sd(['vault']),
      relabel_configs: [...common],
    }),
    {
      job_name: 'fabio',
      metrics_path: '/metrics',
      scheme: 'http',
      consul_sd_configs: sd(['fabio']),
      relabel_configs: [
        {
          source_labels: ['__meta_consul_address'],
          regex: '(.+)',
          replacement: `$1:${o.fabioMetricsPort ?? ports.fabioMetrics}`,
          target_label: '__address__',
        },
        ...common,
      ],
    },
    {
      job_name: 'services',
      consul_sd_configs: sd([], [tag]),
      relabel_configs: [
        { source_labels: ['__meta_consul_service'], target_label: 'service' },
        // A service may name its path and scheme in Consul service meta.
        { source_labels: ['__meta_consul_service_metadata_metrics_path'], regex: '(.+)', target_label: '__metrics_path__' },
        { source_labels: ['__meta_consul_service_metadata_metrics_scheme'], regex: '(https?)', target_label: '__scheme__' },
        ...common,
      ],
    },
  ];

  // File discovery: hashiship has already mapped the catalog to targets and labels
  // (targets.ts applies the same rules as the relabelling above).
  const discovered =
    fileDir === undefined
      ? jobs
      : jobs.map((job) => {
          const { consul_sd_configs: _sd, relabel_configs: _relabel, ...rest } = job;
          return { ...rest, file_sd_configs: [{ files: [`${fileDir}/${String(job['job_name'])}.json`] }] };
        });

  const header = [
    '# Prometheus for a hashiship cluster. Generated by hashiship agent-config prometheus.',
    '# Targets come from Consul service discovery; tokens and keys are read from files.',
    '',
  ].join('\n');
  return (
    header +
    stringify(
      {
        global: { scrape_interval: interval, evaluation_interval: interval },
        scrape_configs: discovered,
      },
      { lineWidth: 0, aliasDuplicateObjects: false },
    )
  );
}
