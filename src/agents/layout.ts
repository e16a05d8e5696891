/**
 * Where things live on a cluster machine and which ports they use. Paths follow
 * HashiCorp's Debian packages (`/etc/<name>.d`, `/opt/<name>`), which the boot
 * script installs.
 */

export const paths = {
  consul: { config: '/etc/consul.d', data: '/opt/consul/data', tls: '/etc/consul.d/tls', bin: '/usr/bin/consul' },
  nomad: { config: '/etc/nomad.d', data: '/opt/nomad/data', tls: '/etc/nomad.d/tls', bin: '/usr/bin/nomad' },
  vault: { config: '/etc/vault.d', data: '/opt/vault/data', tls: '/etc/vault.d/tls', bin: '/usr/bin/vault' },
  fabio: { config: '/etc/fabio', bin: '/usr/local/bin/fabio' },
  hashiship: { env: '/etc/hashiship/boot.env', boot: '/usr/local/sbin/hashiship-boot' },
  units: '/etc/systemd/system',
} as const;

/** Every port the agents listen on. */
export const ports = {
  consulServerRpc: 8300,
  consulSerfLan: 8301,
  consulSerfWan: 8302,
  consulHttp: 8500,
  consulHttps: 8501,
  consulDns: 8600,
  nomadHttp: 4646,
  nomadRpc: 4647,
  nomadSerf: 4648,
  vaultApi: 8200,
  vaultCluster: 8201,
  fabioProxy: 9999,
  fabioUi: 9998,
  fabioMetrics: 9102,
} as const;

/**
 * The address agents bind and advertise: go-sockaddr picks the private address of
 * the interface holding the default route (not docker0).
 */
export const nodeAddress = '{{ GetPrivateIP }}';

/** The JWT auth mount and audience Nomad workloads use with Vault. */
export const workloadIdentity = { vaultMount: 'jwt-nomad', vaultAudience: 'vault.io', consulAudience: 'consul.io' } as const;

/** How long Consul keeps metrics for Prometheus; Prometheus must scrape more often. */
export const prometheusRetention = '60s';
